#!/usr/bin/env bash
# The SIP core with a real peer: SIPp as caller and callee through ng911-sip-proxy, over UDP and
# TCP: plain calls (INVITE, 180, 200, ACK, BYE), a refused call (486, hop-by-hop ACK), a call
# cancelled while ringing (CANCEL, 487), a callee that never answers (Timer B: 408) and one
# that cannot be reached over TCP (503); serial forking past a busy or unanswering hop; a next
# hop named by a host name, located by DNS (RFC 3263).
#   sipp_proxy_test.sh PATH/TO/ng911-sip-proxy
source "$(dirname "$0")/../support/testlib.sh"
proxy_bin="$1"
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
require sipp


# start_proxy NEXT_HOP [extra options]: sets $proxy_port
start_proxy() {
  proxy_log="$tmp/proxy-$RANDOM.log"
  local log="$proxy_log"
  "$proxy_bin" --listen 127.0.0.1:0 --next-hop "$@" 2>"$log" &
  proxy_pid=$!
  pids+=($!)
  proxy_port=""
  for _ in $(seq 100); do
    proxy_port="$(sed -n 's/.*"listening".*"port":\([0-9]*\).*/\1/p' "$log")"
    [ -n "$proxy_port" ] && return 0
    sleep 0.05
  done
  fail "proxy did not start"; cat "$log"; return 1
}

# flow NAME TRANSPORT CALLS UAC_SCENARIO UAS_SCENARIO(or "none") [proxy options]
flow() {
  local name="$1" transport="$2" calls="$3" uac="$4" uas="$5"; shift 5
  local uas_port; uas_port="$(free_port)"
  local t=(); [ "$transport" = tcp ] && t=(-t t1)
  if [ "$uas" != none ]; then
    timeout 90 sipp "${t[@]}" $uas -i 127.0.0.1 -p "$uas_port" -m "$calls" -nostdin -timeout 60 \
      >"$tmp/$name-uas.out" 2>&1 &
    pids+=($!)
  fi
  start_proxy "$transport:127.0.0.1:$uas_port" "$@" || return
  local uac_port; uac_port="$(free_port)"
  if timeout 90 sipp "${t[@]}" $uac "127.0.0.1:$proxy_port" -i 127.0.0.1 -p "$uac_port" -m "$calls" -r 20 \
      -nostdin -timeout 60 -timeout_error >"$tmp/$name-uac.out" 2>&1; then
    pass "$name: $calls calls as expected"
  else
    fail "$name: SIPp caller failed"
    grep -E "Successful call|Failed call|Unexpected|Aborting|timeout" "$tmp/$name-uac.out" | head -5 | sed 's/^/     /'
  fi
  kill "$proxy_pid" 2>/dev/null; wait "$proxy_pid" 2>/dev/null || true
  flow_stats="$(grep '"stopped"' "$proxy_log" || true)"
}
stat() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$2"; }

scen="$here/sipp"
flow basic-udp udp 20 "-sn uac" "-sn uas"
flow basic-tcp tcp 20 "-sn uac" "-sn uas"
# Two event loops sharing the port: each keeps its transactions, responses come back to it.
flow two-loops-udp udp 40 "-sn uac" "-sn uas" --threads 2
# SIPp sends every call from one port, which the kernel's 4-tuple hash would put on one loop;
# steered by Call-ID (kernel/ng911_steer.bpf.c) the calls spread over both.
if [ "$(id -u)" = 0 ]; then
  grep -q '"steering":"call-id"' "$proxy_log" && pass "two-loops-udp: UDP steered by Call-ID" \
    || fail "two-loops-udp: no Call-ID steering: $(grep -E 'steering' "$proxy_log" | head -2)"
  loops="$(sed -n 's/.*"requests_per_loop":\[\([0-9]*\),\([0-9]*\)\].*/\1 \2/p' <<<"$flow_stats")"
  read -r loop0 loop1 <<<"$loops"
  [ "${loop0:-0}" -gt 0 ] && [ "${loop1:-0}" -gt 0 ] && pass "two-loops-udp: both loops had calls ($loops requests)" \
    || fail "two-loops-udp: requests per loop '$loops'"
fi
flow two-loops-tcp tcp 40 "-sn uac" "-sn uas" --threads 2
flow busy-udp udp 5 "-sf $scen/uac-busy.xml" "-sf $scen/uas-busy.xml"
flow busy-tcp tcp 5 "-sf $scen/uac-busy.xml" "-sf $scen/uas-busy.xml"
flow cancel-udp udp 5 "-sf $scen/uac-cancel.xml" "-sf $scen/uas-cancel.xml"
# RFC 3261 §18.1.1: an emergency INVITE with its PIDF-LO is over 1300 bytes, so the proxy sends
# it over TCP; this callee listens on UDP only, so the proxy falls back to UDP.
flow emergency-large-udp udp 3 "-sf $scen/uac-emergency.xml" "-sn uas"
expect_eq "$(stat large_over_tcp "$flow_stats")/$(stat udp_fallbacks "$flow_stats")" "3/3" \
  "emergency-large-udp: each large INVITE tried over TCP first, then UDP"
# Nobody at the next hop: over UDP Timer B (64*T1, T1 = 50 ms here) ends in 408; over TCP the
# refused connection ends in 503 at once.
sed 's/response="486"/response="408"/' "$scen/uac-busy.xml" > "$tmp/uac-408.xml"
sed 's/response="486"/response="503"/' "$scen/uac-busy.xml" > "$tmp/uac-503.xml"
flow timeout-udp udp 2 "-sf $tmp/uac-408.xml" none --t1-ms 50
flow refused-tcp tcp 2 "-sf $tmp/uac-503.xml" none

# Serial forking (the ESRP's failover): the first next hop refuses or rings without answer, the
# second takes the call; when every hop fails, the best failure goes back.
# fork NAME CALLS UAC UAS1 UAS2(or "none") [proxy options]
fork() {
  local name="$1" calls="$2" uac="$3" uas1="$4" uas2="$5"; shift 5
  local p1 p2; p1="$(free_port)"; p2="$(free_port)"
  timeout 90 sipp $uas1 -i 127.0.0.1 -p "$p1" -m "$calls" -nostdin -timeout 60 >"$tmp/$name-uas1.out" 2>&1 &
  pids+=($!)
  if [ "$uas2" != none ]; then
    timeout 90 sipp $uas2 -i 127.0.0.1 -p "$p2" -m "$calls" -nostdin -timeout 60 >"$tmp/$name-uas2.out" 2>&1 &
    pids+=($!)
  fi
  local log="$tmp/proxy-$name.log"
  "$proxy_bin" --listen 127.0.0.1:0 --next-hop "udp:127.0.0.1:$p1" --next-hop "udp:127.0.0.1:$p2" "$@" 2>"$log" &
  local proxy_pid=$!
  pids+=($proxy_pid)
  proxy_port=""
  for _ in $(seq 100); do
    proxy_port="$(sed -n 's/.*"listening".*"port":\([0-9]*\).*/\1/p' "$log")"; [ -n "$proxy_port" ] && break; sleep 0.05
  done
  if timeout 90 sipp $uac "127.0.0.1:$proxy_port" -i 127.0.0.1 -p "$(free_port)" -m "$calls" -r 10 -nostdin -timeout 60 \
      -timeout_error >"$tmp/$name-uac.out" 2>&1; then
    pass "$name: $calls calls as expected"
  else
    fail "$name: SIPp caller failed"
    grep -E "Successful call|Failed call|Unexpected|Aborting" "$tmp/$name-uac.out" | head -5 | sed 's/^/     /'
  fi
  kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true
  fork_stats="$(grep '"stopped"' "$log")"
}
fork fork-busy 5 "-sn uac" "-sf $scen/uas-busy.xml" "-sn uas"
expect_eq "$(sed -n 's/.*"retargets":\([0-9]*\).*/\1/p' <<<"$fork_stats")" 5 "fork-busy: each call retargeted once"
fork fork-ring-no-answer 3 "-sn uac" "-sf $scen/uas-cancel.xml" "-sn uas" --branch-timeout-ms 300
expect_eq "$(sed -n 's/.*"branch_timeouts":\([0-9]*\).*/\1/p' <<<"$fork_stats")" 3 "fork-ring-no-answer: each first branch CANCELed"
fork fork-all-fail 2 "-sf $scen/uac-busy.xml" "-sf $scen/uas-busy.xml" none --t1-ms 50
expect_eq "$(sed -n 's/.*"timeouts":\([0-9]*\).*/\1/p' <<<"$fork_stats")" 2 "fork-all-fail: the dead second hop timed out, the caller got the 486"

# Garbage and torture messages do not stop it: it still routes a call afterwards.
start_proxy "udp:127.0.0.1:$(free_port)"
for f in "$here"/../../../shared/conformance/rfc4475/*.dat; do
  [ -f "$f" ] && python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(open(sys.argv[1],"rb").read(),("127.0.0.1",int(sys.argv[2])))' "$f" "$proxy_port"
done
head -c 3000 /dev/urandom | python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(sys.stdin.buffer.read(),("127.0.0.1",int(sys.argv[1])))' "$proxy_port"
got="$(python3 - "$proxy_port" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
msg = ("OPTIONS sip:user@127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKsurvivor\r\n"
       "Max-Forwards: 0\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: survivor\r\n"
       "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % (sys.argv[1], port))
s.sendto(msg.encode(), ("127.0.0.1", int(sys.argv[1])))
print(s.recv(65535).decode().split("\r\n")[0])
PY
)"
expect_eq "$got" "SIP/2.0 483 Too Many Hops" "after torture messages and garbage the proxy still answers (483 for Max-Forwards 0)"

# RFC 3581 / §18.2.1: the forwarded request's Via of the client carries rport=<its source port>;
# §18.1.2: a response whose top Via is not the proxy's is dropped, not forwarded.
hop="$(free_port)"
start_proxy "udp:127.0.0.1:$hop"
got="$(PYTHONPATH="$here" python3 - "$proxy_port" "$hop" <<'PY'
import socket, sys
from proxy_peers import udp_peers
proxy, hop = int(sys.argv[1]), int(sys.argv[2])
downstream, client, port = udp_peers(hop, 3, 1)
client.sendto(("OPTIONS sip:x@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKrport1;rport\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: rport1\r\n"
               "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % proxy).encode(), ("127.0.0.1", proxy))
fwd = downstream.recv(65535).decode()
vias = [l for l in fwd.split("\r\n") if l.lower().startswith("via:")]
ok_rport = any(("rport=%d" % port) in v for v in vias[1:])
# A response with a foreign top Via, the client's below it: must not reach the client.
client.sendto(("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1111;branch=z9hG4bKforeign\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKvictim\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n"
               "To: <sip:b@127.0.0.1>;tag=2\r\nCall-ID: foreign1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n" % port).encode(),
              ("127.0.0.1", proxy))
try:
    client.recv(65535); dropped = False
except socket.timeout:
    dropped = True
print("rport=%s dropped=%s" % (ok_rport, dropped))
PY
)"
expect_eq "$got" "rport=True dropped=True" "rport filled in for the client; a response with a foreign top Via dropped"

# §16.3 step 4: a request that comes back unchanged is a loop (482); §16.4: after a strict
# router, the Request-URI holds our Record-Route URI and the last Route is the real target.
# (The port must be known before it is bound, to name it as the next hop: a few tries, in case
# another process takes the free port first.)
for _ in 1 2 3; do
  self_port="$(free_port)"
  "$proxy_bin" --listen "127.0.0.1:$self_port" --next-hop "udp:127.0.0.1:$self_port" 2>"$tmp/loop.log" &
  loop_pid=$!
  for _ in $(seq 100); do grep -q listening "$tmp/loop.log" && break; kill -0 "$loop_pid" 2>/dev/null || break; sleep 0.05; done
  if grep -q listening "$tmp/loop.log"; then pids+=($loop_pid); break; fi
done
hop="$(free_port)"
got="$(PYTHONPATH="$here" python3 - "$self_port" "$hop" <<'PY'
import sys
from proxy_peers import udp_peers
proxy, hop = int(sys.argv[1]), int(sys.argv[2])
downstream, client, port = udp_peers(hop, 5, 5)
def request(ruri, extra=""):
    return ("OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%%d;branch=z9hG4bK%%s\r\nMax-Forwards: 70\r\n"
            "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: %%s\r\nCSeq: 1 OPTIONS\r\n%s"
            "Content-Length: 0\r\n\r\n") % (ruri, extra)
client.sendto((request("sip:x@127.0.0.1:%d" % proxy) % (port, "loop1", "loop1")).encode(), ("127.0.0.1", proxy))
answer = client.recv(65535).decode().split("\r\n")[0]
client.sendto((request("sip:127.0.0.1:%d;lr" % proxy, "Route: <sip:target@127.0.0.1:%d>\r\n" % hop) % (port, "strict1", "strict1")).encode(),
              ("127.0.0.1", proxy))
line = downstream.recv(65535).decode().split("\r\n")[0]
print("%s | %s" % (answer, line))
PY
)"
expect_eq "$got" "SIP/2.0 482 Loop Detected | OPTIONS sip:target@127.0.0.1:$hop SIP/2.0" \
  "a request looping back is refused with 482; a strict router's Request-URI is fixed up"

# Retransmissions of an INVITE (an RFC 3261 branch, and an RFC 2543 one without the magic cookie)
# are absorbed by their transaction: each answered again with 100, forwarded once (one branch of
# the proxy's downstream, whatever its own retransmissions).
hop="$(free_port)"
start_proxy "udp:127.0.0.1:$hop"
got="$(PYTHONPATH="$here" python3 - "$proxy_port" "$hop" <<'PY'
import sys, time
from proxy_peers import udp_peers
proxy, hop = int(sys.argv[1]), int(sys.argv[2])
downstream, client, port = udp_peers(hop, 0.5, 0.5)
def invite(branch, call_id):
    # The Via names another host than the packet's source: the proxy stamps received= on it.
    return ("INVITE sip:psap@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:%d;branch=%s\r\nMax-Forwards: 70\r\n"
            "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:psap@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
            "Contact: <sip:a@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n" % (proxy, port, branch, call_id, port)).encode()
for branch, call_id in (("z9hG4bK-rtx3261", "rtx3261"), ("old2543", "rtx2543")):
    for _ in range(3):
        client.sendto(invite(branch, call_id), ("127.0.0.1", proxy))
        time.sleep(0.05)
import select
tryings, others, forwarded = 0, 0, set()
while True:  # until nothing more comes for a second
    ready, _, _ = select.select([client, downstream], [], [], 1.0)
    if not ready:
        break
    for s in ready:
        data = s.recv(65535)
        if s is client and data.startswith(b"SIP/2.0 100 "): tryings += 1
        elif s is client: others += 1
        if s is downstream and data.startswith(b"INVITE "):  # the proxy's own Timer A resends too
            forwarded.add(data.split(b"branch=")[1].split(b"\r\n")[0].split(b";")[0])
print("tryings=%d others=%d forwarded=%d" % (tryings, others, len(forwarded)))
PY
)"
kill "$proxy_pid" 2>/dev/null; wait "$proxy_pid" 2>/dev/null || true
expect_eq "$got" "tryings=6 others=0 forwarded=2" \
  "retransmitted INVITEs (RFC 3261 and 2543 branches) answered 100 each time and nothing else, forwarded once each"

# RFC 3263: a next hop named by a host name is located by DNS (dnsmasq on loopback): the
# Request-URI sip:x@hop.test has an SRV record naming the next hop's port, and the request
# reaches it with its Request-URI kept; a name without any record is answered 404.
hop="$(free_port)"
if start_dns "$tmp/dnsmasq.log" --srv-host="_sip._udp.hop.test,next.hop.test,$hop,10,0" \
     --host-record=next.hop.test,127.0.0.1; then
  start_proxy "udp:127.0.0.1:$(free_port)" --dns-server "127.0.0.1:$dns_port"
  got="$(PYTHONPATH="$here" python3 - "$proxy_port" "$hop" <<'PY'
import socket, sys
from proxy_peers import udp_peers
proxy, hop = int(sys.argv[1]), int(sys.argv[2])
downstream, client, port = udp_peers(hop, 5, 5)
def options(ruri, call_id):
    return ("OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\n"
            "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@hop.test>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n" % (ruri, port, call_id, call_id)).encode()
client.sendto(options("sip:x@hop.test", "dns1"), ("127.0.0.1", proxy))
try:
    located = downstream.recv(65535).decode().split("\r\n")[0]
except socket.timeout:
    located = "nothing"
client.sendto(options("sip:x@missing.test", "dns2"), ("127.0.0.1", proxy))
try:
    missing = client.recv(65535).decode().split("\r\n")[0]
except socket.timeout:
    missing = "nothing"
print("%s | %s" % (located, missing))
PY
)"
  kill "$proxy_pid" 2>/dev/null; wait "$proxy_pid" 2>/dev/null || true
  expect_eq "$got" "OPTIONS sip:x@hop.test SIP/2.0 | SIP/2.0 404 Not Found" \
    "DNS: a next hop by SRV reached with its Request-URI kept; a name without records 404"
  expect_eq "$(sed -n 's/.*"dns_waits":\([0-9]*\).*/\1/p' "$proxy_log")" 2 "DNS: both requests waited for DNS"
fi
# §16.10: an INVITE CANCELed while its next hop is still being looked up (DNS silent here) is
# answered 487 at once, and nothing else follows when the lookup fails later.
silent_dns="$(free_port udp)"
python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",int(sys.argv[1]))); time.sleep(30)' "$silent_dns" &
pids+=($!)
start_proxy "udp:127.0.0.1:$(free_port)" --dns-server "127.0.0.1:$silent_dns"
got="$(python3 - "$proxy_port" <<'PY'
import socket, sys, time
proxy = int(sys.argv[1])
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.bind(("127.0.0.1", 0)); c.settimeout(4)
port = c.getsockname()[1]
def request(method):
    return ("%s sip:psap@slow.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKslow1\r\nMax-Forwards: 70\r\n"
            "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:psap@slow.test>\r\nCall-ID: slow1\r\nCSeq: 1 %s\r\n"
            "Contact: <sip:a@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n" % (method, port, method, port)).encode()
c.sendto(request("INVITE"), ("127.0.0.1", proxy))
time.sleep(0.3)
c.sendto(request("CANCEL"), ("127.0.0.1", proxy))
seen = []
try:
    while True:  # until nothing comes for 4 s: past the DNS timeout (2 s) and its failure
        data = c.recv(65535).decode()
        line = data.split("\r\n")[0]
        cseq = [l for l in data.split("\r\n") if l.lower().startswith("cseq:")][0].split()[-1]
        if not line.startswith("SIP/2.0 100"):
            seen.append("%s %s" % (line.split()[1], cseq))
        if line.startswith("SIP/2.0 487"):
            c.sendto(request("ACK"), ("127.0.0.1", proxy))
except socket.timeout:
    pass
print(" ".join(seen))
PY
)"
kill "$proxy_pid" 2>/dev/null; wait "$proxy_pid" 2>/dev/null || true
expect_eq "$got" "200 CANCEL 487 INVITE" "CANCEL while DNS looks up the next hop: 487 at once, nothing after"
finish
