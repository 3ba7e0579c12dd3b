#!/usr/bin/env python3
"""A stand-in ESRP node for the dataplane's end-to-end test: answers OPTIONS (the controller's
health check) with 200 and records the Call-ID of every other request, one per line.
Usage: sip_backend.py PORT LOGFILE"""
import socket
import sys

port, log_path = int(sys.argv[1]), sys.argv[2]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("0.0.0.0", port))
with open(log_path, "a", buffering=1) as log:
    while True:
        data, peer = sock.recvfrom(65535)
        text = data.decode("utf-8", "replace")
        lines = text.split("\r\n")
        headers = {}
        for line in lines[1:]:
            if not line:
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        call_id = headers.get("call-id") or headers.get("i", "")
        if lines[0].startswith("OPTIONS "):
            reply = "SIP/2.0 200 OK\r\n"
            for name in ("via", "from", "to", "call-id", "cseq"):
                if name in headers:
                    reply += f"{name}: {headers[name]}\r\n"
            reply += "Content-Length: 0\r\n\r\n"
            sock.sendto(reply.encode(), peer)
        else:
            log.write(call_id + "\n")
