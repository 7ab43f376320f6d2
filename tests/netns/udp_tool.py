#!/usr/bin/env python3
"""Tiny UDP helpers for netns tests.
  udp_tool.py serve PORT NAME          answer every datagram with NAME (runs until killed)
  udp_tool.py ask HOST PORT SRCPORT    send one datagram from SRCPORT, print the reply or 'no-reply'
"""
import socket
import sys

if sys.argv[1] == "serve":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(sys.argv[2])))
    name = sys.argv[3].encode()
    while True:
        _, peer = s.recvfrom(2048)
        s.sendto(name, peer)
elif sys.argv[1] == "ask":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sys.argv[4])))
    s.settimeout(1.0)
    s.sendto(b"hi", (sys.argv[2], int(sys.argv[3])))
    try:
        print(s.recv(2048).decode())
    except socket.timeout:
        print("no-reply")
