#!/usr/bin/env python3
"""kubesim realised on vpcsim (root): the seed's nginx.yaml verbatim through kubectl 1.32 → the pod
Running on a node with a VPC IP on that node's ENI (awscli shows it); nginx's welcome page through the
NodePort on the pod's node, dropped on the other (externalTrafficPolicy: Local); the health-check
NodePort 200 / 503; with Cluster the other node forwards to the pod; in-cluster HTTPS from the pod
(10.100.0.1 with its service-account token; 401 without); deleting the pod removes its namespace and releases the IP; the operator manifest runs
kube-floatlb ×2 in-cluster (Lease taken); after a crash (SIGKILL) `kubesim down` removes the pod
namespace, the container processes, the kube-proxy tables and the IP.
Exits 77 without root."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "netns"))
from sim_lib import BUILD, require_root, run_with_sim, start_sim, wait_for  # noqa: E402

KUBESIM = os.path.join(BUILD, "bin", "kubesim")
KUBECTL = "/usr/lib/google-cloud-sdk/bin/kubectl.1.32"
NGINX_YAML = os.path.join(HERE, "fixtures", "nginx.yaml")  # the seed's manifest, verbatim
OPERATOR_YAML = os.path.join(HERE, "..", "..", "deploy", "k8s", "kube-floatlb.yaml")


def main():
    require_root()
    for tool in (KUBESIM, KUBECTL, "/usr/sbin/nginx", os.path.join(BUILD, "bin", "kube-floatlb")):
        if not os.access(tool, os.X_OK):
            print(f"FAIL: {tool} missing")
            return 1
    sim = start_sim()
    if sim is None:
        return 1
    prefix = f"ks{os.getpid() % 100000}-"
    state = tempfile.mkdtemp(prefix="kubesim-netns-")

    def up():
        p = subprocess.run([KUBESIM, "up", "--vpcsim-state-dir", sim.state_dir, "--prefix", prefix,
                            "--state-dir", state, "--daemon"], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, f"kubesim up: {p.stdout}{p.stderr}{open(state + '/kubesim.log').read()}"
        return dict(l.strip().split("=", 1) for l in open(state + "/kubesim.env") if "=" in l)

    def down():
        subprocess.run([KUBESIM, "down", "--prefix", prefix, "--state-dir", state], capture_output=True, timeout=60)

    def kubectl(*args, check=True):
        p = subprocess.run([KUBECTL, "--kubeconfig", state + "/kubeconfig", *args], capture_output=True, text=True,
                           timeout=30, env=dict(os.environ, HOME=state))
        if check:
            assert p.returncode == 0, f"kubectl {args}: {p.stdout}{p.stderr}"
        return p.stdout

    def pod():
        out = kubectl("get", "pod", "nginx-test", "-o", "json", check=False)
        return json.loads(out) if out else None

    def eni_ips(name):
        out, err = sim.aws("describe-network-interfaces", "--network-interface-ids", sim.env["VPCSIM_ENI_" + name])
        assert err is None, err
        return [a["PrivateIpAddress"] for a in out["NetworkInterfaces"][0]["PrivateIpAddresses"]]

    def pod_netns():
        return [n.split()[0] for n in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
                .splitlines() if n.startswith(prefix + "p-")]

    def curl(ns, url, max_time=2, extra=()):
        p = subprocess.run(["ip", "netns", "exec", ns, "curl", "-s", "-m", str(max_time), "-w", "\n%{http_code}",
                            *extra, url], capture_output=True, text=True, timeout=max_time + 10)
        body, _, code = p.stdout.rpartition("\n")
        return p.returncode, code, body

    def running():
        p = pod()
        ok = p and p["status"].get("phase") == "Running" and p["status"].get("podIP") and all(
            c["type"] != "Ready" or c["status"] == "True" for c in p["status"].get("conditions", []))
        return p if ok else None

    def body():
        up()
        t0 = time.monotonic()
        out = kubectl("apply", "-f", NGINX_YAML)
        assert "service/nginx-lb1 created" in out and "pod/nginx-test created" in out, out
        p = wait_for("pod Running", running, timeout=20)
        t_running = time.monotonic() - t0
        ip, host = p["status"]["podIP"], p["status"]["hostIP"]
        node, other = ("NODE1", "NODE2") if host == sim.env["VPCSIM_IP_NODE1"] else ("NODE2", "NODE1")
        assert host == sim.env["VPCSIM_IP_" + node], p["status"]
        assert ip != host and ip.rsplit(".", 1)[0] == host.rsplit(".", 1)[0], f"pod IP {ip} not in {host}'s subnet"
        assert ip in eni_ips(node), f"{ip} not on {node}'s ENI: {eni_ips(node)}"
        assert ip not in eni_ips(other)
        wide = kubectl("get", "pods", "-o", "wide")
        assert ip in wide and "Running" in wide, wide
        svc = json.loads(kubectl("get", "svc", "nginx-lb1", "-o", "json"))
        np, hc = svc["spec"]["ports"][0]["nodePort"], svc["spec"]["healthCheckNodePort"]
        lb1 = sim.ns("lb1")
        on, off = sim.env["VPCSIM_IP_" + node], sim.env["VPCSIM_IP_" + other]

        # NodePort on the pod's node: nginx's own welcome page (kube-proxy DNAT → pod namespace).
        rc, code, page = wait_for("NodePort answers", lambda: (lambda r: r if r[1] == "200" else None)(
            curl(lb1, f"http://{on}:{np}/")), timeout=10)
        assert "<title>Welcome to nginx!</title>" in page, page[:200]
        # Other node: externalTrafficPolicy Local and no local endpoint ⇒ dropped (timeout, not refused).
        rc, code, _ = curl(lb1, f"http://{off}:{np}/", max_time=2)
        assert rc == 28, f"NodePort on the other node: curl rc {rc} code {code} (want 28 = dropped)"
        # Health-check NodePort: 200 with one local endpoint here, 503 with none there.
        _, code, hb = curl(lb1, f"http://{on}:{hc}/")
        assert code == "200" and json.loads(hb)["localEndpoints"] == 1, (code, hb)
        _, code, hb = curl(lb1, f"http://{off}:{hc}/")
        assert code == "503" and json.loads(hb)["localEndpoints"] == 0, (code, hb)
        # The pod IP itself is a VPC address: reachable from the LB instance directly.
        _, code, page = curl(lb1, f"http://{ip}/")
        assert code == "200" and "Welcome to nginx!" in page

        # In-cluster access from the pod: kubernetes ClusterIP over TLS with the generated CA.
        pod_dirs = [d for d in os.listdir(state + "/pods") if d.startswith("default_nginx-test_")]
        sa = os.path.join(state, "pods", pod_dirs[0], "serviceaccount")
        token = open(sa + "/token").read().strip()
        ns = pod_netns()
        assert len(ns) == 1, ns
        _, code, out = curl(ns[0], "https://10.100.0.1/api/v1/namespaces/default/pods/nginx-test", max_time=5,
                            extra=("--cacert", sa + "/ca.crt", "-H", f"Authorization: Bearer {token}"))
        assert code == "200" and json.loads(out)["status"]["podIP"] == ip, (code, out[:200])
        _, code, out = curl(ns[0], "https://10.100.0.1/api", max_time=5, extra=("--cacert", sa + "/ca.crt"))
        assert code == "401" and json.loads(out)["kind"] == "Status", (code, out)

        # externalTrafficPolicy Cluster: the other node forwards (masquerade) to the pod across the VPC.
        kubectl("patch", "svc", "nginx-lb1", "-p", '{"spec":{"externalTrafficPolicy":"Cluster"}}')
        rc, code, page = wait_for("NodePort on the other node with ETP Cluster", lambda: (
            lambda r: r if r[1] == "200" else None)(curl(lb1, f"http://{off}:{np}/")), timeout=10)
        assert "Welcome to nginx!" in page

        # Delete: the namespace goes, the IP is released on the ENI, the NodePort has no endpoint.
        t0 = time.monotonic()
        kubectl("delete", "pod", "nginx-test", "--wait=true", "--timeout=20s")
        wait_for("pod namespace removed", lambda: not pod_netns(), timeout=10)
        wait_for("IP released", lambda: ip not in eni_ips(node), timeout=10)
        t_gone = time.monotonic() - t0
        wait_for("NodePort without endpoints dropped", lambda: curl(lb1, f"http://{on}:{np}/", max_time=1)[0] == 28,
                 timeout=10)
        print(f"ok: pod {ip} on {node} served NodePort {np}, dropped on {other}, hc {hc} 200/503, released")
        print(f"timing: kubectl apply → pod Running+Ready {t_running:.2f} s; kubectl delete → namespace gone and "
              f"IP released (awscli) {t_gone:.2f} s")

        # The operator's manifest: the image map runs build/bin/kube-floatlb (hostNetwork) with the pod's
        # args; it reaches the API in-cluster (10.100.0.1 → TLS in the VPC) and takes the Lease.
        kubectl("apply", "-f", OPERATOR_YAML)
        def operator_up():
            pods = json.loads(kubectl("-n", "kube-system", "get", "pods", "-o", "json"))["items"]
            run = [p for p in pods if p["status"].get("phase") == "Running"]
            lease = json.loads(kubectl("-n", "kube-system", "get", "lease", "kube-floatlb", "-o", "json",
                                       check=False) or "null")
            return len(run) == 2 and lease and lease["spec"].get("holderIdentity") and lease
        lease = wait_for("operator pods Running and the Lease held", operator_up, timeout=20)
        hosts = {p["status"]["podIP"] for p in json.loads(kubectl("-n", "kube-system", "get", "pods", "-o",
                                                                    "json"))["items"]}
        assert hosts == {sim.env["VPCSIM_IP_NODE1"], sim.env["VPCSIM_IP_NODE2"]}, hosts  # hostNetwork
        print(f"ok: kube-floatlb ×2 running in-cluster, Lease held by {lease['spec']['holderIdentity']}")

        # Crash: SIGKILL the daemon with pods running; `kubesim down` removes what it left.
        kubectl("apply", "-f", NGINX_YAML)
        p = wait_for("pod Running again", running, timeout=20)
        ip2 = p["status"]["podIP"]
        node2 = "NODE1" if p["status"]["hostIP"] == sim.env["VPCSIM_IP_NODE1"] else "NODE2"
        pidfiles = [os.path.join(r, f) for r, _, fs in os.walk(state + "/pods") for f in fs if f.endswith(".pid")
                    and f != "nginx.pid"]
        assert len(pidfiles) == 3, pidfiles  # nginx + 2 operators
        pids = [int(open(f).read().split()[0]) for f in pidfiles]
        os.kill(int(open(state + "/kubesim.pid").read()), signal.SIGKILL)
        down()
        assert not pod_netns(), pod_netns()
        def dead(pid):
            try:
                return open(f"/proc/{pid}/stat").read().split()[2] == "Z"
            except FileNotFoundError:
                return True
        wait_for("container processes killed", lambda: all(dead(p) for p in pids), timeout=5)
        assert ip2 not in eni_ips(node2), "IP not released after crash + down"
        tables = sim.sh(sim.ns(node2.lower()), "nft list tables")
        assert "kubesim" not in tables, tables
        print("ok: crash + down removed namespace, process, kube-proxy table and IP")

    def guarded():
        try:
            body()
        except Exception:
            log = state + "/kubesim.log"
            if os.path.exists(log):
                print("--- kubesim.log (tail)\n" + "".join(open(log).readlines()[-30:]))
            raise
        finally:
            down()
            subprocess.run(["rm", "-rf", state])

    return run_with_sim(sim, guarded)


if __name__ == "__main__":
    sys.exit(main())
