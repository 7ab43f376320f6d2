#!/usr/bin/python3
"""The shell tests' one JSON reader (instead of inline `python3 -c` snippets).

  jq.py EXPR [FILE|-] [ARG...]     print EXPR, a Python expression over d (the parsed document)
                                   and a (the list of ARGs); strings print as they are, None as
                                   nothing, lists one item per line, anything else as JSON
  jq.py -t EXPR [FILE|-] [ARG...]  exit 0 when EXPR is true, 1 when false

FILE defaults to stdin. Exit 2 when the document is missing or not JSON, or EXPR fails (a
missing key is an error, not an empty answer). Used through `json`/`json_ok` in tests/netns/lib.sh.
"""
import json
import sys


def main(argv):
    test = len(argv) > 1 and argv[1] == "-t"
    rest = argv[2:] if test else argv[1:]
    if not rest:
        print(__doc__, file=sys.stderr)
        return 2
    expr, src, args = rest[0], (rest[1] if len(rest) > 1 else "-"), rest[2:]
    try:
        d = json.load(sys.stdin) if src == "-" else json.load(open(src))
    except (OSError, ValueError) as e:
        print("jq.py: cannot read JSON from %s: %s" % (src, e), file=sys.stderr)
        return 2
    try:
        # d and a as globals: comprehensions in EXPR have their own scope and see only globals
        v = eval(expr, {"__builtins__": __builtins__, "d": d, "a": args})
    except Exception as e:  # noqa: BLE001 - any failure of the expression is the caller's error
        print("jq.py: %s: %s: %s" % (expr, type(e).__name__, e), file=sys.stderr)
        return 2
    if test:
        return 0 if v else 1
    if v is None:
        return 0
    if isinstance(v, str):
        print(v)
    elif isinstance(v, list) and all(isinstance(x, (str, int, float)) for x in v):
        for x in v:
            print(x)
    else:
        print(json.dumps(v))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
