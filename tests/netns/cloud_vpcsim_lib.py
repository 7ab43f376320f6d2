"""Helpers for the cloud <-> vpcsim integration tests: run flb-ec2 (our AWS client library) either
inside an instance namespace (IMDS identity + instance-role credentials, EC2 at the VPC endpoint) or
on the host with the simulator's static keys, and parse its output."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sim_lib import BUILD, run_with_sim  # noqa: E402,F401  (run_with_sim re-exported)

FLB_EC2 = os.path.join(BUILD, "bin", "flb-ec2")


def require_flb_ec2():
    if not os.path.exists(FLB_EC2):
        print(f"FAIL: {FLB_EC2} not built")
        sys.exit(1)


def _run(cmd, env, timeout):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


def flb_in_instance(sim, ns, *args, timeout=90):
    """flb-ec2 inside an instance namespace, configured as on EC2: no keys, no region (IMDS gives
    both), only the EC2 endpoint from vpcsim's env file. Returns (rc, stdout, stderr)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "AWS_ENDPOINT_URL_EC2": sim.env["VPCSIM_VPC_ENDPOINT"]}
    return _run(["ip", "netns", "exec", ns, "env", "-i", *[f"{k}={v}" for k, v in env.items()], FLB_EC2, *args],
                None, timeout)


def flb_host(sim, *args, timeout=90):
    """flb-ec2 on the host against the root listener with the simulator's static keys."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "AWS_ACCESS_KEY_ID": sim.env["VPCSIM_ACCESS_KEY"],
           "AWS_SECRET_ACCESS_KEY": sim.env["VPCSIM_SECRET_KEY"],
           "AWS_REGION": sim.env["VPCSIM_REGION"],
           "AWS_ENDPOINT_URL_EC2": sim.endpoint,
           # Never reach for a real metadata service from the host (keys and region are set anyway).
           "AWS_EC2_METADATA_SERVICE_ENDPOINT": sim.env["VPCSIM_IMDS_ROOT"]}
    return _run([FLB_EC2, *args], env, timeout)


def ok(result, what):
    rc, out, err = result
    if rc != 0:
        raise AssertionError(f"{what}: flb-ec2 rc={rc}\n{out}{err}")
    return out


def stats(stderr):
    """Parses flb-ec2 --stats ("stats calls=1 attempts=4 retries=3 ...") into a dict of ints."""
    for line in stderr.splitlines():
        if line.startswith("stats "):
            return {k: int(v) for k, v in (kv.split("=", 1) for kv in line.split()[1:])}
    raise AssertionError(f"no stats line in {stderr!r}")


def parse_imds(out):
    """flb-ec2 imds output -> {"instance-id":..,"az":..,"region":..,"enis":[{..}],"credentials":{..}}."""
    info = {"enis": []}
    for line in out.splitlines():
        head, _, rest = line.partition(" ")
        if head in ("instance-id", "az", "region"):
            info[head] = rest.strip()
        elif head in ("eni", "credentials"):
            fields = {}
            for kv in rest.split():
                k, _, v = kv.partition("=")
                fields.setdefault(k, []).append(v)
            flat = {k: (v if k in ("ip", "sg") else v[0]) for k, v in fields.items()}
            if head == "eni":
                info["enis"].append(flat)
            else:
                info["credentials"] = flat
    return info


def parse_steps(out):
    """flb-ec2 takeover output -> [(action, rest_of_line)] in order."""
    steps = []
    for line in out.splitlines():
        parts = line.split(None, 1)
        if parts:
            steps.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return steps
