#!/usr/bin/env python3
"""A tiny WebSocket client (RFC 6455, stdlib only) for the PSAP tests: connects to ws://HOST:PORT/ws
with a Cookie header, prints the HTTP status line of the handshake, then each text frame the
server sends, one per line, for at most SECONDS seconds.
usage: ws_client.py HOST PORT COOKIE SECONDS"""
import base64, os, socket, sys, time

host, port, cookie, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.create_connection((host, port), timeout=5)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nCookie: %s\r\n\r\n" % (host, port, key, cookie)).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    chunk = s.recv(4096)
    if not chunk:
        break
    buf += chunk
head, _, buf = buf.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode(), flush=True)
if b" 101 " not in head.split(b"\r\n")[0]:
    sys.exit(0)
deadline = time.time() + seconds


def need(n):
    global buf
    while len(buf) < n:
        left = deadline - time.time()
        if left <= 0:
            raise TimeoutError
        s.settimeout(left)
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError
        buf += chunk
    out, buf = buf[:n], buf[n:]
    return out


try:
    while True:
        b0, b1 = need(2)
        length = b1 & 0x7F
        if length == 126:
            length = int.from_bytes(need(2), "big")
        elif length == 127:
            length = int.from_bytes(need(8), "big")
        payload = need(length)
        if b0 & 0x0F == 1:
            print(payload.decode(), flush=True)
        elif b0 & 0x0F == 8:
            break
except (TimeoutError, EOFError, socket.timeout, OSError):
    pass
