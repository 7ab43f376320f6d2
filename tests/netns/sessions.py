#!/usr/bin/env python3
"""Traffic tools for HA tests (stdlib only; every loop is bounded by --duration).

  sessions.py serve --port P
      threaded TCP echo server (one line in, the same line out)
  sessions.py hold --target IP:PORT --count N --interval S --duration S --out F [--stop-file F]
      N long-lived sessions; each sends a numbered line every S seconds and checks the echo.
      F.ready appears once all are connected (line 2: that wall-clock time in ms).
      Writes JSON: sessions requested and actually opened, errors, how each session ended
      ("stop": the stop file; "deadline": --duration ran out first, i.e. it ended early), whether
      the stop file ended the run, messages echoed, the longest gap between two good echoes.
      Check it with `sessions.py verify` rather than reading single fields. While running it keeps
      F.progress holding {"last_ok_ms": [...]}: each session's latest good echo (wall-clock ms,
      0 = none yet), so a caller can wait for "every session echoed after time T".
  sessions.py probe --target IP:PORT --interval S --duration S --out F [--stop-file F]
      a NEW connection every S seconds (connect, one echo, close, 100 ms timeout);
      writes JSON with the outages (a run of failures still open at the end counts, up to the
      last probe) and whether the last probe succeeded. While running it keeps F.lastok holding
      the wall-clock time (ms) of its latest success, so callers can wait for "a probe succeeded
      after time T" instead of sleeping.
  sessions.py trigger --out F --after-ms MS --timeout S -- CMD...
      writes F.armed, then waits (at most S seconds) for the hold marker F.ready (start the hold
      after F.armed exists, or the marker may be old when seen), runs CMD exactly MS after the time
      in it, prints how long after that time CMD started (ms); exit 1 if F.ready never came.
      For "a flow opened 100 ms before the failure": shell polling is too coarse for that.
  sessions.py hold --http ...
      the same against an HTTP/1.1 server (nginx): each round is one keep-alive `GET /` on the
      session's connection; a round is good when the answer is 200 with nginx's welcome page.
  sessions.py verify --out F --count N --max-gap-ms MS
      exit 0 only if the hold report F shows N sessions opened, none failed, every one ended by the
      stop file, and no session paused longer than MS; prints why otherwise.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
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
        r = {"id": i, "echoed": 0, "error": None, "max_gap_ms": 0.0, "opened": False, "end": None}
        results[i] = r
        try:
            s = socket.create_connection(target, timeout=3)
        except OSError as e:
            r["error"] = "connect: %s" % e
            started.wait()
            return
        r["opened"] = True
        r["last_ok_ms"] = 0
        s.settimeout(args.timeout)
        f = s.makefile("rwb", buffering=0)
        started.wait()
        last_ok = time.monotonic()
        seq = 0
        exchange = http_round if args.http else echo_round
        try:
            while True:
                if args.stop_file and os.path.exists(args.stop_file):
                    r["end"] = "stop"
                    break
                if time.monotonic() >= deadline:
                    r["end"] = "deadline"
                    break
                seq += 1
                bad = exchange(f, i, seq)
                if bad:
                    r["error"] = bad
                    break
                now = time.monotonic()
                r["max_gap_ms"] = max(r["max_gap_ms"], (now - last_ok) * 1000)
                last_ok = now
                r["last_ok_ms"] = int(time.time() * 1000)
                r["echoed"] += 1
                time.sleep(args.interval)
        except OSError as e:
            r["error"] = "%s after %d echoes" % (e, r["echoed"])
        finally:
            s.close()
            if r["error"]:
                r["end"] = "error"

    threads = [threading.Thread(target=session, args=(i,)) for i in range(args.count)]
    for t in threads:
        t.start()
    started.wait()
    # "ready" means every session is connected; otherwise callers must not proceed as if it were.
    # Its second line is the wall-clock time (ms) by which they all were.
    if all(r is not None and r["opened"] for r in results):
        write_marker(args.out + ".ready", "ready\n%d\n" % int(time.time() * 1000))
    while any(t.is_alive() for t in threads):  # bounded: every session ends by --duration
        write_marker(args.out + ".progress",
                     json.dumps({"last_ok_ms": [r.get("last_ok_ms", 0) for r in results]}))
        time.sleep(0.2)
    for t in threads:
        t.join()
    failed = [r for r in results if r["error"]]
    ends = [r["end"] for r in results]
    out = {"sessions": args.count, "opened": sum(1 for r in results if r["opened"]),
           "failed": len(failed), "errors": [r["error"] for r in failed][:10],
           "ended_by_stop": ends.count("stop"), "ended_early": ends.count("deadline"),
           "stop_file_ended_run": bool(args.stop_file) and ends.count("stop") == args.count,
           "echoed": sum(r["echoed"] for r in results),
           "min_echoed": min(r["echoed"] for r in results),
           "max_gap_ms": max(r["max_gap_ms"] for r in results)}
    with open(args.out, "w") as f:
        json.dump(out, f)


def echo_round(f, i, seq):
    """One numbered line out, the same line back; returns what went wrong, or None."""
    msg = ("%d:%d\n" % (i, seq)).encode()
    f.write(msg)
    got = f.readline()
    return None if got == msg else "bad echo %r for %r" % (got, msg)


def http_round(f, i, seq):
    """One keep-alive GET / on the session's connection: 200 and nginx's welcome page, else the reason."""
    f.write(b"GET / HTTP/1.1\r\nHost: floatlb\r\nUser-Agent: sessions/%d.%d\r\n\r\n" % (i, seq))
    status = f.readline()
    length = None
    while True:  # headers; bounded by the socket timeout and the server's header size
        h = f.readline()
        if not h:
            return "connection closed in the headers of request %d" % seq
        if h in (b"\r\n", b"\n"):
            break
        name, _, value = h.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        return "no Content-Length in %r" % status
    body = b""
    while len(body) < length:  # the file is unbuffered: read() may return less
        chunk = f.read(length - len(body))
        if not chunk:
            return "connection closed after %d of %d body bytes" % (len(body), length)
        body += chunk
    if not status.startswith(b"HTTP/1.1 200") or b"Welcome to nginx!" not in body:
        return "bad answer %r (%d body bytes) to request %d" % (status, len(body), seq)
    return None


def write_marker(path, text):
    """Atomic replace, so a reader never sees a half-written file."""
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def outages_ms(events):
    """Every run of failed probes as an outage in ms, from the last success before it (or the
    run's first probe) to the first success after it, or to the last probe if the run is still
    open at the end: an outage that never ends is the longest one, not zero."""
    outages, last_ok, fail_start = [], None, None
    for t, ok in events:
        if ok:
            if fail_start is not None:
                outages.append((t - (last_ok if last_ok is not None else fail_start)) * 1000)
            last_ok, fail_start = t, None
        elif fail_start is None:
            fail_start = t
    if fail_start is not None:
        outages.append((events[-1][0] - (last_ok if last_ok is not None else fail_start)) * 1000)
    return outages


def verify(args):
    """The checks every caller of `hold` needs, in one place (see the module doc)."""
    try:
        with open(args.out) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        print("no hold report %s: %s" % (args.out, e))
        return 1
    problems = []
    if d["sessions"] != args.count:
        problems.append("%d sessions requested, expected %d" % (d["sessions"], args.count))
    if d["opened"] != args.count:
        problems.append("only %d of %d sessions opened" % (d["opened"], args.count))
    if d["failed"]:
        problems.append("%d sessions failed: %s" % (d["failed"], d["errors"]))
    if not d["stop_file_ended_run"]:
        problems.append("the stop file did not end the run (%d ended by it, %d ran out of --duration first)"
                        % (d["ended_by_stop"], d["ended_early"]))
    if d["max_gap_ms"] > args.max_gap_ms:
        problems.append("a session paused %.0f ms (bound %d ms)" % (d["max_gap_ms"], args.max_gap_ms))
    for p in problems:
        print("sessions: " + p)
    return 1 if problems else 0


def trigger(args):
    deadline = time.monotonic() + args.timeout
    ready = args.out + ".ready"
    write_marker(args.out + ".armed", "armed\n")  # start the hold only once this exists
    while time.monotonic() < deadline:
        try:
            with open(ready) as f:
                lines = f.read().split()
            if len(lines) >= 2:
                break
        except OSError:
            pass
        time.sleep(0.001)
    else:
        print("trigger: %s did not appear within %.0f s" % (ready, args.timeout))
        return 1
    at = int(lines[1]) / 1000.0 + args.after_ms / 1000.0
    time.sleep(max(0.0, at - time.time()))
    age_ms = (time.time() - int(lines[1]) / 1000.0) * 1000
    if not args.cmd:
        print("trigger: no command after --")
        return 2
    rc = subprocess.call(args.cmd)
    print("%d" % round(age_ms))
    return rc


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
        if ok:
            write_marker(args.out + ".lastok", "%d\n" % int(time.time() * 1000))
            if not os.path.exists(args.out + ".ready"):
                write_marker(args.out + ".ready", "ready\n")
        time.sleep(max(0.0, args.interval - (time.monotonic() - t0)))
    outages = outages_ms(events)
    out = {"probes": len(events), "ok": sum(1 for _, ok in events if ok),
           "outages_ms": outages, "max_outage_ms": max(outages) if outages else 0.0,
           "ended_ok": bool(events and events[-1][1])}
    with open(args.out, "w") as f:
        json.dump(out, f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["serve", "hold", "probe", "verify", "trigger"])
    p.add_argument("--port", type=int, default=7000)
    p.add_argument("--target")
    p.add_argument("--count", type=int, default=50)
    p.add_argument("--interval", type=float, default=0.05)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--out")
    p.add_argument("--stop-file")
    p.add_argument("--http", action="store_true", help="hold: keep-alive GET / rounds instead of echoes")
    p.add_argument("--timeout", type=float, default=3.0, help="hold: per-echo timeout in seconds")
    p.add_argument("--max-gap-ms", type=int, default=0, help="verify: longest pause allowed")
    p.add_argument("--after-ms", type=int, default=0, help="trigger: delay after the ready time")
    argv = sys.argv[1:]
    cmd = argv[argv.index("--") + 1:] if "--" in argv else []  # trigger: the command after --
    a = p.parse_args(argv[:len(argv) - len(cmd) - (1 if cmd else 0)])
    a.cmd = cmd
    modes = {"serve": lambda: serve(a.port), "hold": lambda: hold(a), "probe": lambda: probe(a),
             "verify": lambda: verify(a), "trigger": lambda: trigger(a)}
    sys.exit(modes[a.mode]() or 0)


if __name__ == "__main__":
    main()
