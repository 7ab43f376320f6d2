#!/usr/bin/python3
"""REST API load clients shared by tests/netns/api_slow_clients.sh and bench/api.

  creates N [--start I] [--conns C] [--weight W]
                          N rule creates (rules I..I+N-1; with W another weight than before they
                          are updates) over C keep-alive connections (default ONE), one request
                          in flight per connection, then prints JSON with the latency
                          percentiles (ms) and the rate (changes/s) of all of them.
  gets N                  N fresh clients one after another (new connection each), GET
                          .../loadbalancer/all; prints latency percentiles (ms) and the size.
  slow                    opens --slow connections (from --sources loopback addresses, half of
                          them idle, half trickling header bytes), runs one client pipelining
                          GETs as fast as it can, and meanwhile times --probes fresh clients
                          (new connection, GET .../loadbalancer/all). Prints JSON.
Every loop is bounded in count and time; only 127.0.0.0/8 is contacted.
"""
import argparse
import http.client
import json
import resource
import select
import socket
import sys
import threading
import time

BASE = "/netlox/v1"


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def rule_body(i, weight=1):
    return json.dumps({
        "serviceArguments": {"externalIP": "198.18.%d.%d" % (8 + i // 250, i % 250 + 1), "port": 80, "protocol": "tcp"},
        "endpoints": [{"endpointIP": "10.9.1.1", "targetPort": 8080, "weight": weight}]})


def cmd_creates(a):
    headers = {"Content-Type": "application/json"}
    if a.token:
        headers["Authorization"] = "Bearer " + a.token
    lat, errors = [], []

    def one_conn(ids):
        c = http.client.HTTPConnection(a.host, a.port, timeout=10)
        for i in ids:
            s = time.monotonic()
            c.request("POST", BASE + "/config/loadbalancer", rule_body(i, a.weight), headers)
            r = c.getresponse()
            r.read()
            lat.append((time.monotonic() - s) * 1000.0)
            if r.status != 200:
                errors.append("create %d: HTTP %d" % (i, r.status))
                return

    ids = list(range(a.start, a.start + a.n))
    t0 = time.monotonic()
    threads = [threading.Thread(target=one_conn, args=(ids[k::a.conns],)) for k in range(a.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = time.monotonic() - t0
    if errors:
        sys.exit(errors[0])
    print(json.dumps({"count": a.n, "conns": a.conns, "p50_ms": round(pct(lat, 50), 2),
                      "p99_ms": round(pct(lat, 99), 2), "max_ms": round(max(lat), 2),
                      "rate_per_s": round(a.n / total, 1)}))


def cmd_gets(a):
    lat, size = [], 0
    for _ in range(a.n):
        s = time.monotonic()
        c = http.client.HTTPConnection(a.host, a.port, timeout=10)
        c.request("GET", BASE + "/config/loadbalancer/all", headers={"Connection": "close"})
        r = c.getresponse()
        size = len(r.read())
        c.close()
        lat.append((time.monotonic() - s) * 1000.0)
        if r.status != 200:
            sys.exit("get: HTTP %d" % r.status)
    print(json.dumps({"count": a.n, "bytes": size, "p50_ms": round(pct(lat, 50), 1),
                      "p99_ms": round(pct(lat, 99), 1), "max_ms": round(max(lat), 1)}))


def fresh_probe(host, port, timeout):
    s = time.monotonic()
    try:
        c = http.client.HTTPConnection(host, port, timeout=timeout)
        c.request("GET", BASE + "/config/loadbalancer/all", headers={"Connection": "close"})
        r = c.getresponse()
        r.read()
        c.close()
        ok = r.status == 200
    except OSError:
        ok = False
    return ok, (time.monotonic() - s) * 1000.0


def cmd_slow(a):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, a.slow + 256)), hard))
    slow = []
    for i in range(a.slow):
        src = "127.0.0.%d" % (2 + i % a.sources)
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(5)
        s.connect((a.host, a.port))
        s.setblocking(False)
        slow.append(s)
    trickle = slow[: a.slow // 2]
    req = b"GET " + BASE.encode() + b"/config/loadbalancer/all HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 4000
    stop = threading.Event()
    progress = [0] * len(trickle)

    def trickler():
        # One byte per connection every 200 ms: never a complete request.
        while not stop.is_set():
            for k, s in enumerate(trickle):
                if progress[k] < len(req):
                    try:
                        s.send(req[progress[k]:progress[k] + 1])
                        progress[k] += 1
                    except OSError:
                        progress[k] = len(req)
            stop.wait(0.2)

    piped = {"responses": 0, "errors": 0}

    def pipeliner():
        batch = 32
        one = b"GET " + BASE.encode() + b"/version HTTP/1.1\r\nHost: x\r\n\r\n"
        s = socket.create_connection((a.host, a.port), timeout=5)
        buf = b""
        while not stop.is_set():
            s.sendall(one * batch)
            got = 0
            while got < batch:
                try:
                    chunk = s.recv(65536)
                except OSError:
                    piped["errors"] += 1
                    return
                if not chunk:
                    piped["errors"] += 1
                    return
                buf += chunk
                while True:
                    h = buf.find(b"\r\n\r\n")
                    if h < 0:
                        break
                    head = buf[:h].decode("latin1")
                    if not head.startswith("HTTP/1.1 200"):
                        piped["errors"] += 1
                    cl = 0
                    for line in head.split("\r\n")[1:]:
                        k, _, v = line.partition(":")
                        if k.strip().lower() == "content-length":
                            cl = int(v)
                    if len(buf) < h + 4 + cl:
                        break
                    if b'"version"' not in buf[h + 4:h + 4 + cl]:
                        piped["errors"] += 1
                    buf = buf[h + 4 + cl:]
                    got += 1
            piped["responses"] += got
        s.close()

    threads = [threading.Thread(target=trickler, daemon=True), threading.Thread(target=pipeliner, daemon=True)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # let the pipeliner and the tricklers get going (observation, not a wait for a condition)
    lat, failures = [], 0
    for _ in range(a.probes):
        ok, ms = fresh_probe(a.host, a.port, a.probe_timeout)
        lat.append(ms)
        failures += 0 if ok else 1
        time.sleep(0.05)
    # Are the slow connections still open (not refused or reset) while we probed?
    open_now = 0
    for s in slow:
        try:
            r, _, _ = select.select([s], [], [], 0)
            if not r or s.recv(1, socket.MSG_PEEK):
                open_now += 1
        except OSError:
            pass
    piped_during_probes = piped["responses"]
    closed_after = None
    if a.deadline_wait > 0:
        # The server promises to shut connections that send no complete request in time.
        end = time.monotonic() + a.deadline_wait
        while time.monotonic() < end:
            closed = 0
            for s in trickle:
                try:
                    if s.recv(1) == b"":
                        closed += 1
                except BlockingIOError:
                    pass
                except OSError:
                    closed += 1
            closed_after = closed
            if closed == len(trickle):
                break
            time.sleep(0.25)
    stop.set()
    for t in threads:
        t.join(timeout=5)
    for s in slow:
        s.close()
    print(json.dumps({"slow": a.slow, "slow_open_during_probes": open_now, "probes": a.probes,
                      "probe_failures": failures, "probe_p50_ms": round(pct(lat, 50), 1),
                      "probe_max_ms": round(max(lat), 1), "pipelined_responses": piped_during_probes,
                      "pipeline_errors": piped["errors"], "tricklers": len(trickle),
                      "tricklers_closed_by_deadline": closed_after}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=11111)
    p.add_argument("--token", default="")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("creates")
    c.add_argument("n", type=int)
    c.add_argument("--start", type=int, default=0)
    c.add_argument("--conns", type=int, default=1)
    c.add_argument("--weight", type=int, default=1)
    g = sub.add_parser("gets")
    g.add_argument("n", type=int)
    s = sub.add_parser("slow")
    s.add_argument("--slow", type=int, default=512)
    s.add_argument("--sources", type=int, default=8)
    s.add_argument("--probes", type=int, default=20)
    s.add_argument("--probe-timeout", type=float, default=5.0)
    s.add_argument("--deadline-wait", type=float, default=0.0)
    a = p.parse_args()
    {"creates": cmd_creates, "gets": cmd_gets, "slow": cmd_slow}[a.cmd](a)


if __name__ == "__main__":
    main()
