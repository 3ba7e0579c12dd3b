#!/usr/bin/env python3
"""A PSAP queue over TCP that answers each INVITE and, once the caller's ACK is in, hangs up the
way many SIP stacks do: its BYE goes to the ESRP's Record-Route URI over a TCP connection of its
own (the ESRP's connection to it comes from a port that is not the ESRP's listening one), so with
several event loops the BYE may reach another loop than the one that routed the call.

usage: tcp_psap.py PORT CALLS
Prints one line per call hung up: "<Call-ID> <status of the BYE's answer, 0 for none within 3 s>";
exits 0 once CALLS calls were answered and hung up, 1 if that did not happen within 60 s.
(SIPp, as the caller, sends its answer to the BYE to the ESRP's listening port instead of the
Via's, where it reaches the loop that routed the call, not always the one that holds the BYE's
transaction: the ESRP must hand it over for the status to be 200.)"""
import re
import socket
import sys
import threading
import uuid

PORT, CALLS = int(sys.argv[1]), int(sys.argv[2])
TIMEOUT = 60


def read_message(conn, buffer):
    """One SIP message from a stream (headers, then Content-Length bytes); None at EOF."""
    while b"\r\n\r\n" not in buffer[0]:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer[0] += chunk
    head, rest = buffer[0].split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head).group(1))
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    buffer[0] = rest[length:]
    return head.decode(errors="replace"), rest[:length]


def headers(head, name):
    return [m.group(1).strip() for m in re.finditer(r"(?im)^%s\s*:\s*(.*)$" % name, head)]


def split_values(values):
    out = []
    for v in values:
        out += [x.strip() for x in re.split(r",(?=\s*<)", v)]
    return out


def hang_up(invite_head, to_tag, results):
    call_id = headers(invite_head, "Call-ID")[0]
    route = split_values(headers(invite_head, "Record-Route"))
    contact = headers(invite_head, "Contact")[0]
    bracketed = re.search(r"<([^>]*)>", contact)
    target = bracketed.group(1) if bracketed else contact.split(";")[0].strip()
    first = re.search(r"sip:([^;>]*)", route[0]).group(1)
    host, port = first.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=3) as conn:  # a connection of its own
        local_port = conn.getsockname()[1]
        bye = ("BYE %s SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK%s\r\n" % (target, local_port, uuid.uuid4().hex)
               + "".join("Route: %s\r\n" % r for r in route)
               + "Max-Forwards: 70\r\nFrom: %s;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n"
               % (headers(invite_head, "To")[0], to_tag, headers(invite_head, "From")[0], call_id))
        conn.sendall(bye.encode())
        buffer = [b""]
        try:
            while True:
                message = read_message(conn, buffer)
                if message is None:
                    break
                status = int(message[0].split(" ", 2)[1])
                if status >= 200:
                    results.append((call_id, status))
                    return
        except socket.timeout:
            pass
        results.append((call_id, 0))


answered = {}  # Call-ID -> (the INVITE's header block, our To tag), until the caller's ACK
answered_lock = threading.Lock()


def serve(conn, results, done):
    buffer = [b""]
    with conn:
        while not done.is_set():
            message = read_message(conn, buffer)
            if message is None:
                return
            head, _ = message
            if head.startswith("ACK "):
                # The call is up: hang up (the ACK may come over another connection than the INVITE).
                with answered_lock:
                    call = answered.pop(headers(head, "Call-ID")[0], None)
                if call:
                    threading.Thread(target=hang_up, args=(call[0], call[1], results), daemon=True).start()
                continue
            if not head.startswith("INVITE "):
                continue
            to_tag = uuid.uuid4().hex[:8]
            answer = ("SIP/2.0 200 OK\r\n" + "".join("Via: %s\r\n" % v for v in headers(head, "Via"))
                      + "".join("Record-Route: %s\r\n" % r for r in headers(head, "Record-Route"))
                      + "From: %s\r\nTo: %s;tag=%s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
                      % (headers(head, "From")[0], headers(head, "To")[0], to_tag, headers(head, "Call-ID")[0],
                         headers(head, "CSeq")[0])
                      + "Contact: <sip:psap@127.0.0.1:%d;transport=tcp>\r\nContent-Length: 0\r\n\r\n" % PORT)
            with answered_lock:
                answered[headers(head, "Call-ID")[0]] = (head, to_tag)
            conn.sendall(answer.encode())


def main():
    results, done = [], threading.Event()
    listener = socket.create_server(("127.0.0.1", PORT))
    listener.settimeout(0.2)
    deadline = threading.Timer(TIMEOUT, done.set)
    deadline.start()
    while not done.is_set() and len(results) < CALLS:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(conn, results, done), daemon=True).start()
    deadline.cancel()
    for call_id, status in results:
        print(call_id, status)
    sys.exit(0 if len(results) >= CALLS else 1)


main()
