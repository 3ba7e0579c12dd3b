#!/usr/bin/env python3
"""Sends CALLS emergency calls' worth of SIP over UDP to ADDR:PORT: for each call an INVITE to
urn:service:sos, then the ACK and the BYE of its dialog (their To headers carry the far end's
tag). With --in-dialog, only a BYE per call: calls already in progress. Paced (bounded in count
and time).
Usage: sip_client.py ADDR PORT CALLS PREFIX [--in-dialog]"""
import socket
import sys
import time

addr, port, calls, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
in_dialog = "--in-dialog" in sys.argv[5:]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
deadline = time.monotonic() + 30


def request(method, uri, call_id, cseq, to_tag=""):
    return (f"{method} {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 10.66.0.2:5060;branch=z9hG4bK-{call_id}-{cseq}\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:caller@example.com>;tag=e2e\r\n"
            f"To: <urn:service:sos>{to_tag}\r\n"
            f"Call-ID: {call_id}\r\n"
            f"CSeq: {cseq} {method}\r\n"
            "Content-Length: 0\r\n\r\n").encode()


for i in range(calls):
    if time.monotonic() > deadline:
        sys.exit("client: out of time")
    call_id = f"{prefix}-{i}@caller.example.com"
    if not in_dialog:
        sock.sendto(request("INVITE", "urn:service:sos", call_id, 1), (addr, port))
        sock.sendto(request("ACK", "sip:esrp@10.66.0.1", call_id, 1, ";tag=psap"), (addr, port))
    sock.sendto(request("BYE", "sip:esrp@10.66.0.1", call_id, 2, ";tag=psap"), (addr, port))
    time.sleep(0.002)
