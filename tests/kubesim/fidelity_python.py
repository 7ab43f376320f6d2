#!/usr/bin/python3
"""kubesim fidelity with python3-kubernetes 22.6 (Debian) against `kubesim up --no-netns`: list with
limit/continue, watch (watch=True) seeing a patch, strategic-merge patch with a dict, replace of the
status with a `+00:00` creationTimestamp round trip, 409 on a stale resourceVersion, and an ERROR 410
event after the history is compacted (the client retries once, then raises)."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kslib import Kubesim, check, wait_for  # noqa: E402

try:
    import kubernetes
    from kubernetes import client, watch
    from kubernetes.client.rest import ApiException
except ImportError:
    print("SKIP: python3-kubernetes not installed")
    sys.exit(77)


def main():
    ks = Kubesim()
    try:
        cfg = client.Configuration()
        cfg.host = ks.url
        v1 = client.CoreV1Api(client.ApiClient(cfg))
        svc = client.V1Service(
            metadata=client.V1ObjectMeta(name="py-svc", labels={"app": "py"}),
            spec=client.V1ServiceSpec(type="NodePort", selector={"app": "py"},
                                      ports=[client.V1ServicePort(port=8080, target_port=80)]))
        created = v1.create_namespaced_service("default", svc)
        check(30000 <= created.spec.ports[0].node_port <= 32767, "nodePort %s" % created.spec.ports[0].node_port)
        for i in range(3):
            v1.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm%d" % i),
                                                                          data={"k": str(i)}))
        # list with limit/continue
        page1 = v1.list_namespaced_config_map("default", limit=2)
        check(len(page1.items) == 2 and page1.metadata._continue, "page1 %s" % page1.metadata)
        page2 = v1.list_namespaced_config_map("default", limit=2, _continue=page1.metadata._continue)
        names = [c.metadata.name for c in page1.items + page2.items]
        check(names == ["cm0", "cm1", "cm2"] and not page2.metadata._continue, "pages %s" % names)

        # watch sees a strategic-merge patch made with a dict
        lst = v1.list_namespaced_service("default")
        rv = lst.metadata.resource_version
        seen = []
        w = watch.Watch()

        def consume():
            for ev in w.stream(v1.list_namespaced_service, "default", resource_version=rv, timeout_seconds=10):
                seen.append((ev["type"], ev["object"].metadata.name, dict(ev["object"].metadata.labels or {})))
                if ev["type"] == "MODIFIED":
                    w.stop()
        t = threading.Thread(target=consume)
        t.start()
        wait_for(lambda: any(r["method"] == "GET" and "watch=True" in r["query"] for r in ks.requests()), 5,
                 "python watch request (watch=True)")
        patched = v1.patch_namespaced_service("py-svc", "default", {"metadata": {"labels": {"tier": "web"}}})
        check(patched.metadata.labels == {"app": "py", "tier": "web"}, "SMP labels %s" % patched.metadata.labels)
        t.join(15)
        check(("MODIFIED", "py-svc", {"app": "py", "tier": "web"}) in seen, "watch events %s" % seen)
        reqs = [r for r in ks.requests() if r["method"] == "PATCH"]
        check(reqs and reqs[-1]["contentType"] == "application/strategic-merge-patch+json", "patch type %s" % reqs)

        # replace the status with the object as read (+00:00 timestamps), then a stale RV => 409
        cur = v1.read_namespaced_service("py-svc", "default")
        cur.status.load_balancer = client.V1LoadBalancerStatus(ingress=[client.V1LoadBalancerIngress(ip="198.18.100.10")])
        put = v1.replace_namespaced_service_status("py-svc", "default", cur)
        check(put.status.load_balancer.ingress[0].ip == "198.18.100.10", "status PUT %s" % put.status)
        check(put.metadata.creation_timestamp == created.metadata.creation_timestamp, "creationTimestamp changed")
        try:
            v1.replace_namespaced_service_status("py-svc", "default", cur)  # cur still has the old RV
            check(False, "stale PUT accepted")
        except ApiException as e:
            check(e.status == 409 and "the object has been modified" in e.body, "409 %s %s" % (e.status, e.body))

        # 410 after compaction: an ERROR event in a 200 stream; the client retries once, then raises
        old_rv = rv
        ks.admin("POST", "/compact", {})
        w2 = watch.Watch()
        try:
            for _ in w2.stream(v1.list_namespaced_service, "default", resource_version=old_rv, timeout_seconds=5):
                pass
            check(False, "no 410 raised")
        except ApiException as e:
            check(e.status == 410 and "too old resource version" in str(e.reason) + str(e.body), "410: %s" % e)
        watches = [r for r in ks.requests() if "watch=True" in r["query"] and "resourceVersion=%s" % old_rv in r["query"]]
        check(len(watches) >= 2 and all(r["code"] == 200 for r in watches), "410 retries %s" % watches)
        # The TLS listener checks bearer tokens (401 Status otherwise); the client works over it.
        tcfg = client.Configuration()
        tcfg.host = ks.env["KUBESIM_HTTPS_URL"]
        tcfg.ssl_ca_cert = ks.env["KUBESIM_CA"]
        try:
            client.CoreV1Api(client.ApiClient(tcfg)).list_namespaced_service("default")
            check(False, "https without a token accepted")
        except ApiException as e:
            check(e.status == 401 and '"reason":"Unauthorized"' in e.body, "401 %s %s" % (e.status, e.body))
        tcfg.api_key = {"authorization": "Bearer " + open(ks.env["KUBESIM_TOKEN_FILE"]).read().strip()}
        names = [s.metadata.name for s in client.CoreV1Api(client.ApiClient(tcfg)).list_namespaced_service("default").items]
        check(names == ["kubernetes", "py-svc"], "https list %s" % names)

        v1.delete_namespaced_service("py-svc", "default")
        check(v1.list_namespaced_service("default", label_selector="app=py").items == [], "service not deleted")
    finally:
        ks.close()
    print("fidelity_python: ok (python-kubernetes %s)" % kubernetes.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
