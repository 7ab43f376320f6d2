#!/usr/bin/python3
"""Unit test of the traffic tool the HA tests trust (sessions.py): outages, including one still
open at the end, and the hold verdict. Loopback only, no root, a few seconds."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sessions  # noqa: E402

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sessions.py")


class Outages(unittest.TestCase):
    def test_closed_outage_runs_from_last_success_to_first_success(self):
        ev = [(0.0, True), (0.1, False), (0.2, False), (0.3, True)]
        self.assertEqual([round(x) for x in sessions.outages_ms(ev)], [300])

    def test_outage_still_open_at_the_end_counts_up_to_the_last_probe(self):
        ev = [(0.0, True), (0.1, True), (0.2, False), (1.5, False)]
        self.assertEqual([round(x) for x in sessions.outages_ms(ev)], [1400])

    def test_never_up_is_one_outage_over_the_whole_run(self):
        self.assertEqual([round(x) for x in sessions.outages_ms([(1.0, False), (3.0, False)])], [2000])

    def test_failures_before_the_first_success(self):
        self.assertEqual([round(x) for x in sessions.outages_ms([(1.0, False), (1.25, True)])], [250])

    def test_no_failures_no_outage(self):
        self.assertEqual(sessions.outages_ms([(0.0, True), (0.1, True)]), [])


def echo_server():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    conns = []

    def loop():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            conns.append(c)
            threading.Thread(target=lambda c=c: [c.sendall(x) for x in iter(lambda: c.recv(64), b"")],
                             daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return srv, conns


class Tool(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def run_tool(self, *args, timeout=20):
        return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True, timeout=timeout)

    def test_probe_against_a_server_killed_partway_reports_the_open_outage(self):
        # the audit's reproduction: a server that dies and never comes back
        srv, conns = echo_server()
        out = os.path.join(self.d, "p.json")
        p = subprocess.Popen([sys.executable, TOOL, "probe", "--target", "127.0.0.1:%d" % srv.getsockname()[1],
                              "--interval", "0.01", "--duration", "1.5", "--out", out])
        deadline = time.monotonic() + 10
        while not os.path.exists(out + ".ready") and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # some successes first: a time span, not a condition
        srv.close()
        for c in conns:
            c.close()
        p.wait(timeout=20)
        with open(out) as f:
            d = json.load(f)
        self.assertGreater(d["ok"], 0, d)
        self.assertFalse(d["ended_ok"], d)
        self.assertGreater(d["max_outage_ms"], 500, d)

    def hold_report(self, **over):
        d = {"sessions": 3, "opened": 3, "failed": 0, "errors": [], "ended_by_stop": 3, "ended_early": 0,
             "stop_file_ended_run": True, "echoed": 30, "min_echoed": 10, "max_gap_ms": 120.0}
        d.update(over)
        path = os.path.join(self.d, "h.json")
        with open(path, "w") as f:
            json.dump(d, f)
        return self.run_tool("verify", "--out", path, "--count", "3", "--max-gap-ms", "1000")

    def test_verify_accepts_a_clean_run(self):
        self.assertEqual(self.hold_report().returncode, 0)

    def test_verify_fails_on_each_problem(self):
        cases = {"fewer opened": {"opened": 2}, "a failure": {"failed": 1, "errors": ["reset"]},
                 "ended early": {"ended_by_stop": 2, "ended_early": 1, "stop_file_ended_run": False},
                 "long pause": {"max_gap_ms": 1500.0}, "other count": {"sessions": 50}}
        for what, over in cases.items():
            r = self.hold_report(**over)
            self.assertEqual(r.returncode, 1, what)
            self.assertIn("sessions:", r.stdout, what)

    def test_hold_ended_by_duration_is_early_and_by_stop_file_is_not(self):
        srv, _ = echo_server()
        target = "127.0.0.1:%d" % srv.getsockname()[1]
        out = os.path.join(self.d, "early.json")
        self.assertEqual(self.run_tool("hold", "--target", target, "--count", "2", "--interval", "0.05",
                                       "--duration", "0.5", "--out", out, "--stop-file", out + ".stop").returncode, 0)
        self.assertEqual(self.run_tool("verify", "--out", out, "--count", "2", "--max-gap-ms", "1000").returncode, 1)
        out2 = os.path.join(self.d, "stopped.json")
        p = subprocess.Popen([sys.executable, TOOL, "hold", "--target", target, "--count", "2", "--interval", "0.05",
                              "--duration", "30", "--out", out2, "--stop-file", out2 + ".stop"])
        deadline = time.monotonic() + 10
        while not os.path.exists(out2 + ".ready") and time.monotonic() < deadline:
            time.sleep(0.01)
        open(out2 + ".stop", "w").close()
        p.wait(timeout=20)
        r = self.run_tool("verify", "--out", out2, "--count", "2", "--max-gap-ms", "1000")
        self.assertEqual(r.returncode, 0, r.stdout)
        srv.close()


if __name__ == "__main__":
    unittest.main()
