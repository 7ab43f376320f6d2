"""Shared helpers for the kubesim fidelity tests: start an API-only kubesim (no root) in a private
state dir, talk to its REST and admin endpoints, and run real clients with a private HOME."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

BUILD = os.environ.get("FLOATLB_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SRC = os.environ.get("FLOATLB_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
KUBESIM = os.path.join(BUILD, "bin", "kubesim")
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
KUBECTL_132 = "/usr/lib/google-cloud-sdk/bin/kubectl.1.32"
KUBECTL_120 = "/opt/floatlb/kubectl-1.20/kubectl"


def wait_for(pred, timeout, what, step=0.05):
    """Bounded wait on a condition; returns its last truthy value or raises."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))


class Kubesim:
    def __init__(self, nodes=2, extra=()):
        if not os.access(KUBESIM, os.X_OK):
            raise SystemExit("kubesim binary missing: %s (build the kubesim target)" % KUBESIM)
        self.dir = tempfile.mkdtemp(prefix="kubesim-test-")
        self.log = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = subprocess.Popen([KUBESIM, "up", "--no-netns", "--nodes", str(nodes), "--state-dir", self.dir,
                                      "--bookmark-ms", "1000"] + list(extra),
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        envf = os.path.join(self.dir, "kubesim.env")
        wait_for(lambda: os.path.exists(envf) and "KUBESIM_PID" in open(envf).read() or self.proc.poll() is not None,
                 20, "kubesim.env")
        if self.proc.poll() is not None:
            raise SystemExit("kubesim exited: " + open(os.path.join(self.dir, "stderr.log")).read())
        self.env = dict(l.strip().split("=", 1) for l in open(envf) if "=" in l)
        self.url = self.env["KUBESIM_URL"]
        self.admin_url = self.env["KUBESIM_ADMIN"]
        self.kubeconfig = self.env["KUBESIM_KUBECONFIG"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        subprocess.run([KUBESIM, "down", "--state-dir", self.dir], stdout=subprocess.DEVNULL, check=False)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, method, path, body=None, ctype="application/json"):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def admin(self, method, what, body=None):
        req = urllib.request.Request(self.admin_url + what, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def requests(self, since=0):
        return self.admin("GET", "/requests?since=%d" % since)

    def last_seq(self):
        reqs = self.requests()
        return reqs[-1]["seq"] if reqs else 0


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)
