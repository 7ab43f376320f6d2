#!/usr/bin/python3
"""kube-floatlb -> a real floatlb over HTTPS with a bearer token (run by operator_floatlb_tls.sh
inside its network namespace, where floatlb listens on 127.0.0.1:11443 with --tls-cert and
--api-token-file). Cases: the rule reaches floatlb and the status is written; a wrong CA leaves
the instance unreachable (nothing sent in clear); a token over plain http:// is refused at start
unless explicitly allowed. Usage: floatlb_tls.py CA_PEM WRONG_CA_PEM TOKEN_FILE"""
import json
import os
import subprocess
import sys
import urllib.request
import ssl

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "kubesim"))
sys.path.insert(0, HERE)
from kslib import Kubesim, check, wait_for  # noqa: E402
from operator_kubesim import OPERATOR, Operator, svc, ingress  # noqa: E402

HTTPS = "https://127.0.0.1:11443"


class Url:
    url = HTTPS


def floatlb_rules(ca, token):
    ctx = ssl.create_default_context(cafile=ca)
    req = urllib.request.Request(HTTPS + "/netlox/v1/config/loadbalancer/all",
                                 headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=3, context=ctx) as r:
        return json.load(r).get("lbAttr") or []


def main():
    ca, wrong_ca, token_file = sys.argv[1:4]
    token = [l.strip() for l in open(token_file) if l.strip() and not l.startswith("#")][0]
    ks = Kubesim(nodes=2)
    op = None
    try:
        s = svc("tls-lb", 8443, etp="Cluster")
        ks.request("POST", "/api/v1/namespaces/default/services", s)
        base = ["--loxi-cacert=" + ca, "--loxi-token-file=" + token_file, "--probe=1s"]
        op = Operator(ks, [Url()], ks.kubeconfig, base, external_cidr="198.18.0.77/32")
        name = "default_tls-lb:llb-inst0"
        rules = wait_for(lambda: [r for r in floatlb_rules(ca, token) if r["serviceArguments"]["name"] == name], 10,
                         "the rule on floatlb over HTTPS with the token")
        check(rules[0]["serviceArguments"]["externalIP"] == "198.18.0.77", str(rules[0]))
        check(len(rules[0]["endpoints"]) == 2, "ETP Cluster: both nodes %s" % rules[0]["endpoints"])
        wait_for(lambda: ingress(ks, "tls-lb") == [{"hostname": "llb-198.18.0.77"}], 5, "status llb-<ip>")
        print("ok   rule on floatlb over https + token, status written", flush=True)
        op.stop()
        op = None

        # Wrong CA: the instance is not reachable (TLS verification fails), nothing is sent.
        ks.request("DELETE", "/api/v1/namespaces/default/services/tls-lb")
        bad = Operator(ks, [Url()], ks.kubeconfig, ["--loxi-cacert=" + wrong_ca, "--loxi-token-file=" + token_file],
                       external_cidr="198.18.0.77/32", name="badca")
        op = bad
        wait_for(lambda: "is NOT reachable" in open(bad.log_path).read() or
                 "SSL" in open(bad.log_path).read() or "certificate" in open(bad.log_path).read(), 10,
                 "the wrong CA reported")
        # An unverifiable instance counts as down: the delete completes, its rule is left to the orphan GC.
        wait_for(lambda: ks.request("GET", "/api/v1/namespaces/default/services/tls-lb")[0] == 404, 10,
                 "the Service deleted (finalizer released with the instance down)")
        check(any(r["serviceArguments"]["name"] == name for r in floatlb_rules(ca, token)),
              "the rule is still on floatlb: nothing was sent to the unverified instance")
        print("ok   wrong CA: instance unreachable, nothing sent to it", flush=True)
        op.stop()
        op = None

        # Token over plain http: refused at start with a clear message.
        r = subprocess.run([OPERATOR, "--kubeconfig=" + ks.kubeconfig, "--loxiURL=http://127.0.0.1:11111",
                            "--externalCIDR=198.18.0.77/32", "--loxi-token-file=" + token_file],
                           capture_output=True, text=True, timeout=20)
        check(r.returncode == 2 and "plain http" in (r.stderr + r.stdout), "rc %d: %s" % (r.returncode, r.stderr))
        print("ok   token over http:// refused at start (rc 2)", flush=True)
        # The right CA again: the orphan GC deletes the rule over HTTPS with the token.
        op = Operator(ks, [Url()], ks.kubeconfig, base, external_cidr="198.18.0.77/32", name="cleanup")
        wait_for(lambda: not any(r["serviceArguments"]["name"] == name for r in floatlb_rules(ca, token)), 10,
                 "the orphan rule deleted over https + token")
        print("ok   orphan GC over https + token: rule removed", flush=True)
    finally:
        if op:
            op.stop()
        ks.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
