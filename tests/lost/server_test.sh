#!/usr/bin/env bash
# ng911-lost as an HTTP service: LoST answers, HTTP statuses, keep-alive, hostile bodies,
# metrics, hot reload on publish and rollback, TLS and mutual TLS, request timeouts
# (slowloris) and the connection limit. Every LoST body is validated against lost.rng.
#   server_test.sh PATH/TO/ng911-lost PATH/TO/ng911-gis
# Needs curl, xmllint, openssl and python3. Files: ../data/gis/psap-grid{4,9}.geojson,
# ../data/lost/*.xml. NG911_TEST_KEEP_TMP=1 keeps the logs and bodies.
source "$(dirname "$0")/../support/testlib.sh"
lost_bin="$1" gis="$2"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
gisdata="$repo/tests/data/gis"
data="$repo/tests/data/lost"
rng="$repo/../shared/standards/lost.rng"

missing() { echo "FAIL: $1"; exit 1; }
require curl xmllint openssl python3
[ -f "$rng" ] || missing "no LoST schema at $rng"

use_test_db server
tmp="$(mktemp -d)"
declare -A pid=() port=()
helper_pids=()
cleanup() {
  exec 3>&- 4>&-
  local p n
  for p in "${helper_pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for n in "${!pid[@]}"; do stop "${pid[$n]}"; done
  if [ -n "${NG911_TEST_KEEP_TMP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $PGDATABASE WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

show_log() {
  if [ -s "$tmp/$1.log" ]; then echo "     --- $1.log (last 30 lines)"; tail -n 30 "$tmp/$1.log" | sed 's/^/     /'; fi
}
give_up() { fail "$1"; [ -z "${2:-}" ] || show_log "$2"; finish || true; exit 1; }

# start_lost NAME ARGS...: an instance on a free port of its own (--listen 127.0.0.1:0; the
# port is read from its "starting" log line), on this test's database.
start_lost() {
  local name="$1"; shift
  "$lost_bin" --listen 127.0.0.1:0 --db "dbname=$PGDATABASE" "$@" >"$tmp/$name.log" 2>&1 &
  pid[$name]=$!
  local deadline=$((SECONDS + 30)) p=""
  while :; do
    p="$(grep -m1 '"event":"starting"' "$tmp/$name.log" 2>/dev/null | sed -n 's/.*"listen":"[^"]*:\([0-9][0-9]*\)".*/\1/p' || true)"
    [ -z "$p" ] || break
    kill -0 "${pid[$name]}" 2>/dev/null || give_up "ng911-lost $name exited at start" "$name"
    [ "$SECONDS" -lt "$deadline" ] || give_up "ng911-lost $name did not log its port within 30 s" "$name"
    sleep 0.1
  done
  port[$name]="$p"
}
# wait_healthy NAME URL [CURL OPTIONS...]: /healthz answers 200 within 30 s.
wait_healthy() {
  local name="$1" url="$2"; shift 2
  local deadline=$((SECONDS + 30))
  until curl -fsS -m 2 -o /dev/null "$@" "$url/healthz" 2>/dev/null; do
    kill -0 "${pid[$name]}" 2>/dev/null || give_up "ng911-lost $name exited" "$name"
    [ "$SECONDS" -lt "$deadline" ] || give_up "ng911-lost $name not healthy within 30 s" "$name"
    sleep 0.1
  done
  pass "ng911-lost $name healthy at $url"
}
alive() {  # NAME URL [CURL OPTIONS...]: still running and healthy
  local name="$1" url="$2"; shift 2
  local code
  code="$(curl -sS -m 5 -o /dev/null -w '%{http_code}' "$@" "$url/healthz" 2>/dev/null || true)"
  if kill -0 "${pid[$name]}" 2>/dev/null && [ "$code" = 200 ]; then pass "$name still alive (healthz 200)"
  else fail "$name not alive after that: healthz '$code'"; show_log "$name"; fi
}

# find_service FILE LAT LON [ATTRIBUTES]: a findService request for a point (urn:service:sos).
find_service() {
  cat >"$1" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<findService xmlns="urn:ietf:params:xml:ns:lost1" ${4:-}>
  <location id="loc1" profile="geodetic-2d">
    <gml:Point xmlns:gml="http://www.opengis.net/gml" srsName="urn:ogc:def:crs:EPSG::4326">
      <gml:pos>$2 $3</gml:pos>
    </gml:Point>
  </location>
  <service>urn:service:sos</service>
</findService>
EOF
}

# lost_post WHAT URL FILE WANT_STATUS [CURL OPTIONS...]: POSTs FILE as application/lost+xml;
# the body goes to $tmp/body and $out, its time to $elapsed. Checks the status and, for a 200,
# that the body is valid LoST (lost.rng).
lost_post() {
  local what="$1" url="$2" file="$3" want="$4"; shift 4
  local res rc
  rm -f "$tmp/body"
  set +e
  res="$(curl -sS -m 20 -o "$tmp/body" -w '%{http_code} %{time_total}' -H 'Content-Type: application/lost+xml' \
    --data-binary "@$file" "$@" "$url/" 2>"$tmp/curl.err")"
  rc=$?
  set -e
  out="$(tr -d '\0' <"$tmp/body" 2>/dev/null || true)"
  elapsed="${res#* }"
  if [ "$rc" != 0 ]; then fail "$what: curl exit $rc ($(head -c 300 "$tmp/curl.err"))"; return 0; fi
  if [ "${res%% *}" != "$want" ]; then
    fail "$what: HTTP ${res%% *}, wanted $want"; printf '%s\n' "$out" | head -c 2000 | sed 's/^/     /'; echo; return 0
  fi
  pass "$what: HTTP $want"
  [ "$want" != 200 ] || valid_lost "$what"
}
valid_lost() {  # WHAT: $tmp/body is a LoST document valid against lost.rng
  if xmllint --noout --relaxng "$rng" "$tmp/body" >"$tmp/xmllint.out" 2>&1; then pass "$1: body validates against lost.rng"
  else
    fail "$1: body does not validate against lost.rng"
    sed 's/^/     /' "$tmp/xmllint.out" | head -n 10
    echo "     body: $(head -c 1500 "$tmp/body" | cat -v)"
  fi
}
# X a b c: the XPath /a/b/c over LoST elements whatever their prefix.
X() { local p="" e; for e in "$@"; do p+="/*[local-name()='$e']"; done; printf '%s' "$p"; }
xp() { xmllint --xpath "$1" "$tmp/body" 2>/dev/null || true; }
expect_xp() {  # XPATH WANT DESCRIPTION: the string value of XPATH over $tmp/body
  expect_eq "$(xp "string($1)")" "$2" "$3"
}
expect_fast() {  # SECONDS_MAX DESCRIPTION: $elapsed of the last lost_post was under the bound
  if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "${elapsed:-99}" "$1"; then
    pass "$2 (${elapsed} s)"
  else fail "$2: took ${elapsed} s, wanted under $1 s"; fi
}
# metric NAME: its value on the last fetched $tmp/metrics (0 when absent).
fetch_metrics() { curl -fsS -m 5 "$1/metrics" >"$tmp/metrics" 2>/dev/null || : >"$tmp/metrics"; }
metric() { awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }' "$tmp/metrics"; }
bad_total() { awk '$1 ~ /^ng911_lost_queries_total\{.*result="badRequest"\}$/ { s += $2 } END { print s + 0 }' "$tmp/metrics"; }
expect_grew() {  # BEFORE AFTER BY DESCRIPTION: AFTER >= BEFORE + BY
  if [ "$2" -ge $(($1 + $3)) ]; then pass "$4 ($1 -> $2)"; else fail "$4: $1 -> $2, wanted at least +$3"; fi
}
# A raw TCP client for what curl cannot do; see the modes below.
cat >"$tmp/raw.py" <<'EOF'
import socket, sys, time
mode, port, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
def drain():
    """Reads until the server closes; prints what came and after how long."""
    t = time.monotonic(); got = b""
    s.settimeout(0.2)
    while time.monotonic() - t < limit:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            break
        if not d:
            break
        got += d
    else:
        print("open after %.1f s%s" % (limit, (" got " + got[:60].decode("latin-1")) if got else ""))
        return
    print("closed after %.2f s%s" % (time.monotonic() - t, (" got " + got[:60].decode("latin-1")) if got else ""))
if mode == "not-http":
    s.sendall(b"this is not HTTP at all\r\n\r\n")
    s.settimeout(limit); print((s.recv(4096) or b"<closed>").decode("latin-1").split("\r\n")[0])
elif mode == "binary":
    import random
    r = random.Random(911); s.sendall(bytes(r.randrange(256) for _ in range(4096)))
    s.settimeout(limit); print((s.recv(4096) or b"<closed>").decode("latin-1").split("\r\n")[0])
elif mode == "half-header":
    s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"); drain()
elif mode == "half-body":
    s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/lost+xml\r\nContent-Length: 400\r\n\r\n<findService xmlns=\"urn:ietf:params:xml:ns:lost1\">"); drain()
elif mode == "trickle":
    # One byte every 100 ms of an endless header: the deadline is for the whole request.
    t = time.monotonic(); msg = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10000
    try:
        for b in msg:
            s.sendall(bytes([b])); time.sleep(0.1)
            if time.monotonic() - t > limit: print("open after %.1f s" % limit); sys.exit(0)
    except (ConnectionResetError, BrokenPipeError):
        print("closed after %.2f s" % (time.monotonic() - t)); sys.exit(0)
    print("open after %.1f s" % limit)
elif mode == "second-half-header":
    # A keep-alive connection: one whole request, then half of the next.
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    s.settimeout(5); first = s.recv(4096)
    if not first.startswith(b"HTTP/1.1 200"): print("first request failed: %r" % first[:60]); sys.exit(0)
    s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"); drain()
elif mode == "pipeline":
    # Two requests in one write: both answered, in order, on the one connection.
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    s.settimeout(limit); got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d: break
            got += d
    except socket.timeout:
        pass
    import re
    print(" ".join(c.decode() for c in re.findall(rb"HTTP/1\.1 ([0-9]{3}) ", got)))
EOF
raw() { timeout 30 python3 "$tmp/raw.py" "$@" 2>&1 || true; }

# ---------------------------------------------------------------------------------------------
# The boundaries: four PSAP squares near Austin. The main instance looks for publishes only on
# NOTIFY (the periodic check is an hour away), so the hot reload below is the NOTIFY path.
expect_rc 0 "publish psap-grid4" -- "$gis" load --layer PsapPolygon "$gisdata/psap-grid4.geojson"
[ "$fails" = 0 ] || give_up "cannot publish the test boundaries"
sid=ecrf-srv.test.example
start_lost srv --server-id "$sid" --threads 2 --reload-check-seconds 3600
url="http://127.0.0.1:${port[srv]}"
wait_healthy srv "$url"
# One acceptor deals connections to the two threads in turn: four fresh connections in a row
# reach both, and each answers (a thread that never ran would leave every second one hanging).
healthy=0
for _ in 1 2 3 4; do curl -fsS -m 2 -o /dev/null "$url/healthz" && healthy=$((healthy + 1)); done
expect_eq "$healthy" 4 "two threads: four connections in a row, each answered"
# A port in use is an error at start, not a port shared with the first server.
second_rc=0
second="$(timeout 20 "$lost_bin" --listen "127.0.0.1:${port[srv]}" --db "dbname=$PGDATABASE" --threads 2 2>&1)" \
  || second_rc=$?
[ "$second_rc" -ne 0 ] && [[ "$second" == *"cannot listen on 127.0.0.1:${port[srv]}"* ]] \
  && pass "a second server on the same port refuses to start (exit $second_rc)" \
  || fail "second server on port ${port[srv]}: exit $second_rc: $(tail -2 <<<"$second")"
fetch_metrics "$url"
mapping_before="$(metric 'ng911_lost_queries_total{request="findService",result="mapping"}')"
notfound_before="$(metric 'ng911_lost_queries_total{request="findService",result="notFound"}')"
bad_before="$(bad_total)"

# findService for a point: lon -97.735 lat 30.275 is Grid4 PSAP 3.
find_service "$tmp/psap3.xml" 30.275 -97.735
if xmllint --noout --relaxng "$rng" "$tmp/psap3.xml" 2>/dev/null; then pass "our findService request is valid LoST"; else fail "our findService request is not valid LoST"; fi
lost_post "findService psap 3" "$url" "$tmp/psap3.xml" 200
M="$(X findServiceResponse mapping)"
expect_xp "$M/$(X uri)" "sip:psap-3@test.example.net" "uri is PSAP 3's"
expect_xp "$M/$(X displayName)" "Grid4 PSAP 3" "displayName"
expect_xp "$M/$(X displayName)/@xml:lang" "en" "displayName has xml:lang"
expect_xp "$M/$(X service)" "urn:service:sos" "service is the one asked for"
expect_xp "$M/@source" "$sid" "mapping source is the server id"
expect_xp "$M/$(X serviceBoundaryReference)/@source" "$sid" "serviceBoundaryReference source"
expect_xp "$M/$(X serviceBoundaryReference)/@key" "urn:emergency:uid:gis:PSAP:3:test.example.net" "serviceBoundaryReference key"
expect_xp "count($(X findServiceResponse path via))" 1 "path has one via"
expect_xp "$(X findServiceResponse path via)/@source" "$sid" "via is this server"
expect_xp "$(X findServiceResponse locationUsed)/@id" "loc1" "locationUsed names our location"
find_service "$tmp/psap0.xml" 30.265 -97.745
lost_post "findService psap 0" "$url" "$tmp/psap0.xml" 200
expect_xp "$M/$(X uri)" "sip:psap-0@test.example.net" "another point, another PSAP (0)"
# Outside grid4, in the column that grid9 adds.
find_service "$tmp/east.xml" 30.265 -97.725
lost_post "findService outside every boundary" "$url" "$tmp/east.xml" 200
expect_xp "count($(X errors notFound))" 1 "outside the boundaries: <errors><notFound>"
expect_xp "$(X errors)/@source" "$sid" "errors source is the server id"

# HTTP-level problems get HTTP statuses.
lost_post "POST to a wrong path" "$url/nowhere" "$tmp/psap3.xml" 404
code="$(curl -sS -m 5 -o /dev/null -D "$tmp/headers" -w '%{http_code}' "$url/" 2>/dev/null || true)"
expect_eq "$code" 405 "GET / is 405"
if grep -qiE '^Allow: *POST' "$tmp/headers"; then pass "405 says Allow: POST"; else fail "405 lacks 'Allow: POST': $(tr -d '\r' <"$tmp/headers" | tr '\n' '|')"; fi
code="$(curl -sS -m 5 -o /dev/null -D "$tmp/headers" -w '%{http_code}' -X DELETE "$url/" 2>/dev/null || true)"
expect_eq "$code" 405 "DELETE / is 405"
code="$(curl -sS -m 5 -o /dev/null -w '%{http_code}' -H 'Content-Type: text/xml' --data-binary "@$tmp/psap3.xml" "$url/" 2>/dev/null || true)"
expect_eq "$code" 415 "Content-Type text/xml is 415"
code="$(curl -sS -m 5 -o /dev/null -w '%{http_code}' --data-binary "@$tmp/psap3.xml" "$url/" 2>/dev/null || true)"
expect_eq "$code" 415 "form Content-Type is 415"
code="$(curl -sS -m 5 -o /dev/null -w '%{http_code}' -H 'Content-Type:' --data-binary "@$tmp/psap3.xml" "$url/" 2>/dev/null || true)"
expect_eq "$code" 415 "no Content-Type is 415"
lost_post "Content-Type with parameters and upper case" "$url" "$tmp/psap3.xml" 200 -H 'Content-Type: Application/LoST+XML; charset=utf-8'
head -c 100000 /dev/zero | tr '\0' a >"$tmp/huge-header"
code="$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/lost+xml' -H "X-Huge: $(cat "$tmp/huge-header")" \
  --data-binary "@$tmp/psap3.xml" "$url/" 2>/dev/null || true)"
expect_eq "$code" 431 "a 100 kB header is 431"
out="$(raw not-http "${port[srv]}" 5)"
expect_out '^HTTP/1\.[01] 400' "a request line that is not HTTP is 400"
out="$(raw binary "${port[srv]}" 5)"
expect_out '^(HTTP/1\.[01] 400|<closed>)' "binary garbage instead of HTTP: 400 or closed"
alive srv "$url"

# Keep-alive: curl sends three requests on one connection.
set +e
curl --http1.1 -sS -v -m 20 -o /dev/null -H 'Content-Type: application/lost+xml' --data-binary "@$tmp/psap3.xml" "$url/" \
  --next -o /dev/null -H 'Content-Type: application/lost+xml' --data-binary "@$tmp/psap0.xml" "$url/" \
  --next -o /dev/null "$url/healthz" >"$tmp/keepalive.out" 2>&1
set -e
expect_eq "$(grep -c 'Re-using existing connection' "$tmp/keepalive.out" || true)" 2 "keep-alive: requests 2 and 3 reuse the connection"
expect_eq "$(grep -c '^< HTTP/1.1 200' "$tmp/keepalive.out" || true)" 3 "keep-alive: three 200s"
expect_eq "$(raw pipeline "${port[srv]}" 5)" "200 404" "pipelining: two requests in one packet, two answers in order"

# Hostile or broken bodies: a LoST badRequest (HTTP 200), fast, and the server lives on.
hostile() {  # WHAT FILE
  lost_post "$1" "$url" "$2" 200
  # (grep, not XPath: the classification is checked even where the body is not well-formed)
  if grep -Eq '<errors[ >].*<badRequest[ />]' "$tmp/body"; then pass "$1: <errors><badRequest>"
  else fail "$1: wanted <errors><badRequest>, got: $(head -c 600 "$tmp/body" | cat -v)"; fi
  expect_fast 2 "$1: answered quickly"
  ! grep -q '<badRequest' "$tmp/body" || bad_answers=$((bad_answers + 1))
}
bad_answers=0
hostile "malformed XML" "$data/malformed.xml"
hostile "wrong namespace" "$data/wrong-namespace.xml"
python3 -c 'import random,sys; r=random.Random(5222); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(8192)))' >"$tmp/garbage.bin"
hostile "binary garbage body" "$tmp/garbage.bin"
hostile "billion laughs (DOCTYPE with nested entities)" "$data/billion-laughs.xml"
hostile "external entity (DOCTYPE with SYSTEM entity)" "$data/external-entity.xml"
if grep -q 'root:' "$tmp/body"; then fail "external entity: /etc/passwd leaked into the answer"; else pass "external entity: nothing of /etc/passwd in the answer"; fi
python3 -c 'import sys; n=100000; sys.stdout.write("<findService xmlns=\"urn:ietf:params:xml:ns:lost1\">" + "<a>"*n + "</a>"*n + "</findService>")' >"$tmp/nested.xml"
hostile "100000 nested elements" "$tmp/nested.xml"
python3 -c 'import sys; n=100000; sys.stdout.write("<a>"*n + "</a>"*n)' >"$tmp/nested-bare.xml"
hostile "100000 nested elements, no namespace" "$tmp/nested-bare.xml"
python3 -c 'import sys; sys.stdout.write("<findService xmlns=\"urn:ietf:params:xml:ns:lost1\">" + "<x/>"*200000 + "</findService>")' >"$tmp/wide.xml"
hostile "200000 sibling elements" "$tmp/wide.xml"
# Not UTF-8, or characters XML forbids: malformed XML, so badRequest; and whatever the server
# echoes of them in its message must still leave a well-formed, valid answer.
printf '<findService\xff\xfe xmlns="urn:ietf:params:xml:ns:lost1"/>' >"$tmp/bad-utf8-name.xml"
hostile "invalid UTF-8 in the element name" "$tmp/bad-utf8-name.xml"
sed 's|<service>urn:service:sos</service>|<service>urn:service:\xc3\x28sos</service>|' "$tmp/psap3.xml" >"$tmp/bad-utf8-text.xml"
hostile "invalid UTF-8 in <service>" "$tmp/bad-utf8-text.xml"
sed 's|<service>urn:service:sos</service>|<service>urn:service:\x01\x02sos</service>|' "$tmp/psap3.xml" >"$tmp/control-chars.xml"
hostile "control characters (not XML chars) in <service>" "$tmp/control-chars.xml"
: >"$tmp/empty.xml"
hostile "empty body" "$tmp/empty.xml"
alive srv "$url"

# The counters grew.
fetch_metrics "$url"
if grep -q '^# TYPE ng911_lost_queries_total counter' "$tmp/metrics"; then pass "/metrics has ng911_lost_queries_total"; else fail "/metrics lacks ng911_lost_queries_total"; fi
expect_grew "$mapping_before" "$(metric 'ng911_lost_queries_total{request="findService",result="mapping"}')" 5 "findService mapping counter grew by the 5 mappings"
expect_grew "$notfound_before" "$(metric 'ng911_lost_queries_total{request="findService",result="notFound"}')" 1 "findService notFound counter grew"
bad_after="$(bad_total)"
[ "$bad_answers" -gt 0 ] || bad_answers=1
expect_grew "$bad_before" "$bad_after" "$bad_answers" "badRequest counters grew by the $bad_answers badRequest answers"

# Hot reload: publishing grid9 (a third column east, lon -97.73..-97.72) reaches the running
# server by NOTIFY; the point outside grid4 then has a PSAP. Rollback takes it away again.
wait_answer() {  # WHAT FILE PATTERN: poll (20 s) until the answer to FILE matches PATTERN
  local deadline=$((SECONDS + 20)) body=""
  while :; do
    body="$(curl -sS -m 5 -H 'Content-Type: application/lost+xml' --data-binary "@$2" "$url/" 2>/dev/null || true)"
    if printf '%s' "$body" | grep -Eq -- "$3"; then pass "$1"; printf '%s' "$body" >"$tmp/body"; return 0; fi
    [ "$SECONDS" -lt "$deadline" ] || { fail "$1: not within 20 s; last answer: $body"; show_log srv; return 0; }
    sleep 0.2
  done
}
srv_pid="${pid[srv]}"
expect_rc 0 "publish psap-grid9 while the server runs" -- "$gis" load --layer PsapPolygon "$gisdata/psap-grid9.geojson"
wait_answer "hot reload: the new column answers Grid9 PSAP 2" "$tmp/east.xml" '<displayName[^>]*>Grid9 PSAP 2<'
valid_lost "hot reload answer"
expect_xp "$M/$(X uri)" "sip:psap-2@test.example.net" "hot reload: its uri"
lost_post "findService psap 3's point after the reload" "$url" "$tmp/psap3.xml" 200
expect_xp "$M/$(X displayName)" "Grid9 PSAP 4" "the old point now answers from grid9 (PSAP 4)"
expect_eq "$(curl -sS -m 5 "$url/healthz" 2>/dev/null || true)" "ok boundaries=9 services=1" "healthz counts 9 boundaries"
expect_rc 0 "rollback PsapPolygon" -- "$gis" rollback --layer PsapPolygon
wait_answer "after rollback the new column is notFound again" "$tmp/east.xml" '<notFound'
valid_lost "notFound after rollback"
lost_post "findService psap 3 after rollback" "$url" "$tmp/psap3.xml" 200
expect_xp "$M/$(X displayName)" "Grid4 PSAP 3" "after rollback grid4 answers again"
expect_eq "${pid[srv]}:$(kill -0 "$srv_pid" 2>/dev/null && echo running)" "$srv_pid:running" "no restart: the same process served throughout"

# ---------------------------------------------------------------------------------------------
# TLS: a CA, a server certificate for 127.0.0.1, a client certificate, and one from another CA.
pki="$tmp/pki"; mkdir "$pki"
(
  cd "$pki"
  gen() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
  gen ca; gen server; gen client; gen rogue
  openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj "/CN=ng911 test CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req -new -key server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
  openssl req -new -key client.key -out client.csr -subj "/CN=lost-client.test.example" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >client.ext
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 -extfile client.ext 2>/dev/null
  openssl req -x509 -new -key rogue.key -out rogue.pem -days 2 -subj "/CN=rogue.test.example" 2>/dev/null
) || give_up "openssl could not make the test certificates"
pass "test CA, server and client certificates made"

start_lost tls --server-id "$sid" --threads 1 --tls-cert "$pki/server.pem" --tls-key "$pki/server.key"
turl="https://127.0.0.1:${port[tls]}"
wait_healthy tls "$turl" --cacert "$pki/ca.pem"
lost_post "HTTPS findService psap 3" "$turl" "$tmp/psap3.xml" 200 --cacert "$pki/ca.pem"
expect_xp "$M/$(X uri)" "sip:psap-3@test.example.net" "HTTPS answer is PSAP 3"
expect_rc 60 "HTTPS without our CA: the certificate is not trusted" -- curl -sS -m 5 -o /dev/null "$turl/healthz"
code="$(curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port[tls]}/healthz" 2>/dev/null || true)"
if [ "$code" = 200 ]; then fail "plain HTTP to the HTTPS port answered 200"; else pass "plain HTTP to the HTTPS port gets no answer ($code)"; fi
alive tls "$turl" --cacert "$pki/ca.pem"

start_lost mtls --server-id "$sid" --threads 1 --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" \
  --tls-ca "$pki/ca.pem" --tls-require-client-cert
murl="https://127.0.0.1:${port[mtls]}"
client=(--cacert "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key")
wait_healthy mtls "$murl" "${client[@]}"
set +e; curl -sS -m 5 -o /dev/null --cacert "$pki/ca.pem" -H 'Content-Type: application/lost+xml' --data-binary "@$tmp/psap3.xml" "$murl/" 2>/dev/null; rc=$?; set -e
if [ "$rc" != 0 ]; then pass "mutual TLS: no client certificate, no answer (curl exit $rc)"; else fail "mutual TLS: answered a client without a certificate"; fi
set +e; curl -sS -m 5 -o /dev/null --cacert "$pki/ca.pem" --cert "$pki/rogue.pem" --key "$pki/rogue.key" "$murl/healthz" 2>/dev/null; rc=$?; set -e
if [ "$rc" != 0 ]; then pass "mutual TLS: a certificate from another CA is refused (curl exit $rc)"; else fail "mutual TLS: answered a client with a certificate from another CA"; fi
lost_post "mutual TLS findService with the client certificate" "$murl" "$tmp/psap3.xml" 200 "${client[@]}"
expect_xp "$M/$(X uri)" "sip:psap-3@test.example.net" "mutual TLS answer is PSAP 3"
curl -fsS -m 5 "${client[@]}" "$murl/metrics" >"$tmp/metrics" 2>/dev/null || : >"$tmp/metrics"
expect_grew 0 "$(metric ng911_lost_tls_failures_total)" 2 "refused handshakes counted in ng911_lost_tls_failures_total"
alive mtls "$murl" "${client[@]}"

# ---------------------------------------------------------------------------------------------
# Limits on one thread: small body, 1 s to read and answer a request, a long keep-alive idle
# time (so that only the request timeout can close what follows).
start_lost limits --server-id "$sid" --threads 1 --max-body-bytes 4096 --request-timeout-ms 1000 --idle-timeout-ms 30000
lurl="http://127.0.0.1:${port[limits]}"
wait_healthy limits "$lurl"
python3 -c 'import sys; sys.stdout.write("<findService xmlns=\"urn:ietf:params:xml:ns:lost1\">" + "<!-- padding -->"*1000 + "</findService>")' >"$tmp/16k.xml"
lost_post "16 kB body over --max-body-bytes 4096" "$lurl" "$tmp/16k.xml" 413
lost_post "16 kB chunked body over --max-body-bytes 4096" "$lurl" "$tmp/16k.xml" 413 -H 'Transfer-Encoding: chunked'
lost_post "a body under the limit still works" "$lurl" "$tmp/psap3.xml" 200
fetch_metrics "$lurl"; timeouts_before="$(metric ng911_lost_http_timeouts_total)"

# slowloris SLOW_MODE WHAT: the stalled connection is closed after the 1 s request timeout
# (allowing up to 4 s), while the server answers a normal client meanwhile.
slowloris() {
  local mode="$1" what="$2"
  raw "$mode" "${port[limits]}" 12 >"$tmp/slow.out" &
  local slow=$!; helper_pids+=("$slow")
  sleep 0.3  # let the slow client connect and send its part first
  lost_post "$what: another client is answered meanwhile" "$lurl" "$tmp/psap3.xml" 200
  expect_fast 0.9 "$what: ... without waiting for the stalled one"
  wait "$slow" || true
  out="$(cat "$tmp/slow.out")"
  if [[ "$out" =~ ^closed\ after\ ([0-9.]+) ]] && python3 -c 'import sys; sys.exit(0 if 0.5 <= float(sys.argv[1]) <= 4 else 1)' "${BASH_REMATCH[1]}"; then
    pass "$what: closed by the request timeout ($out)"
  else
    fail "$what: wanted the connection closed 1-4 s after the stall (--request-timeout-ms 1000); $out"
  fi
}
slowloris half-header "half a request header, then silence"
slowloris half-body "whole header, half the body, then silence"
slowloris trickle "a header trickled one byte per 100 ms"
slowloris second-half-header "keep-alive: one request, then half of the next"
fetch_metrics "$lurl"
expect_grew "$timeouts_before" "$(metric ng911_lost_http_timeouts_total)" 3 "ng911_lost_http_timeouts_total counted them"
alive limits "$lurl"

# ---------------------------------------------------------------------------------------------
# The connection limit: two idle connections fill --max-connections 2 (one thread); a third is
# closed without an answer; once the two go, requests work again.
start_lost conn --server-id "$sid" --threads 1 --max-connections 2 --request-timeout-ms 30000 --idle-timeout-ms 30000
# curl_conn: "STATUS/CURL_EXIT" of a /healthz request: 200/0 answered; 000/52 (empty reply) or
# 000/56 (reset) closed by the server; 000/28 a timeout, which is not a refusal.
curl_conn() {
  local c rc
  set +e; c="$(curl -sS -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port[conn]}/healthz" 2>/dev/null)"; rc=$?; set -e
  echo "$c/$rc"
}
refusal() { [[ "$1" =~ ^000/(52|56|7)$ ]]; }
wait_healthy conn "http://127.0.0.1:${port[conn]}"
exec 3<>"/dev/tcp/127.0.0.1/${port[conn]}"
exec 4<>"/dev/tcp/127.0.0.1/${port[conn]}"
deadline=$((SECONDS + 10)) code=""
while code="$(curl_conn)"; [ "$code" = 200/0 ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
if refusal "$code"; then pass "with 2 idle connections open, a third is closed without an answer (status/curl exit $code)"
else fail "with 2 idle connections open, a third: status/curl exit $code, wanted closed at once (000/52 or 000/56)"; fi
refused=0; for _ in 1 2 3; do ! refusal "$(curl_conn)" || refused=$((refused + 1)); done
expect_eq "$refused" 3 "... and so does every further one while they stay open"
exec 3>&- 4>&-
deadline=$((SECONDS + 10))
until code="$(curl_conn)"; [ "$code" = 200/0 ] || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.1; done
expect_eq "$code" 200/0 "the idle connections closed, requests work again"
lost_post "findService after the connection limit" "http://127.0.0.1:${port[conn]}" "$tmp/psap3.xml" 200
curl -fsS -m 5 "http://127.0.0.1:${port[conn]}/metrics" >"$tmp/metrics" 2>/dev/null || : >"$tmp/metrics"
expect_grew 0 "$(metric ng911_lost_http_refused_connections_total)" 4 "ng911_lost_http_refused_connections_total counted the refusals"

# ---------------------------------------------------------------------------------------------
# SIGTERM stops the main instance cleanly: exit 0 and its last log lines written.
kill -TERM "${pid[srv]}"
deadline=$((SECONDS + 10))
while kill -0 "${pid[srv]}" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
if kill -0 "${pid[srv]}" 2>/dev/null; then
  fail "SIGTERM: ng911-lost still running after 10 s"
else
  set +e; wait "${pid[srv]}"; rc=$?; set -e
  unset 'pid[srv]'
  expect_eq "$rc" 0 "SIGTERM: ng911-lost exits 0"
  if grep -q '"event":"stopped"' "$tmp/srv.log"; then pass "SIGTERM: 'stopped' logged"; else fail "SIGTERM: no 'stopped' line in the log (the log was not flushed)"; fi
fi

finish
