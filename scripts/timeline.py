#!/usr/bin/env python3
"""Prints a floatlb cloud takeover timeline (GET /netlox/v1/config/cloud/timeline, JSON on stdin)
as a table: every EC2 call with its start offset from the detection, latency and outcome, whether
it was on the critical path (before traffic was restored), and the summary."""
import datetime
import json
import sys


def main() -> int:
    try:
        t = json.load(sys.stdin)
    except json.JSONDecodeError as e:
        print(f"timeline: not JSON ({e})", file=sys.stderr)
        return 1
    if not t:
        print("no takeover yet")
        return 0
    when = datetime.datetime.fromtimestamp(t["detectedWallMs"] / 1000, datetime.timezone.utc)
    print(f"takeover: {t['reason']}, detected {when:%H:%M:%S.%f}"[:-3] + " UTC")
    print(f"{'#':>3} {'start ms':>8} {'took ms':>7}  {'path':<9} {'EC2 call':<32} {'target':<28} result")
    for i, c in enumerate(t["calls"], 1):
        path = "critical" if c["critical"] else "deferred"
        if c.get("concurrent"):
            path = "parallel"
        kind = " (poll)" if c.get("poll") else ""
        result = "ok" if c["ok"] else c.get("error", "failed")[:60]
        if c.get("attempts", 1) > 1:
            result += f" after {c['attempts']} attempts"
        print(f"{i:>3} {c['startMs']:>8} {c['latencyMs']:>7}  {path:<9} {c['action'] + kind:<32} "
              f"{c['target'][:28]:<28} {result}")
    if t.get("restoredMs") is None:
        print(f"in progress: {len(t['calls'])} EC2 calls so far" + (f"; last error: {t['error']}" if t["error"] else ""))
        return 0
    print(f"traffic restored after {t['restoredMs']} ms ({t['criticalSerialCalls']} serial EC2 calls on the "
          f"critical path: {t['criticalMutations']} mutating, {t['criticalPolls']} waiter polls); "
          f"converged after {t['doneMs']} ms in {t['cycles']} cycle(s)"
          + ("" if t["converged"] else f"; NOT converged: {t['error']}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
