#!/usr/bin/env python3
"""Answers SIP OPTIONS with 200 OK on UDP PORT: the health checks of ng911-dataplane reach it
(the counting program lets the controller's address through); everything else the counting
program counts and drops before it gets here. Usage: sip-responder.py PORT"""
import socket
import sys

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("0.0.0.0", int(sys.argv[1])))
while True:
    data, peer = sock.recvfrom(65535)
    lines = data.decode("utf-8", "replace").split("\r\n")
    if not lines[0].startswith("OPTIONS "):
        continue
    keep = [l for l in lines[1:] if l.split(":", 1)[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")]
    sock.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode(), peer)
