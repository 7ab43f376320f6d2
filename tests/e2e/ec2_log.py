#!/usr/bin/python3
"""Counts a takeover's serial EC2 calls from vpcsim's own request log, independently of floatlb's
timeline (which the code under test writes itself).

  ec2_log.py serial LOG CLIENT_IP SINCE_WALL_MS [UNTIL_ACTION]
      prints the number of serial EC2 requests vpcsim received from CLIENT_IP at or after
      SINCE_WALL_MS, up to and including the first successful UNTIL_ACTION (default
      AssociateAddress: the call that brings the EIP's traffic back). Requests that arrived while
      an earlier one was still being answered run concurrently and count once. Exit 1 when
      UNTIL_ACTION never succeeded.
  ec2_log.py list LOG CLIENT_IP SINCE_WALL_MS
      every request of CLIENT_IP since SINCE_WALL_MS: arrival offset, action, status, latency.

vpcsim logs each EC2 request when it has been handled, before its simulated latency is served:
"<ISO time>Z ... EC2 <Action> from <ip> -> <http status> <code> (<latency> ms)".
"""
import datetime
import re
import sys

LINE = re.compile(r"^(\S+Z)\s.*\bEC2 (\w+) from ([0-9.]+) -> (\d+) (\S+) \((\d+) ms\)")


def requests(path, client, since_ms):
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m or m.group(3) != client:
                continue
            ts = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ")
            ms = int(ts.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
            if ms >= since_ms:
                out.append({"ms": ms, "action": m.group(2), "status": int(m.group(4)), "code": m.group(5),
                            "latency": int(m.group(6))})
    return out


def main(argv):
    if len(argv) < 5 or argv[1] not in ("serial", "list"):
        print(__doc__, file=sys.stderr)
        return 2
    reqs = requests(argv[2], argv[3], int(argv[4]))
    if argv[1] == "list":
        for r in reqs:
            print("%+7d ms %-32s %d %s (%d ms)" % (r["ms"] - int(argv[4]), r["action"], r["status"], r["code"],
                                                  r["latency"]))
        return 0
    until = argv[5] if len(argv) > 5 else "AssociateAddress"
    steps, busy_until, done = 0, None, False
    for r in reqs:
        if busy_until is None or r["ms"] >= busy_until:
            steps += 1  # a new serial step: the previous answer was out before this request came
            busy_until = r["ms"] + r["latency"]
        else:
            busy_until = max(busy_until, r["ms"] + r["latency"])
        if r["action"] == until and r["status"] == 200:
            done = True
            break
    print(steps)
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
