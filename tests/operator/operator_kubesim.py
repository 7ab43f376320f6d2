#!/usr/bin/python3
"""kube-floatlb against kubesim (--no-netns, no root) and two fake floatlb REST servers: the
reference's §4.2 failure cases that need a real API server. The operator talks HTTPS with an exec
credential plugin (token rotation => 401 => plugin re-run). Every wait is bounded."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "kubesim"))
sys.path.insert(0, HERE)
from kslib import BUILD, FIXTURES, KUBECTL_132, Kubesim, check, wait_for  # noqa: E402
from fake_loxilb import FakeLoxilb  # noqa: E402

OPERATOR = os.path.join(BUILD, "bin", "kube-floatlb")
EIP = "198.18.100.10"
RULE = "default_nginx-lb1:llb-inst0"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Operator:
    def __init__(self, ks, lbs, kubeconfig, extra=(), name="op", external_cidr=EIP + "/32"):
        self.port = free_port()
        self.log_path = os.path.join(ks.dir, name + ".log")
        self.args = [OPERATOR, "--kubeconfig=" + kubeconfig, "--loxiURL=" + ",".join(l.url for l in lbs),
                     "--externalCIDR=" + external_cidr, "--privateCIDR=192.168.248.254/32", "--setRoles=0.0.0.0",
                     "--setLBMode=2", "--lb-check=2s", "--http-bind=127.0.0.1:%d" % self.port] + list(extra)
        self.start()

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=self.log)
        wait_for(lambda: self.healthy() or self.proc.poll() is not None, 20, "operator /healthz")
        check(self.proc.poll() is None, "operator exited: " + open(self.log_path).read()[-2000:])

    def healthy(self):
        try:
            import urllib.request
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.port, timeout=1) as r:
                return r.status == 200
        except Exception:
            return False

    def metrics(self):
        import urllib.request
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port, timeout=2) as r:
            return r.read().decode()

    def metric(self, name):
        try:
            text = self.metrics()
        except Exception:
            return None
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def svc(name, port, annotations=None, etp="Local", selector="nginx-test"):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"type": "LoadBalancer", "loadBalancerClass": "loxilb.io/loxilb", "externalTrafficPolicy": etp,
                     "selector": {"what": selector}, "ports": [{"port": port, "targetPort": 80}]}}


def pod(name, label, node=None):
    p = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"what": label}},
         "spec": {"containers": [{"name": "c", "image": "nginx:stable", "ports": [{"containerPort": 80}]}]}}
    if node:
        p["spec"]["nodeSelector"] = {"kubernetes.io/hostname": node}
    return p


def get(ks, name):
    code, obj = ks.request("GET", "/api/v1/namespaces/default/services/" + name)
    return obj if code == 200 else None


def ingress(ks, name):
    o = get(ks, name)
    return (o or {}).get("status", {}).get("loadBalancer", {}).get("ingress")


def events(ks, reason):
    _, lst = ks.request("GET", "/api/v1/namespaces/default/events")
    return [e for e in lst.get("items", []) if e.get("reason") == reason]


def op_requests(ks, since):
    return [r for r in ks.requests(since) if r.get("ua", r.get("userAgent", "")).startswith("kube-floatlb")]


def node_ip_of_pod(ks, name):
    _, p = ks.request("GET", "/api/v1/namespaces/default/pods/" + name)
    return p.get("status", {}).get("hostIP")


def main():
    if not os.access(OPERATOR, os.X_OK):
        print("SKIP: %s not built" % OPERATOR)
        return 77
    ks = Kubesim(nodes=2)
    lbs = [FakeLoxilb(), FakeLoxilb()]
    ops = []
    results = []
    try:
        # Exec credential plugin over HTTPS: prints the token in cur_token; the test rotates it.
        admin_token = open(ks.env["KUBESIM_TOKEN_FILE"]).read().strip()
        tokdir = tempfile.mkdtemp(prefix="kfl-exec-", dir=ks.dir)
        cur = os.path.join(tokdir, "cur_token")
        open(cur, "w").write("op-token-1")
        with open(os.path.join(ks.dir, "tokens"), "a") as f:
            f.write("op-token-1,kube-floatlb,system:masters\n")
        plugin = os.path.join(tokdir, "plugin.sh")
        runs = os.path.join(tokdir, "runs")
        open(plugin, "w").write(
            "#!/bin/sh\necho run >> %s\nprintf '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
            "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%%s\",\"expirationTimestamp\":"
            "\"2099-01-01T00:00:00Z\"}}' \"$(cat %s)\"\n" % (runs, cur))
        os.chmod(plugin, 0o755)
        kc = os.path.join(tokdir, "kubeconfig")
        open(kc, "w").write(
            "apiVersion: v1\nkind: Config\ncurrent-context: k\nclusters:\n- name: c\n  cluster:\n"
            "    server: %s\n    certificate-authority: %s\ncontexts:\n- name: k\n  context: {cluster: c, user: u}\n"
            "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
            "      command: ./plugin.sh\n      args: []\n" % (ks.env["KUBESIM_HTTPS_URL"], ks.env["KUBESIM_CA"]))
        del admin_token
        op = Operator(ks, lbs, kc)
        ops.append(op)
        home = os.path.join(ks.dir, "home")
        os.makedirs(home, exist_ok=True)
        kenv = dict(os.environ, HOME=home, KUBECONFIG=ks.kubeconfig)

        def kubectl(*args):
            return subprocess.run([KUBECTL_132] + list(args), env=kenv, capture_output=True, text=True, timeout=30)

        def case(name, fn):
            t0 = time.monotonic()
            fn()
            results.append((name, time.monotonic() - t0))
            print("ok   %-55s %.2fs" % (name, time.monotonic() - t0), flush=True)

        def seed():
            r = kubectl("apply", "-f", os.path.join(FIXTURES, "nginx.yaml"))
            check(r.returncode == 0, r.stderr)
            wait_for(lambda: all(l.rule(RULE) for l in lbs), 5, "rule on both instances")
            wait_for(lambda: ingress(ks, "nginx-lb1") == [{"hostname": "llb-" + EIP}], 5, "status llb-<EIP>")
            node_ip = wait_for(lambda: node_ip_of_pod(ks, "nginx-test"), 5, "pod hostIP")
            np_ = get(ks, "nginx-lb1")["spec"]["ports"][0]["nodePort"]
            for l in lbs:
                r_ = l.rule(RULE)
                sa = r_["serviceArguments"]
                check(sa["externalIP"] == EIP and sa["privateIP"] == "192.168.248.254" and sa["mode"] == 2, str(sa))
                eps = [(e["endpointIP"], e["targetPort"]) for e in r_["endpoints"]]
                check(eps == [(node_ip, np_)], "ETP Local endpoints %s, want %s:%s" % (eps, node_ip, np_))
            check("service.kubernetes.io/load-balancer-cleanup" in get(ks, "nginx-lb1")["metadata"]["finalizers"],
                  "finalizer")
            out = kubectl("get", "svc").stdout
            check("llb-%s" % EIP in out and "55002:%d/TCP" % np_ in out, out)
            check(lbs[0].cistate.get("llb-inst0") == "MASTER" and lbs[1].cistate.get("llb-inst0") == "BACKUP",
                  "roles %s %s" % (lbs[0].cistate, lbs[1].cistate))
        case("seed: kubectl apply -> rule on both, llb-<EIP>", seed)

        def restart():
            rv = get(ks, "nginx-lb1")["metadata"]["resourceVersion"]
            marks = [len(l.log) for l in lbs]
            since = ks.last_seq()
            op.kill9()
            op.start()
            time.sleep(3)  # fixed observation window: nothing may happen in it
            for i, l in enumerate(lbs):
                check(l.count("DELETE", since=marks[i]) == 0, "DELETE after restart on lb%d" % (i + 1))
                check(l.count("POST", "/netlox/v1/config/cistate", since=marks[i]) == 0, "cistate push after restart")
                check(l.rule(RULE) is not None, "rule kept")
            check(get(ks, "nginx-lb1")["metadata"]["resourceVersion"] == rv, "Service written after restart")
            writes = [r for r in op_requests(ks, since) if r["method"] in ("PUT", "PATCH", "POST")]
            check(not writes, "API writes after restart: %s" % writes)
            check(ingress(ks, "nginx-lb1") == [{"hostname": "llb-" + EIP}], "same EIP")
        case("operator kill -9 + restart: same EIP, nothing deleted/written", restart)

        def lost_rules():
            since = ks.last_seq()
            lbs[1].rules.clear()
            wait_for(lambda: lbs[1].rule(RULE), 5, "drift re-POST to lb2")
            writes = [r for r in op_requests(ks, since) if r["method"] in ("PUT", "PATCH")]
            check(not writes, "K8s writes for a drift repair: %s" % writes)
        case("LB instance loses its rules -> drift check restores", lost_rules)

        def watch_drop():
            for mode in ("reset", "close"):
                since = ks.last_seq()
                ks.admin("POST", "/watch/drop", {"mode": mode})
                val = "1700" if mode == "reset" else "1600"
                ks.request("PATCH", "/api/v1/namespaces/default/services/nginx-lb1",
                           {"metadata": {"annotations": {"loxilb.io/timeout": val}}}, "application/merge-patch+json")
                wait_for(lambda: all(l.rule(RULE)["serviceArguments"]["inactiveTimeOut"] == int(val) for l in lbs),
                         2, "change during a %s drop applied" % mode)
                lists = [r for r in op_requests(ks, since) if r["method"] == "GET" and "watch=" not in r.get("query", "")
                         and "/leases" not in r["path"] and "/services/" not in r["path"]]
                check(not lists, "LIST after a plain watch drop: %s" % lists)
        case("watch drop (reset, close): re-watch without LIST", watch_drop)

        def compaction():
            # The re-watch fails once (500 => backoff); meanwhile a change is made and the history
            # is compacted, so the next watch from the old RV gets ERROR 410 => one relist.
            since = ks.last_seq()
            ks.admin("POST", "/faults", {"verb": "GET", "resource": "services", "code": 500, "count": 1})
            ks.admin("POST", "/watch/drop", {"mode": "close"})
            ks.request("PATCH", "/api/v1/namespaces/default/services/nginx-lb1",
                       {"metadata": {"annotations": {"loxilb.io/timeout": "1500"}}}, "application/merge-patch+json")
            ks.admin("POST", "/compact", {})
            wait_for(lambda: all(l.rule(RULE)["serviceArguments"]["inactiveTimeOut"] == 1500 for l in lbs), 3,
                     "change after compaction applied")
            lists = [r for r in op_requests(ks, since) if r["method"] == "GET" and r["path"] == "/api/v1/services"
                     and "watch=" not in r.get("query", "")]
            check(len(lists) == 1, "expected one services relist, saw %d" % len(lists))
        case("history compaction + drop: 410 -> relist, change applied", compaction)

        def endpoint_move():
            node_before = node_ip_of_pod(ks, "nginx-test")
            ks.request("DELETE", "/api/v1/namespaces/default/pods/nginx-test", {"gracePeriodSeconds": 0})
            wait_for(lambda: all(l.rule(RULE) is None for l in lbs), 3, "rules removed with no ready endpoint")
            check(ingress(ks, "nginx-lb1") == [{"hostname": "llb-" + EIP}], "status kept while no endpoints")
            _, nodes = ks.request("GET", "/api/v1/nodes")
            other = [n for n in nodes["items"] if not any(a["address"] == node_before for a in n["status"]["addresses"])]
            target = other[0]["metadata"]["labels"]["kubernetes.io/hostname"]
            other_ip = [a["address"] for a in other[0]["status"]["addresses"] if a["type"] == "InternalIP"][0]
            t0 = time.monotonic()
            code, _ = ks.request("POST", "/api/v1/namespaces/default/pods", pod("nginx-test", "nginx-test", target))
            check(code == 201, "pod create %d" % code)
            wait_for(lambda: all(l.rule(RULE) and l.rule(RULE)["endpoints"][0]["endpointIP"] == other_ip for l in lbs),
                     3, "endpoint on the other node")
            print("     pod create -> rule on the new node: %.3fs" % (time.monotonic() - t0))
        case("endpoint moves between nodes (ETP Local)", endpoint_move)

        def exhaustion():
            ks.request("POST", "/api/v1/namespaces/default/services", svc("nginx-lb2", 55002))
            wait_for(lambda: events(ks, "IPAllocationFailed"), 3, "IPAllocationFailed event")
            msg = events(ks, "IPAllocationFailed")[0]["message"]
            check(msg == "no free address in pool defaultPool (1 of 1 used)", msg)
            check(not ingress(ks, "nginx-lb2"), "second Service pending")
            check(op.proc.poll() is None, "operator alive")
            ks.request("POST", "/api/v1/namespaces/default/services", svc("shared", 8080))
            wait_for(lambda: ingress(ks, "shared") == [{"hostname": "llb-" + EIP}], 3, "shared IP, other port")
            t0 = time.monotonic()
            ks.request("DELETE", "/api/v1/namespaces/default/services/nginx-lb1")
            wait_for(lambda: get(ks, "nginx-lb1") is None, 3, "finalizer removed, Service gone")
            wait_for(lambda: ingress(ks, "nginx-lb2") == [{"hostname": "llb-" + EIP}], 2, "second gets the EIP")
            print("     delete first -> second has the EIP: %.3fs" % (time.monotonic() - t0))
            wait_for(lambda: all(l.rule("default_nginx-lb2:llb-inst0") for l in lbs), 2, "second's rules")
            check(all(l.rule(RULE) is None for l in lbs), "first's rules removed")
        case("IPAM exhaustion -> <pending> + Warning; release on delete", exhaustion)

        def static_conflict():
            ann = {"loxilb.io/staticIP": "198.18.100.20"}
            ks.request("POST", "/api/v1/namespaces/default/services", svc("st-a", 80, ann))
            wait_for(lambda: ingress(ks, "st-a") == [{"hostname": "llb-198.18.100.20"}], 3, "static IP A")
            ks.request("POST", "/api/v1/namespaces/default/services", svc("st-b", 80, ann))
            wait_for(lambda: events(ks, "IPInUse"), 3, "IPInUse event")
            check("default/st-a" in events(ks, "IPInUse")[0]["message"], events(ks, "IPInUse")[0]["message"])
            check(not ingress(ks, "st-b"), "B pending")
        case("conflicting static IPs -> IPInUse naming the first", static_conflict)

        def type_change():
            code, body = ks.request("PATCH", "/api/v1/namespaces/default/services/shared",
                                    {"spec": {"type": "ClusterIP", "loadBalancerClass": None,
                                              "externalTrafficPolicy": None}}, "application/merge-patch+json")
            check(code == 200, "type change %d %s" % (code, body))
            wait_for(lambda: all(l.rule("default_shared:llb-inst0") is None for l in lbs), 2, "rules removed")
            wait_for(lambda: not ingress(ks, "shared"), 2, "status cleared")
            wait_for(lambda: not get(ks, "shared")["metadata"].get("finalizers"), 2, "finalizer removed")
        case("type change LoadBalancer -> ClusterIP cleans up", type_change)

        def lb_down_create_delete():
            lbs[1].down = True
            time.sleep(0)  # the next probe notices; nothing to wait for here
            ks.request("POST", "/api/v1/namespaces/default/services", svc("down-c", 9000))
            wait_for(lambda: lbs[0].rule("default_down-c:llb-inst0"), 5, "rule on lb1 while lb2 down")
            wait_for(lambda: ingress(ks, "down-c"), 3, "status written with one instance")
            lbs[1].down = False
            wait_for(lambda: lbs[1].rule("default_down-c:llb-inst0"), 6, "lb2 gets it on return")
            lbs[1].down = True
            time.sleep(2.5)  # let a probe see lb2 down (the operator then skips it)
            ks.request("DELETE", "/api/v1/namespaces/default/services/down-c")
            wait_for(lambda: get(ks, "down-c") is None, 8, "delete completes with lb2 down")
            lbs[1].down = False
            wait_for(lambda: lbs[1].rule("default_down-c:llb-inst0") is None, 12, "orphan GC on lb2")
        case("LB instance down during create and delete", lb_down_create_delete)

        def conflicts409():
            ks.admin("POST", "/faults", {"verb": "PUT", "resource": "services", "code": 409, "count": 2})
            ks.request("POST", "/api/v1/namespaces/default/services", svc("c409", 9100))
            wait_for(lambda: "service.kubernetes.io/load-balancer-cleanup" in
                     (get(ks, "c409")["metadata"].get("finalizers") or []), 3, "finalizer after two 409s")
        case("409 on the finalizer PUT -> retried", conflicts409)

        def pause():
            marks = [len(l.log) for l in lbs]
            ks.admin("POST", "/pause", {"seconds": 4, "mode": "503"})
            time.sleep(4.5)  # the pause itself
            for i, l in enumerate(lbs):
                check(l.count("DELETE", since=marks[i]) == 0, "rules flushed during an API pause")
            ks.request("POST", "/api/v1/namespaces/default/services", svc("after-pause", 9200))
            wait_for(lambda: ingress(ks, "after-pause"), 35, "operator resumes after the pause")
        case("API server pause: rules untouched, resume", pause)

        def exec_rotation():
            n0 = len(open(runs).read().split())
            with open(os.path.join(ks.dir, "tokens"), "w") as f:
                f.write(open(ks.env["KUBESIM_TOKEN_FILE"]).read().strip() + ",kubesim-admin,system:masters\n")
                f.write("op-token-2,kube-floatlb,system:masters\n")
            open(cur, "w").write("op-token-2")
            ks.request("POST", "/api/v1/namespaces/default/services", svc("rotated", 9300))
            wait_for(lambda: ingress(ks, "rotated"), 5, "status written after the token rotation")
            check(len(open(runs).read().split()) > n0, "exec plugin re-run on 401")
        case("exec plugin over HTTPS: 401 -> plugin re-run", exec_rotation)

        def replicas():
            op.stop()
            a = Operator(ks, lbs, kc, ["--leader-elect"], name="a")
            ops.append(a)
            b = Operator(ks, lbs, kc, ["--leader-elect"], name="b")
            ops.append(b)
            wait_for(lambda: a.metric("kube_floatlb_leader") == 1, 20, "a leads")
            check(b.metric("kube_floatlb_leader") == 0, "b standby")
            ks.request("POST", "/api/v1/namespaces/default/services", svc("le", 9400))
            wait_for(lambda: ingress(ks, "le"), 5, "leader programs")
            check(b.metric("kube_floatlb_status_writes_total") == 0, "standby wrote a status")
            check(b.metric("kube_floatlb_lb_requests_total") is None and "kind=\"post\"} 0" in b.metrics(),
                  "standby POSTed rules")
            t0 = time.monotonic()
            a.kill9()
            wait_for(lambda: b.metric("kube_floatlb_leader") == 1, 25, "b takes over")
            print("     leader kill -9 -> standby leads: %.1fs" % (time.monotonic() - t0))
            check(ingress(ks, "le") == [{"hostname": "llb-" + EIP}], "no IP change")
        case("two replicas, leader election: only the leader writes", replicas)
    finally:
        for o in ops:
            try:
                o.stop()
            except Exception:
                pass
        for l in lbs:
            l.close()
        if results and len(results) < 14:
            print("operator log tail:\n" + open(ops[0].log_path).read()[-3000:] if ops else "")
        ks.close()
    print("all %d cases passed" % len(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
