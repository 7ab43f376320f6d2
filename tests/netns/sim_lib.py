"""Helpers for the vpcsim netns tests: start/stop vpcsim, run awscli against it, bounded polling."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

BUILD = os.environ.get("FLOATLB_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
SRC = os.environ.get("FLOATLB_SRC", os.path.join(os.path.dirname(__file__), "../.."))
VPCSIM = os.path.join(BUILD, "bin", "vpcsim")


def require_root():
    if os.geteuid() != 0:
        print("SKIP: needs root (builds network namespaces)")
        sys.exit(77)
    if not os.path.exists(VPCSIM):
        print(f"FAIL: {VPCSIM} not built")
        sys.exit(1)


class Sim:
    def __init__(self, extra_args=()):
        self.prefix = f"flbsim{os.getpid() % 100000}-"
        self.state_dir = f"/tmp/vpcsim-{self.prefix}"
        try:
            out = subprocess.run([VPCSIM, "up", "--topology", os.path.join(SRC, "topologies/seed.json"),
                                  "--prefix", self.prefix, "--latency=zero", "--daemon", *extra_args],
                                 capture_output=True, text=True, timeout=90)
        except subprocess.TimeoutExpired as e:
            self.down()  # a half-built world (namespaces, a daemon) must not outlive the failed start
            raise RuntimeError(f"vpcsim up did not finish in {e.timeout} s") from e
        if out.returncode != 0:
            self.down()
            raise RuntimeError(f"vpcsim up failed: {out.stdout}{out.stderr}")
        self.env = {}
        for line in out.stdout.splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                self.env[k] = v
        self.endpoint = self.env["VPCSIM_EC2_ENDPOINT"]

    def down(self, keep_log=True):
        """Tears the world down; keep_log=False (a passing test) also removes the state dir and the
        daemon's log, which are only worth keeping for a failure's post-mortem."""
        subprocess.run([VPCSIM, "down", "--prefix", self.prefix], capture_output=True, timeout=60)
        if not keep_log:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            try:
                os.unlink(self.state_dir + ".log")
            except FileNotFoundError:
                pass

    def aws_env(self, **over):
        e = dict(os.environ)
        e.update(AWS_ACCESS_KEY_ID=self.env["VPCSIM_ACCESS_KEY"], AWS_SECRET_ACCESS_KEY=self.env["VPCSIM_SECRET_KEY"],
                 AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1", AWS_RETRY_MODE="standard",
                 AWS_DEFAULT_OUTPUT="json", AWS_PAGER="")
        e.pop("AWS_PROFILE", None)
        e.update(over)
        return e

    def aws(self, *args, cli="aws", **env_over):
        """Runs `aws ec2 <args>`; returns (json_or_None, error_code_or_None)."""
        cmd = [cli, "--endpoint-url", self.endpoint, "--region", self.env["VPCSIM_REGION"], "ec2", *args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=self.aws_env(**env_over))
        if p.returncode == 0:
            return (json.loads(p.stdout) if p.stdout.strip() else {}), None
        m = re.search(r"An error occurred \(([^)]+)\)", p.stderr)
        if not m:
            raise AssertionError(f"unparseable awscli failure for {args}: rc={p.returncode} {p.stderr}")
        return None, m.group(1)

    def admin(self, path, body=None, method=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.env["VPCSIM_ADMIN"] + path, data=data, method=method or
                                     ("POST" if data is not None else "GET"))
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def ns(self, name):
        return self.env["VPCSIM_NS_" + name.upper().replace("-", "_")]

    def sh(self, ns, cmd, check=True, timeout=30):
        p = subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", cmd], capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"[{ns}] {cmd}: rc={p.returncode} {p.stdout}{p.stderr}")
        return p.stdout.strip()


def wait_for(what, fn, timeout=20.0, interval=0.2):
    """Polls fn() until it returns a truthy value; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last={last!r})")


def run_with_sim(sim, body):
    """Runs body(); prints PASS/FAIL (with the vpcsim log path, kept only on failure); always tears
    the simulator down."""
    try:
        body()
    except Exception:
        traceback.print_exc()
        sim.down(keep_log=True)
        print(f"FAIL (vpcsim log: {sim.state_dir}.log)")
        return 1
    sim.down(keep_log=False)
    print("PASS")
    return 0


def start_sim(extra_args=()):
    """Sim(extra_args), or None after printing FAIL (Sim() has already torn a half-built world down)."""
    try:
        return Sim(extra_args)
    except RuntimeError as e:
        print(f"FAIL: {e}")
        return None


def run_with_servers(sim, run):
    """run(sim, tmpdir, procs) inside run_with_sim; the processes it appends to procs (servers it
    started) are stopped afterwards, by PID, whatever happened."""
    def body():
        procs = []
        with tempfile.TemporaryDirectory() as tmp:
            try:
                run(sim, tmp, procs)
            finally:
                for p in procs:
                    p.terminate()
                    try:
                        p.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        p.kill()
    return run_with_sim(sim, body)
