#!/usr/bin/python3
"""kubesim fidelity with the real kubectl (1.32 and, when installed, 1.20) against `kubesim up --no-netns`:
apply twice (created/unchanged), apply with a changed port (SMP $patch: delete keeps the nodePort),
get svc|pods -o wide|nodes|endpointslices, get svc -w printing a status change, describe svc,
-o json round trip (replace), delete -f waiting on a finalizer. Loopback only, no root."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kslib import FIXTURES, KUBECTL_120, KUBECTL_132, Kubesim, check, wait_for  # noqa: E402

NGINX = os.path.join(FIXTURES, "nginx.yaml")
NGINX_55003 = os.path.join(FIXTURES, "nginx-55003.yaml")


class Kubectl:
    def __init__(self, binary, ks):
        self.binary = binary
        self.home = tempfile.mkdtemp(prefix="kubectl-home-", dir=ks.dir)  # private discovery cache
        self.env = dict(os.environ, HOME=self.home, KUBECONFIG=ks.kubeconfig)

    def __call__(self, *args, rc=0):
        p = subprocess.run([self.binary] + list(args), env=self.env, capture_output=True, text=True, timeout=60)
        if rc is not None and p.returncode != rc:
            raise AssertionError("kubectl %s: rc %d\nstdout: %s\nstderr: %s" % (" ".join(args), p.returncode,
                                                                                p.stdout, p.stderr))
        return p.stdout

    def popen(self, *args):
        return subprocess.Popen([self.binary] + list(args), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


def rows(out):
    return [re.split(r"\s{2,}", l.strip()) for l in out.strip().splitlines()]


def set_ingress(ks, hostname):
    code, body = ks.request("PATCH", "/api/v1/namespaces/default/services/nginx-lb1/status",
                            {"status": {"loadBalancer": {"ingress": [{"hostname": hostname}]}}},
                            "application/merge-patch+json")
    check(code == 200, "status patch: %s %s" % (code, body))


def run(binary, ks):
    k = Kubectl(binary, ks)
    version = k("version", "--client")
    print("== %s: %s" % (binary, version.strip().splitlines()[0]))
    seq = ks.last_seq()

    out = k("apply", "-f", NGINX)
    check(out == "service/nginx-lb1 created\npod/nginx-test created\n", "first apply: %r" % out)
    creates = [r for r in ks.requests(seq) if r["method"] == "POST"]
    check(len(creates) == 2 and all("fieldManager=kubectl-client-side-apply" in r["query"] for r in creates),
          "apply POSTs: %s" % creates)
    seq = ks.last_seq()
    out = k("apply", "-f", NGINX)
    check(out == "service/nginx-lb1 unchanged\npod/nginx-test unchanged\n", "second apply: %r" % out)
    writes = [r for r in ks.requests(seq) if r["method"] not in ("GET",)]
    check(writes == [], "second apply wrote: %s" % writes)

    # get nodes
    nodes = rows(k("get", "nodes"))
    check(nodes[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"], "nodes header %s" % nodes[0])
    check(len(nodes) == 3 and all(r[1] == "Ready" and r[2] == "<none>" and r[4] == "v1.32.0" for r in nodes[1:]),
          "nodes: %s" % nodes)
    check(nodes[1][0] == "ip-192-168-218-10.ap-northeast-3.compute.internal", "node name %s" % nodes[1][0])

    # get svc: <pending> until the status is written, then llb-<EIP>
    svc = rows(k("get", "svc"))
    check(svc[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], "svc header %s" % svc[0])
    check(svc[1][:5] == ["kubernetes", "ClusterIP", "10.100.0.1", "<none>", "443/TCP"], "kubernetes row %s" % svc[1])
    check(svc[2][:4] == ["nginx-lb1", "LoadBalancer", svc[2][2], "<pending>"] and svc[2][2].startswith("10.100."),
          "nginx row %s" % svc[2])
    m = re.match(r"^55002:(3[0-2][0-9]{3})/TCP$", svc[2][4])
    check(m, "ports cell %s" % svc[2][4])
    node_port = int(m.group(1))
    obj = json.loads(k("get", "svc", "nginx-lb1", "-o", "json"))
    check(obj["spec"]["ports"][0]["nodePort"] == node_port and obj["spec"]["healthCheckNodePort"] >= 30000,
          "nodePort/healthCheckNodePort %s" % obj["spec"])

    # get svc -w shows the status change as a new row
    w = k.popen("get", "svc", "-w")
    try:
        first = [w.stdout.readline() for _ in range(3)]
        check("nginx-lb1" in first[2] and "<pending>" in first[2], "watch initial rows %s" % first)
        set_ingress(ks, "llb-198.18.100.10")
        line = w.stdout.readline()
        check(re.match(r"^nginx-lb1\s+LoadBalancer\s+10\.100\.\S+\s+llb-198\.18\.100\.10\s+55002:%d/TCP\s+\S+$" % node_port,
                       line.strip()), "watch row after status change: %r" % line)
    finally:
        w.kill()
        w.wait()
    svc = rows(k("get", "svc"))
    check(svc[2][3] == "llb-198.18.100.10", "EXTERNAL-IP %s" % svc[2])

    # pods -o wide
    def pod_running():
        r = rows(k("get", "pods", "-o", "wide"))
        return r if len(r) == 2 and r[1][2] == "Running" else None
    pods = wait_for(pod_running, 5, "pod Running")
    check(pods[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
          "pods header %s" % pods[0])
    check(pods[1][:4] == ["nginx-test", "1/1", "Running", "0"] and pods[1][7:] == ["<none>", "<none>"], "pod %s" % pods[1])
    pod_ip = pods[1][5]
    out = k("wait", "--for=condition=Ready", "pod/nginx-test", "--timeout=10s")
    check(out == "pod/nginx-test condition met\n", "wait: %r" % out)
    all_ns = rows(k("get", "svc", "-A"))
    check(all_ns[0][:2] == ["NAMESPACE", "NAME"] and [r[:2] for r in all_ns[1:]] ==
          [["default", "kubernetes"], ["default", "nginx-lb1"]], "get svc -A %s" % all_ns)
    check(re.match(r"^192\.168\.2[12]8\.\d+$", pod_ip), "pod IP %s" % pod_ip)

    # endpointslices
    es = rows(k("get", "endpointslices"))
    check(es[0] == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], "slices header %s" % es[0])
    nginx_slices = [r for r in es if r[0].startswith("nginx-lb1-")]
    check(len(nginx_slices) == 1 and nginx_slices[0][1:4] == ["IPv4", "80", pod_ip], "slice rows %s" % es)
    check(any(r[0] == "kubernetes" for r in es), "kubernetes slice %s" % es)

    # describe svc
    d = k("describe", "svc", "nginx-lb1")
    for pat in [r"^Name:\s+nginx-lb1$", r"^Type:\s+LoadBalancer$", r"^LoadBalancer Ingress:\s+llb-198\.18\.100\.10",
                r"^Port:\s+<unset>\s+55002/TCP$", r"^TargetPort:\s+80/TCP$", r"^NodePort:\s+<unset>\s+%d/TCP$" % node_port,
                r"^Endpoints:\s+%s:80$" % re.escape(pod_ip), r"^External Traffic Policy:\s+Local$",
                r"^HealthCheck NodePort:\s+%d$" % obj["spec"]["healthCheckNodePort"], r"^Selector:\s+what=nginx-test$"]:
        check(re.search(pat, d, re.M), "describe svc lacks %s:\n%s" % (pat, d))

    # apply with a changed port: SMP with $patch: delete; the nodePort follows the (unnamed) port
    seq = ks.last_seq()
    out = k("apply", "-f", NGINX_55003)
    check(out == "service/nginx-lb1 configured\npod/nginx-test unchanged\n", "apply 55003: %r" % out)
    patches = [r for r in ks.requests(seq) if r["method"] == "PATCH"]
    check(len(patches) == 1 and patches[0]["contentType"] == "application/strategic-merge-patch+json",
          "SMP request %s" % patches)
    obj = json.loads(k("get", "svc", "nginx-lb1", "-o", "json"))
    check([(p["port"], p["nodePort"]) for p in obj["spec"]["ports"]] == [(55003, node_port)], "ports %s" % obj["spec"])
    out = k("apply", "-f", NGINX)
    check(out.startswith("service/nginx-lb1 configured"), "apply back: %r" % out)

    # -o json round trip: replace with what get returned
    path = os.path.join(k.home, "svc.json")
    with open(path, "w") as f:
        f.write(k("get", "svc", "nginx-lb1", "-o", "json"))
    out = k("replace", "-f", path)
    check(out == "service/nginx-lb1 replaced\n", "replace: %r" % out)

    # delete -f waits on a finalizer until it is removed
    out = k("patch", "svc", "nginx-lb1", "--type", "merge", "-p", '{"metadata":{"finalizers":["example.com/hold"]}}')
    check("patched" in out, "finalizer patch: %r" % out)
    seq = ks.last_seq()
    p = k.popen("delete", "-f", NGINX)
    def marked():
        code, o = ks.request("GET", "/api/v1/namespaces/default/services/nginx-lb1")
        return code == 200 and "deletionTimestamp" in o["metadata"]
    wait_for(marked, 10, "deletionTimestamp on the Service")
    wait_for(lambda: any(r["method"] == "GET" and "watch=true" in r["query"] and "metadata.name=nginx-lb1" in r["query"]
                         for r in ks.requests(seq)), 10, "kubectl's delete wait (watch)")
    check(p.poll() is None, "kubectl delete returned while the finalizer was still there")
    code, body = ks.request("PATCH", "/api/v1/namespaces/default/services/nginx-lb1", {"metadata": {"finalizers": None}},
                            "application/merge-patch+json")
    check(code == 200, "finalizer removal %s %s" % (code, body))
    so, se = p.communicate(timeout=30)
    check(p.returncode == 0, "delete rc %s: %s" % (p.returncode, se))
    check(so == 'service "nginx-lb1" deleted\npod "nginx-test" deleted\n', "delete output %r" % so)
    check(ks.request("GET", "/api/v1/namespaces/default/services/nginx-lb1")[0] == 404, "service still there")
    wait_for(lambda: ks.request("GET", "/api/v1/namespaces/default/pods/nginx-test")[0] == 404, 5, "pod gone")

    # errors as Status: kubectl prints the server's reason/message
    err = subprocess.run([binary, "get", "svc", "nope"], env=k.env, capture_output=True, text=True, timeout=30)
    check(err.returncode == 1 and 'Error from server (NotFound): services "nope" not found' in err.stderr,
          "NotFound: %r" % err.stderr)
    print("   ok: %s" % binary)


def main():
    binaries = [KUBECTL_132] + ([KUBECTL_120] if os.access(KUBECTL_120, os.X_OK) else [])
    if not os.access(KUBECTL_132, os.X_OK):
        print("SKIP: %s missing" % KUBECTL_132)
        return 77
    ks = Kubesim()
    try:
        for b in binaries:
            run(b, ks)
    finally:
        ks.close()
    print("fidelity_kubectl: ok (%s)" % ", ".join(binaries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
