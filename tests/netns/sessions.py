#!/usr/bin/env python3
"""Traffic tools for HA tests (stdlib only; every loop is bounded by --duration).

  sessions.py serve --port P
      threaded TCP echo server (one line in, the same line out)
  sessions.py hold --target IP:PORT --count N --interval S --duration S --out F [--stop-file F]
      N long-lived sessions; each sends a numbered line every S seconds and checks the echo.
      Writes JSON: per-session errors, messages echoed, the longest gap between two good echoes.
  sessions.py probe --target IP:PORT --interval S --duration S --out F [--stop-file F]
      a NEW connection every S seconds (connect, one echo, close, 100 ms timeout);
      writes JSON with every success/failure timestamp and the longest outage.
"""
import argparse
import json
import os
import socket
import threading
import time


def serve(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(512)

    def handle(conn):
        with conn:
            f = conn.makefile("rwb", buffering=0)
            for line in f:
                f.write(line)

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def parse_target(t):
    host, port = t.rsplit(":", 1)
    return host, int(port)


def hold(args):
    target = parse_target(args.target)
    deadline = time.monotonic() + args.duration
    results = [None] * args.count
    started = threading.Barrier(args.count + 1)

    def session(i):
        r = {"id": i, "echoed": 0, "error": None, "max_gap_ms": 0.0}
        results[i] = r
        try:
            s = socket.create_connection(target, timeout=3)
        except OSError as e:
            r["error"] = "connect: %s" % e
            started.wait()
            return
        s.settimeout(args.timeout)
        f = s.makefile("rwb", buffering=0)
        started.wait()
        last_ok = time.monotonic()
        seq = 0
        try:
            while time.monotonic() < deadline and not os.path.exists(args.stop_file or "/nonexistent"):
                seq += 1
                msg = ("%d:%d\n" % (i, seq)).encode()
                f.write(msg)
                got = f.readline()
                if got != msg:
                    r["error"] = "bad echo %r for %r" % (got, msg)
                    break
                now = time.monotonic()
                r["max_gap_ms"] = max(r["max_gap_ms"], (now - last_ok) * 1000)
                last_ok = now
                r["echoed"] += 1
                time.sleep(args.interval)
        except OSError as e:
            r["error"] = "%s after %d echoes" % (e, r["echoed"])
        finally:
            s.close()

    threads = [threading.Thread(target=session, args=(i,)) for i in range(args.count)]
    for t in threads:
        t.start()
    started.wait()
    # "ready" means every session is connected; otherwise callers must not proceed as if it were.
    if all(r is not None and not (r["error"] or "").startswith("connect") for r in results):
        with open(args.out + ".ready", "w") as f:
            f.write("ready\n")
    for t in threads:
        t.join()
    failed = [r for r in results if r["error"]]
    out = {"sessions": args.count, "failed": len(failed), "errors": [r["error"] for r in failed][:10],
           "echoed": sum(r["echoed"] for r in results),
           "max_gap_ms": max(r["max_gap_ms"] for r in results)}
    with open(args.out, "w") as f:
        json.dump(out, f)


def probe(args):
    target = parse_target(args.target)
    deadline = time.monotonic() + args.duration
    events = []
    while time.monotonic() < deadline and not os.path.exists(args.stop_file or "/nonexistent"):
        t0 = time.monotonic()
        ok = False
        try:
            s = socket.create_connection(target, timeout=0.1)
            s.settimeout(0.1)
            s.sendall(b"probe\n")
            ok = s.recv(64) == b"probe\n"
            s.close()
        except OSError:
            ok = False
        events.append((t0, ok))
        if ok and len(events) == 1 or (ok and not os.path.exists(args.out + ".ready")):
            with open(args.out + ".ready", "w") as f:
                f.write("ready\n")
        time.sleep(max(0.0, args.interval - (time.monotonic() - t0)))
    # Longest outage: from the last success before a failure run to the first success after it.
    outage, last_ok, in_fail = 0.0, None, False
    outages = []
    for t, ok in events:
        if ok:
            if in_fail and last_ok is not None:
                outages.append((t - last_ok) * 1000)
            last_ok, in_fail = t, False
        else:
            in_fail = True
    # Failures before the first success count too (the outage began before we saw it).
    if events and not events[0][1]:
        first_ok = next((t for t, ok in events if ok), None)
        if first_ok is not None:
            outages.append((first_ok - events[0][0]) * 1000)
    out = {"probes": len(events), "ok": sum(1 for _, ok in events if ok),
           "outages_ms": outages, "max_outage_ms": max(outages) if outages else 0.0,
           "ended_ok": bool(events and events[-1][1])}
    with open(args.out, "w") as f:
        json.dump(out, f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["serve", "hold", "probe"])
    p.add_argument("--port", type=int, default=7000)
    p.add_argument("--target")
    p.add_argument("--count", type=int, default=50)
    p.add_argument("--interval", type=float, default=0.05)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--out")
    p.add_argument("--stop-file")
    p.add_argument("--timeout", type=float, default=3.0, help="hold: per-echo timeout in seconds")
    a = p.parse_args()
    {"serve": lambda: serve(a.port), "hold": lambda: hold(a), "probe": lambda: probe(a)}[a.mode]()


if __name__ == "__main__":
    main()
