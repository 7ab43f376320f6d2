#!/usr/bin/python3
"""bench/operator: kube-floatlb against kubesim (--no-netns) and two fake floatlb REST servers.

For N Services: create (API POST) -> rule on both instances, -> status written; an endpoint move
(the endpoint goes to the other node) -> new rule on both; an operator restart (kill -9) with the
instance tables kept (nothing may be written) and wiped (every rule back, none deleted); API and
instance requests per minute at rest.

Two endpoint sources:
  pods    a Pod selected by every Service; kubesim's endpoints controller writes the slices and a
          move is the Pod re-created on the other node (one event moves all N Services).
  slices  selector-less Services whose EndpointSlice the bench writes itself, as an endpoint
          controller (or the EndpointSlice mirroring of a manual Endpoints) would; a move is a PUT of
          each Service's slice, timed per Service. Used for large N because kubesim re-runs its
          endpoints controller over every Service and slice after every write (O(N^2) per write:
          ~350 ms per write at 200 Services on this machine), which would measure kubesim, not the
          operator.

Usage: run.py [N[:pods|slices] ...]   (default: 1:pods 1:slices 500:slices)"""
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "operator"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "kubesim"))
from operator_kubesim import Operator, pod, svc, op_requests  # noqa: E402
from fake_loxilb import FakeLoxilb  # noqa: E402
from kslib import Kubesim, wait_for  # noqa: E402

NS = "/api/v1/namespaces/default"
SLICES = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def endpoint_slice(name, node, ip):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name + "-bench", "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4", "ports": [{"name": "", "port": 80, "protocol": "TCP"}],
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True, "serving": True, "terminating": False},
                           "nodeName": node}]}


def node_ips(ks):
    _, nodes = ks.request("GET", "/api/v1/nodes")
    return {n["metadata"]["name"]: [a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP"][0]
            for n in nodes["items"]}


def in_background(fn):
    """Runs the bench's writes on their own thread, so wait_rules() polls while they are issued:
    each Service's latency then starts at its own write, not at the end of the whole write loop."""
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    return t


def wait_rules(lbs, pending, done, t_start, pred, deadline, ks=None, status=None):
    """Polls both instances (every 20 ms) until pred(rule) holds on both for every name in pending;
    with ks/status, also the Services' status (every 250 ms: a LIST of N Services costs the bench
    process, which also serves the fake instances, tens of ms of CPU). A name whose write has not
    been issued yet (not in t_start) is not checked yet."""
    next_status = 0
    while (pending or (status is not None and len(status) < len(t_start))) and time.monotonic() < deadline:
        now = time.monotonic()
        have = [{r["serviceArguments"]["name"]: r for r in list(l.rules.values())} for l in lbs]
        for name in list(pending):
            if name not in t_start:
                continue
            rn = "default_%s:llb-inst0" % name
            if all(rn in h and pred(h[rn]) for h in have):
                done[name] = now - t_start[name]
                pending.discard(name)
        if status is not None and now >= next_status and len(status) < len(t_start):
            next_status = now + 0.25
            _, lst = ks.request("GET", NS + "/services")
            for o in lst["items"]:
                nm = o["metadata"]["name"]
                if nm not in t_start:
                    continue
                if nm in t_start and nm not in status and o.get("status", {}).get("loadBalancer", {}).get("ingress"):
                    status[nm] = now - t_start[nm]
        time.sleep(0.02)


def run(n, mode):
    ks = Kubesim(nodes=2)
    lbs = [FakeLoxilb(), FakeLoxilb()]
    op = None
    try:
        op = Operator(ks, lbs, ks.kubeconfig, ["--setUniqueIP"], external_cidr="198.18.0.1-198.18.3.254")
        ips = node_ips(ks)
        node_a, node_b = sorted(ips)
        names = ["s%03d" % i for i in range(n)]
        if mode == "pods":
            ks.request("POST", NS + "/pods", pod("web", "web", node_a))
        t_create = {}

        def create_all():
            for i, name in enumerate(names):
                s = svc(name, 80, etp="Local", selector="web")
                if mode == "slices":
                    del s["spec"]["selector"]
                t_create[name] = time.monotonic()
                ks.request("POST", NS + "/services", s)
                if mode == "slices":
                    ks.request("POST", SLICES, endpoint_slice(name, node_a, "10.1.0.%d" % (2 + (i + 1) % 250)))
        writer = in_background(create_all)
        rule_t, status_t = {}, {}
        wait_rules(lbs, set(names), rule_t, t_create, lambda r: r["endpoints"], time.monotonic() + 300, ks, status_t)
        writer.join()
        rows = [("create -> rule on both", list(rule_t.values())), ("create -> status written", list(status_t.values()))]
        # Endpoint move to the other node.
        t_move, moved = {}, {}
        if mode == "pods":
            ks.request("DELETE", NS + "/pods/web", {"gracePeriodSeconds": 0})
            wait_for(lambda: all(not any(r["endpoints"] for r in list(l.rules.values())) for l in lbs), 60,
                     "rules emptied with the pod")
            t0 = time.monotonic()
            ks.request("POST", NS + "/pods", pod("web", "web", node_b))
            t_move = {nm: t0 for nm in names}
            writer = None
        else:
            def move_all():
                for name in names:
                    _, cur = ks.request("GET", SLICES + "/" + name + "-bench")
                    cur["endpoints"][0]["nodeName"] = node_b
                    t_move[name] = time.monotonic()
                    ks.request("PUT", SLICES + "/" + name + "-bench", cur)
            writer = in_background(move_all)
        wait_rules(lbs, set(names), moved, t_move,
                   lambda r: r["endpoints"] and r["endpoints"][0]["endpointIP"] == ips[node_b], time.monotonic() + 60)
        if writer:
            writer.join()
        rows.append(("endpoint move -> new rule on both", list(moved.values())))
        # At rest.
        time.sleep(3)
        since, marks = ks.last_seq(), [len(l.log) for l in lbs]
        time.sleep(20)
        at_rest = len(op_requests(ks, since)) * 3
        lb_rest = sum(len(l.log) - m for l, m in zip(lbs, marks)) * 3 // len(lbs)
        # Restart with the instance tables kept: nothing to write anywhere.
        since, marks = ks.last_seq(), [len(l.log) for l in lbs]
        op.kill9()
        t0 = time.monotonic()
        op.start()
        wait_for(lambda: op.metric("kube_floatlb_reconciles_total") and
                 op.metric("kube_floatlb_reconciles_total") >= n and op.metric("kube_floatlb_queue_depth") == 0,
                 60, "every Service reconciled after the restart", step=0.05)
        kept = time.monotonic() - t0
        time.sleep(2)
        kept_writes = [r for r in op_requests(ks, since) if r["method"] in WRITES]
        kept_lb = sum(l.count("POST", "/netlox/v1/config/loadbalancer", since=m) + l.count("DELETE", since=m)
                      for l, m in zip(lbs, marks))
        # Restart from scratch: kill -9, wipe both instance tables, time until all rules are back.
        marks = [len(l.log) for l in lbs]
        op.kill9()
        for l in lbs:
            with l.lock:
                l.rules.clear()
        t0 = time.monotonic()
        op.start()
        wait_for(lambda: all(len(l.rules) == n for l in lbs), 120, "all rules back", step=0.02)
        restart = time.monotonic() - t0
        deletes = sum(l.count("DELETE", since=m) for l, m in zip(lbs, marks))
        print("\n## %d Service(s), endpoints from %s\n" % (n, mode))
        print("| measure | n | median ms | p99 ms | max ms | kube-loxilb (design) |\n|---|---|---|---|---|---|")
        kl = {"create -> rule on both": "1 worker, serial REST calls",
              "create -> status written": "after the rule (status polled every 250 ms)",
              "endpoint move -> new rule on both": "up to 60 000 (slices not watched: 60 s resync)"}
        for label, v in rows:
            if v:
                print("| %s | %d | %.0f | %.0f | %.0f | %s |" % (label, len(v), statistics.median(v) * 1000,
                                                               pct(v, 99) * 1000, max(v) * 1000, kl[label]))
            else:
                print("| %s | 0 | - | - | - | %s |" % (label, kl[label]))
        print("\n- restart, instance tables kept: every Service reconciled in %.2f s; API writes %d, rule POST/DELETE %d"
              % (kept, len(kept_writes), kept_lb))
        print("- restart, instance tables wiped: %d rules back on both in %.2f s; DELETEs %d "
              "(kube-loxilb: re-pushes on its 2 s instance probe, exits after 5 failed tries)" % (n, restart, deletes))
        print("- at rest: %d API requests/min, %d requests/min per instance (probe 2 s + drift list every --lb-check=2s)"
              % (at_rest, lb_rest))
        sys.stdout.flush()
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
    args = sys.argv[1:] or ["1:pods", "1:slices", "500:slices"]
    for a in args:
        n, _, mode = a.partition(":")
        run(int(n), mode or "slices")
