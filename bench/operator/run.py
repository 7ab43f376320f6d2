#!/usr/bin/python3
"""bench/operator: kube-floatlb against kubesim (--no-netns) and two fake floatlb REST servers.
Measures, for N Services: create (API POST) -> rule on both instances, -> status written; an endpoint
move (pod re-created on the other node) -> new rule; an operator restart (kill -9, instance tables
wiped) -> every rule back; API requests per minute at rest. Usage: run.py [N ...] (default 1 500)."""
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "operator"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "kubesim"))
from operator_kubesim import Operator, pod, svc, op_requests  # noqa: E402
from fake_loxilb import FakeLoxilb  # noqa: E402
from kslib import Kubesim, wait_for  # noqa: E402


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def run(n):
    ks = Kubesim(nodes=2)
    lbs = [FakeLoxilb(), FakeLoxilb()]
    op = None
    try:
        op = Operator(ks, lbs, ks.kubeconfig, ["--setUniqueIP"],
                      external_cidr="198.18.0.1-198.18.3.254")
        ks.request("POST", "/api/v1/namespaces/default/pods", pod("web", "web"))
        t_create, names = {}, []
        for i in range(n):
            name = "s%03d" % i
            names.append(name)
            t_create[name] = time.monotonic()
            ks.request("POST", "/api/v1/namespaces/default/services", svc(name, 80, etp="Local", selector="web"))
        rule_t, status_t = {}, {}
        deadline = time.monotonic() + 120
        while (len(rule_t) < n or len(status_t) < n) and time.monotonic() < deadline:
            now = time.monotonic()
            have = [set(l.names()) for l in lbs]
            for name in names:
                rn = "default_%s:llb-inst0" % name
                if name not in rule_t and all(rn in h for h in have):
                    rule_t[name] = now - t_create[name]
            if len(status_t) < n:
                _, lst = ks.request("GET", "/api/v1/namespaces/default/services")
                for o in lst["items"]:
                    nm = o["metadata"]["name"]
                    if nm in t_create and nm not in status_t and o.get("status", {}).get("loadBalancer", {}).get("ingress"):
                        status_t[nm] = now - t_create[nm]
            time.sleep(0.02)
        rows = [("create->rule on both", list(rule_t.values())), ("create->status", list(status_t.values()))]
        # Endpoint move: the pod re-created on the other node.
        _, p = ks.request("GET", "/api/v1/namespaces/default/pods/web")
        host = p["spec"]["nodeName"]
        _, nodes = ks.request("GET", "/api/v1/nodes")
        other = [x for x in nodes["items"] if x["metadata"]["name"] != host][0]
        other_ip = [a["address"] for a in other["status"]["addresses"] if a["type"] == "InternalIP"][0]
        ks.request("DELETE", "/api/v1/namespaces/default/pods/web", {"gracePeriodSeconds": 0})
        wait_for(lambda: all(not l.names() for l in lbs), 30, "rules gone with the pod")
        t0 = time.monotonic()
        ks.request("POST", "/api/v1/namespaces/default/pods",
                   pod("web", "web", other["metadata"]["labels"]["kubernetes.io/hostname"]))
        moved = {}
        while len(moved) < n and time.monotonic() < t0 + 60:
            for l in lbs:
                pass
            have = lbs[1].rules.copy()
            for r in have.values():
                nm = r["serviceArguments"]["name"]
                if nm not in moved and r["endpoints"] and r["endpoints"][0]["endpointIP"] == other_ip and \
                        lbs[0].rule(nm):
                    moved[nm] = time.monotonic() - t0
            time.sleep(0.02)
        rows.append(("endpoint move->new rule", list(moved.values())))
        # At rest.
        time.sleep(2)
        since = ks.last_seq()
        time.sleep(20)
        at_rest = len(op_requests(ks, since)) * 3
        # Restart from scratch: kill -9, wipe both instance tables, start, time until all rules back.
        marks = [len(l.log) for l in lbs]
        op.kill9()
        for l in lbs:
            l.rules.clear()
        t0 = time.monotonic()
        op.start()
        wait_for(lambda: all(len(l.names()) == n for l in lbs), 120, "all rules back", step=0.05)
        restart = time.monotonic() - t0
        deletes = sum(l.count("DELETE", since=m) for l, m in zip(lbs, marks))
        print("\n## %d Service(s)\n" % n)
        print("| measure | n | median ms | p99 ms | max ms |\n|---|---|---|---|---|")
        for label, v in rows:
            if v:
                print("| %s | %d | %.0f | %.0f | %.0f |" % (label, len(v), statistics.median(v) * 1000,
                                                          pct(v, 99) * 1000, max(v) * 1000))
        print("\nrestart (kill -9, instance tables wiped) -> %d rules on both: %.2f s, DELETEs: %d" %
              (n, restart, deletes))
        print("API requests per minute at rest (20 s x 3): %d" % at_rest)
    except AssertionError:
        if op:
            print("operator log tail:\n" + open(op.log_path).read()[-4000:])
        raise
    finally:
        if op:
            op.stop()
        for l in lbs:
            l.close()
        ks.close()


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [1, 500]:
        run(n)
