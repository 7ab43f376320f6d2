#!/usr/bin/env python3
"""Records one real heartbeat of the MASTER off the wire and replays it (tests/netns/ha_replay.sh).

record: on an AF_PACKET socket (run inside the receiving node's namespace), waits for the first
        UDP datagram SRC -> DST:PORT whose payload is a floatlb heartbeat with role MASTER, and
        writes the payload to OUT.
replay: sends the recorded payload from SRC to DST:PORT every INTERVAL seconds until the stop
        file appears or DURATION passes (bounded), then prints how many it sent.
"""
import argparse
import os
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
MASTER = 1


def record(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    s.bind((a.iface, 0))
    s.settimeout(0.2)
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.dst)
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        try:
            frame = s.recv(2048)
        except socket.timeout:
            continue
        ip = frame[14:]
        if len(ip) < 28 or ip[9] != socket.IPPROTO_UDP or ip[12:16] != src or ip[16:20] != dst:
            continue
        ihl = (ip[0] & 0x0F) * 4
        dport = struct.unpack("!H", ip[ihl + 2:ihl + 4])[0]
        payload = ip[ihl + 8:]
        if dport != a.port or payload[:4] != b"FLHB" or len(payload) < 8 or payload[6] != MASTER:
            continue
        with open(a.out + ".tmp", "wb") as f:
            f.write(payload)
        os.rename(a.out + ".tmp", a.out)
        print(f"recorded a {len(payload)}-byte MASTER heartbeat {a.src} -> {a.dst}:{a.port}")
        return 0
    print("no MASTER heartbeat seen", file=sys.stderr)
    return 1


def replay(a):
    payload = open(a.file, "rb").read()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.src, 0))
    sent = 0
    deadline = time.monotonic() + a.duration
    while time.monotonic() < deadline and not os.path.exists(a.stop_file):
        s.sendto(payload, (a.dst, a.port))
        sent += 1
        time.sleep(a.interval)  # the attacker's send rate
    print(f"replayed {sent} times")
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--iface", required=True)
    r.add_argument("--src", required=True)
    r.add_argument("--dst", required=True)
    r.add_argument("--port", type=int, default=3784)
    r.add_argument("--out", required=True)
    r.add_argument("--timeout", type=float, default=5)
    q = sub.add_parser("replay")
    q.add_argument("--src", required=True)
    q.add_argument("--dst", required=True)
    q.add_argument("--port", type=int, default=3784)
    q.add_argument("--file", required=True)
    q.add_argument("--interval", type=float, default=0.05)
    q.add_argument("--duration", type=float, default=20)
    q.add_argument("--stop-file", required=True)
    a = p.parse_args()
    return record(a) if a.cmd == "record" else replay(a)


if __name__ == "__main__":
    sys.exit(main())
