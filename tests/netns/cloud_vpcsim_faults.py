#!/usr/bin/env python3
"""Error/throttle interop between floatlb's EC2 client (flb-ec2 -> Ec2Client) and vpcsim's fault
injection (admin endpoint), API-only (`vpcsim --no-netns`, loopback, no root):
  * RequestLimitExceeded twice, then a 503 once: the client retries with backoff and succeeds on the
    4th attempt (stats and vpcsim's own log both show the four attempts, in that order);
  * a throttle that never ends: the client gives up after RetryPolicy.maxAttempts (5);
  * an injected 400 and a real 400 (bad filter): surfaced with their AWS code, no retry."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_vpcsim_lib import flb_host, require_flb_ec2, run_with_sim, stats  # noqa: E402
from sim_lib import VPCSIM, start_sim, wait_for  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok: {what}")


def log_results(sim, action):
    """vpcsim's log lines for `action`: ["503 RequestLimitExceeded", "200 OK", ...] in order."""
    with open(sim.state_dir + ".log") as f:
        return [f"{m.group(1)} {m.group(2)}" for m in re.finditer(rf"EC2 {action} from \S+ -> (\d+) (\S+)", f.read())]


def run(sim):
    vpc = sim.env["VPCSIM_VPC_ID"]

    # 1. Throttled twice, then 503 once, then served.
    sim.admin("/faults", {"action": "DescribeVpcs", "code": "RequestLimitExceeded", "count": 2})
    sim.admin("/faults", {"action": "DescribeVpcs", "code": "ServiceUnavailable", "http_status": 503, "count": 1})
    t0 = time.monotonic()
    rc, out, err = flb_host(sim, "--stats", "describe-vpcs")
    took = time.monotonic() - t0
    check(rc == 0 and out.split()[0] == vpc, f"describe-vpcs succeeded after the faults ({took:.2f} s): {out.strip()}")
    st = stats(err)
    check(st["calls"] == 1 and st["attempts"] == 4 and st["retries"] == 3, f"client: 1 call, 4 attempts: {st}")
    check(sim.admin("/faults") == [], "all injected faults consumed")
    seen = wait_for("vpcsim logged 4 DescribeVpcs", lambda: (lambda r: r if len(r) >= 4 else None)(
        log_results(sim, "DescribeVpcs")), timeout=5)
    check(seen == ["503 RequestLimitExceeded", "503 RequestLimitExceeded", "503 ServiceUnavailable", "200 OK"],
          f"server saw throttle, throttle, 503, success: {seen}")

    # 2. Throttled forever: bounded retries, the AWS code survives.
    sim.admin("/faults", {"action": "DescribeSubnets", "code": "RequestLimitExceeded", "count": 10})
    rc, out, err = flb_host(sim, "--stats", "describe-subnets")
    st = stats(err)
    check(rc != 0 and "RequestLimitExceeded" in err and "gave up after 5 attempts" in err,
          f"persistent throttling surfaced after 5 attempts: {err.splitlines()[0]}")
    check(st["attempts"] == 5 and st["retries"] == 4, f"client: 5 attempts: {st}")
    sim.admin("/faults", method="DELETE")

    # 3. An injected 400: no retry, code and status surfaced.
    sim.admin("/faults", {"action": "DescribeAddresses", "code": "InvalidParameterValue", "http_status": 400,
                          "message": "injected bad value", "count": 1})
    rc, out, err = flb_host(sim, "--stats", "describe-addresses")
    st = stats(err)
    check(rc != 0 and "InvalidParameterValue: injected bad value (HTTP 400" in err,
          f"injected 400 surfaced with its code: {err.splitlines()[0]}")
    check(st["attempts"] == 1 and st["retries"] == 0, f"client: no retry on 400: {st}")
    # the client is done; wait (bounded) for vpcsim's log line, then it must be the only attempt
    seen = wait_for("vpcsim logged DescribeAddresses", lambda: log_results(sim, "DescribeAddresses"), timeout=5)
    check(seen == ["400 InvalidParameterValue"], f"server saw exactly one attempt: {seen}")

    # 4. A real 400 from the model (unknown filter name): same treatment.
    rc, out, err = flb_host(sim, "--stats", "describe-network-interfaces", "--filter", "no-such-filter=x")
    st = stats(err)
    check(rc != 0 and "InvalidParameterValue" in err and "(HTTP 400" in err,
          f"model's 400 surfaced with its code: {err.splitlines()[0]}")
    check(st["attempts"] == 1, f"client: no retry: {st}")


def main():
    if not os.path.exists(VPCSIM):
        print(f"FAIL: {VPCSIM} not built")
        return 1
    require_flb_ec2()
    sim = start_sim(("--no-netns",))
    if sim is None:
        return 1
    return run_with_sim(sim, lambda: run(sim))


if __name__ == "__main__":
    sys.exit(main())
