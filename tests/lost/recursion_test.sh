#!/usr/bin/env bash
# LoST between servers (RFC 5222 sections 4.3, 5.4, 13): several ng911-lost instances, each
# with a database and boundaries of its own, configured as each other's peers.
#   A ecrf-a.test.example  grid4 near Austin             peers: B for lon -97..-96 lat 30..32, B for the region L
#   B ecrf-b.test.example  east4 (grid4, 1 degree east)  peers: C for lon -97..-96 lat 31..32, A for the region L
#   C ecrf-c.test.example  north4 (east4, 1 degree north)
#   edge                   grid4; peers that never answer, answer slowly, or answer garbage
# Region L (lon -90..-89, lat 40..41) has no boundaries anywhere: a recursive query for it
# loops A -> B -> A. Checks: redirect (iterative), forwarding with <path> (recursive, two and
# three servers), loop, serverTimeout, serverError; every LoST body validates against lost.rng.
#   recursion_test.sh PATH/TO/ng911-lost PATH/TO/ng911-gis
# Needs curl, xmllint, python3 and openssl. NG911_TEST_KEEP_TMP=1 keeps the logs and bodies.
source "$(dirname "$0")/../support/testlib.sh"
lost_bin="$1" gis="$2"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
gisdata="$repo/tests/data/gis"
data="$repo/tests/data/lost"
rng="$repo/../shared/standards/lost.rng"

missing() { echo "FAIL: $1"; exit 1; }
require curl xmllint python3 openssl
[ -f "$rng" ] || missing "no LoST schema at $rng"

# Three databases of this test's own from the fixture's template (as use_test_db makes one).
dbs=()
tmp="$(mktemp -d)"
declare -A pid=() port=()
helper_pids=()
cleanup() {
  local p n db
  for p in "${helper_pids[@]}"; do stop "$p"; done
  for n in "${!pid[@]}"; do stop "${pid[$n]}"; done
  for db in "${dbs[@]}"; do
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [ -n "${NG911_TEST_KEEP_TMP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
for name in a b c; do
  db="t_sh_$$_rec_$name"
  psql -X -q -d postgres -c "CREATE DATABASE $db TEMPLATE ng911" >/dev/null
  dbs+=("$db")
done
db_a="${dbs[0]}" db_b="${dbs[1]}" db_c="${dbs[2]}"

show_log() {
  if [ -s "$tmp/$1.log" ]; then echo "     --- $1.log (last 30 lines)"; tail -n 30 "$tmp/$1.log" | sed 's/^/     /'; fi
}
give_up() { fail "$1"; [ -z "${2:-}" ] || show_log "$2"; finish || true; exit 1; }

# start_lost NAME PORT DB ARGS...: an instance (PORT 0: any free port, read from its log).
start_lost() {
  local name="$1" want="$2" db="$3"; shift 3
  "$lost_bin" --listen "127.0.0.1:$want" --db "dbname=$db" "$@" >"$tmp/$name.log" 2>&1 &
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
  deadline=$((SECONDS + 30))
  until curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$p/healthz" 2>/dev/null; do
    kill -0 "${pid[$name]}" 2>/dev/null || give_up "ng911-lost $name exited" "$name"
    [ "$SECONDS" -lt "$deadline" ] || give_up "ng911-lost $name not healthy within 30 s" "$name"
    sleep 0.1
  done
  pass "ng911-lost $name healthy on 127.0.0.1:$p"
}
url() { printf 'http://127.0.0.1:%s' "${port[$1]}"; }

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
# ask WHAT INSTANCE LAT LON [ATTRIBUTES]: findService to INSTANCE; the answer goes to
# $tmp/body and $out, its time to $elapsed; checks HTTP 200 and that it is valid LoST.
ask() {
  local what="$1" name="$2"; shift 2
  find_service "$tmp/request.xml" "$@"
  local res rc
  rm -f "$tmp/body"
  set +e
  res="$(curl -sS -m 20 -o "$tmp/body" -w '%{http_code} %{time_total}' -H 'Content-Type: application/lost+xml' \
    --data-binary "@$tmp/request.xml" "$(url "$name")/" 2>"$tmp/curl.err")"
  rc=$?
  set -e
  out="$(tr -d '\0' <"$tmp/body" 2>/dev/null || true)"
  elapsed="${res#* }"
  if [ "$rc" != 0 ]; then fail "$what: curl exit $rc ($(head -c 300 "$tmp/curl.err"))"; return 0; fi
  if [ "${res%% *}" != 200 ]; then fail "$what: HTTP ${res%% *}, wanted 200"; printf '%s\n' "$out" | head -c 1500 | sed 's/^/     /'; echo; return 0; fi
  if xmllint --noout --relaxng "$rng" "$tmp/body" >"$tmp/xmllint.out" 2>&1; then pass "$what: HTTP 200, valid LoST"
  else
    fail "$what: HTTP 200 but the body does not validate against lost.rng"
    sed 's/^/     /' "$tmp/xmllint.out" | head -n 10
    echo "     body: $(head -c 1500 "$tmp/body" | cat -v)"
  fi
}
X() { local p="" e; for e in "$@"; do p+="/*[local-name()='$e']"; done; printf '%s' "$p"; }
xp() { xmllint --xpath "$1" "$tmp/body" 2>/dev/null || true; }
expect_xp() {  # XPATH WANT DESCRIPTION
  local got; got="$(xp "string($1)")"
  if [ "$got" = "$2" ]; then pass "$3"; else fail "$3: got '$got', wanted '$2'"; echo "     body: $(head -c 1500 "$tmp/body" 2>/dev/null | cat -v)"; fi
}
expect_time() {  # MIN MAX DESCRIPTION: $elapsed of the last ask within [MIN, MAX) seconds
  if python3 -c 'import sys; t=float(sys.argv[1]); sys.exit(0 if float(sys.argv[2]) <= t < float(sys.argv[3]) else 1)' "${elapsed:-99}" "$1" "$2"; then
    pass "$3 (${elapsed} s)"
  else fail "$3: took ${elapsed} s, wanted $1 to $2 s"; fi
}
FSR="$(X findServiceResponse)" M="$(X findServiceResponse mapping)" VIA="$(X findServiceResponse path via)"

# ---------------------------------------------------------------------------------------------
# Data: A grid4; B grid4 moved 1 degree east (fixture psap-east4); C that moved 1 degree north.
python3 - "$data/psap-east4.geojson" "$tmp/psap-north4.geojson" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["features"]:
    p = f["properties"]
    for k in ("ES_NGUID", "Agency_ID", "DiscrpAgID", "ServiceURI"):
        p[k] = p[k].replace("east.example.net", "north.example.net")
    p["DsplayName"] = p["DsplayName"].replace("East", "North")
    f["geometry"]["coordinates"] = [[[x, round(y + 1.0, 6)] for x, y in ring] for ring in f["geometry"]["coordinates"]]
d["name"] = "psap-north4"
json.dump(d, open(sys.argv[2], "w"), indent=1)
EOF
expect_rc 0 "A: publish psap-grid4" -- "$gis" load --layer PsapPolygon --db "dbname=$db_a" "$gisdata/psap-grid4.geojson"
expect_rc 0 "B: publish psap-east4" -- "$gis" load --layer PsapPolygon --db "dbname=$db_b" "$data/psap-east4.geojson"
expect_rc 0 "C: publish psap-north4" -- "$gis" load --layer PsapPolygon --db "dbname=$db_c" "$tmp/psap-north4.geojson"
[ "$fails" = 0 ] || give_up "cannot publish the test boundaries"

A=ecrf-a.test.example B=ecrf-b.test.example C=ecrf-c.test.example
loop_region="bbox:-90,40,-89,41"
port_a="$(free_port)"
start_lost c 0 "$db_c" --server-id "$C"
start_lost b 0 "$db_b" --server-id "$B" \
  --peer "$C $(url c)/ bbox:-97,31,-96,32" --peer "$A http://127.0.0.1:$port_a/ $loop_region"
start_lost a "$port_a" "$db_a" --server-id "$A" \
  --peer "$B $(url b)/ bbox:-97,30,-96,32" --peer "$B $(url b)/ $loop_region"

# Each serves its own area; A knows nothing of a place no peer covers.
ask "A for its own point" a 30.275 -97.735
expect_xp "$M/$(X displayName)" "Grid4 PSAP 3" "A answers its own point itself"
expect_xp "count($VIA)" 1 "... with itself alone in <path>"
ask "B for its own point" b 30.275 -96.735
expect_xp "$M/$(X displayName)" "East PSAP 3" "B answers its own point"
ask "A for a point nobody covers (lat 10 lon 10)" a 10 10
expect_xp "count($(X errors notFound))" 1 "no boundary and no peer: <errors><notFound>"
ask "A recursively for a point nobody covers" a 10 10 'recursive="true"'
expect_xp "count($(X errors notFound))" 1 "recursive, no peer: <errors><notFound>"

# Iterative (recursive="false", the default): a redirect to the peer.
ask "A iteratively for B's point (no recursive attribute)" a 30.275 -96.735
expect_xp "count($(X redirect))" 1 "iterative: <redirect>"
expect_xp "$(X redirect)/@target" "$B" "redirect target is B"
expect_xp "$(X redirect)/@source" "$A" "redirect source is A"
ask "A with recursive=\"false\" for B's point" a 30.275 -96.735 'recursive="false"'
expect_xp "$(X redirect)/@target" "$B" "recursive=\"false\": redirect to B"
ask "B iteratively for C's point" b 31.275 -96.735
expect_xp "$(X redirect)/@target" "$C" "B redirects to C"
expect_xp "$(X redirect)/@source" "$B" "... as source B"

# Recursive: A forwards to B and returns B's answer, whose <path> has A then B.
ask "A recursively for B's point" a 30.275 -96.735 'recursive="true"'
expect_xp "$M/$(X displayName)" "East PSAP 3" "recursive: B's PSAP"
expect_xp "$M/$(X uri)" "sip:psap-3@east.example.net" "recursive: B's uri"
expect_xp "$M/@source" "$B" "recursive: the mapping's source is B"
expect_xp "count($VIA)" 2 "recursive: two vias in <path>"
expect_xp "${VIA}[1]/@source" "$A" "recursive: first via is A"
expect_xp "${VIA}[2]/@source" "$B" "recursive: second via is B"
expect_xp "$FSR/$(X locationUsed)/@id" "loc1" "recursive: locationUsed is the client's location"
ask "A recursively, boundary by value" a 30.275 -96.735 'recursive="true" serviceBoundary="value"'
expect_xp "count($M/$(X serviceBoundary))" 1 "recursive: B's boundary by value comes through"
# Two hops: A -> B -> C.
ask "A recursively for C's point" a 31.275 -96.735 'recursive="true"'
expect_xp "$M/$(X displayName)" "North PSAP 3" "two hops: C's PSAP"
expect_xp "count($VIA)" 3 "two hops: three vias"
expect_xp "${VIA}[1]/@source" "$A" "two hops: first via is A"
expect_xp "${VIA}[2]/@source" "$B" "two hops: second via is B"
expect_xp "${VIA}[3]/@source" "$C" "two hops: third via is C"

# A loop: A and B send region L to each other; the request comes back with A in its path.
ask "A recursively for the region L (A -> B -> A)" a 40.5 -89.5 'recursive="true"'
expect_xp "count($(X errors loop))" 1 "loop: <errors><loop>"
expect_time 0 2 "loop: detected, not timed out"
ask "B recursively for the region L (B -> A -> B)" b 40.5 -89.5 'recursive="true"'
expect_xp "count($(X errors loop))" 1 "loop from B: <errors><loop>"
# A request whose path already holds A: a loop at once.
cat >"$tmp/looped.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<findService xmlns="urn:ietf:params:xml:ns:lost1" recursive="true">
  <location id="loc1" profile="geodetic-2d">
    <gml:Point xmlns:gml="http://www.opengis.net/gml" srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>30.275 -97.735</gml:pos></gml:Point>
  </location>
  <service>urn:service:sos</service>
  <path><via source="$B"/><via source="$A"/></path>
</findService>
EOF
curl -sS -m 10 -o "$tmp/body" -H 'Content-Type: application/lost+xml' --data-binary "@$tmp/looped.xml" "$(url a)/" 2>/dev/null || true
if xmllint --noout --relaxng "$rng" "$tmp/body" 2>/dev/null; then pass "a request with A in its path: valid LoST"; else fail "a request with A in its path: the answer is not valid LoST"; fi
expect_xp "count($(X errors loop))" 1 "a request with A already in its path: <errors><loop>"

# ---------------------------------------------------------------------------------------------
# Peers that misbehave. One Python process serves a listener per behaviour:
#   silent   accepts, reads the request, never answers
#   drip     answers the HTTP header, then a byte of body every 200 ms, forever
#   garbage  HTTP 200 application/lost+xml with random bytes as the body
#   raw      random bytes instead of HTTP, then closes
#   http500  HTTP 500 with a text body
#   nonlost  HTTP 200 with well-formed XML in the LoST namespace that is no LoST response
#   notxml   HTTP 200 application/lost+xml "this is not XML"
cat >"$tmp/peers.py" <<'EOF'
import random, socket, sys, threading, time
modes = sys.argv[2:]
held = []
def read_request(c):
    data = b""
    c.settimeout(5)
    while b"\r\n\r\n" not in data:
        d = c.recv(65536)
        if not d: return data
        data += d
    head, _, body = data.partition(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"): n = int(line.split(b":")[1])
    while len(body) < n:
        d = c.recv(65536)
        if not d: break
        body += d
    return data
def reply(c, status, ctype, body):
    c.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype + b"\r\nContent-Length: " +
              str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
def handle(mode, c):
    try:
        read_request(c)
        rnd = random.Random(911)
        if mode == "silent":
            held.append(c); return
        if mode == "drip":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/lost+xml\r\nContent-Length: 100000\r\n\r\n<")
            for _ in range(600):
                time.sleep(0.2); c.sendall(b" ")
        elif mode == "garbage":
            reply(c, b"200 OK", b"application/lost+xml", bytes(rnd.randrange(256) for _ in range(2048)))
        elif mode == "raw":
            c.sendall(bytes(rnd.randrange(256) for _ in range(2048)))
        elif mode == "http500":
            reply(c, b"500 Internal Server Error", b"text/plain", b"internal error\n")
        elif mode == "nonlost":
            reply(c, b"200 OK", b"application/lost+xml",
                  b'<?xml version="1.0"?><hello xmlns="urn:ietf:params:xml:ns:lost1"><world/></hello>')
        elif mode == "notxml":
            reply(c, b"200 OK", b"application/lost+xml", b"this is not XML")
        c.close()
    except OSError:
        pass
def serve(mode, s):
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(mode, c), daemon=True).start()
with open(sys.argv[1] + ".tmp", "w") as out:
    for mode in modes:
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0)); s.listen(16)
        out.write("%s %d\n" % (mode, s.getsockname()[1]))
        threading.Thread(target=serve, args=(mode, s), daemon=True).start()
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True: time.sleep(3600)
EOF
bad_modes=(silent drip garbage raw http500 nonlost notxml)
python3 "$tmp/peers.py" "$tmp/peers.txt" "${bad_modes[@]}" >"$tmp/peers.log" 2>&1 &
helper_pids+=($!)
deadline=$((SECONDS + 10))
until [ -s "$tmp/peers.txt" ]; do
  [ "$SECONDS" -lt "$deadline" ] || give_up "the fake peers did not start" peers
  sleep 0.1
done
declare -A fake=()
while read -r mode p; do fake[$mode]="$p"; done <"$tmp/peers.txt"
closed_port="$(free_port)"  # nobody listens there
# Each misbehaving peer gets a 1x1 degree square of its own along lat 40..41.
peer_args=() lon=-80
declare -A lat_lon=()
for mode in "${bad_modes[@]}" refused; do
  p="${fake[$mode]:-$closed_port}"
  peer_args+=(--peer "peer-$mode.test.example http://127.0.0.1:$p/ bbox:$lon,40,$((lon + 1)),41")
  lat_lon[$mode]="40.5 $((lon + 1)).5"  # inside: lon is negative
  lon=$((lon + 2))
done
start_lost edge 0 "$db_a" --server-id ecrf-edge.test.example --peer-timeout-ms 500 "${peer_args[@]}"

# shellcheck disable=SC2086
ask "edge recursively to the silent peer" edge ${lat_lon[silent]} 'recursive="true"'
expect_xp "count($(X errors serverTimeout))" 1 "silent peer: <errors><serverTimeout>"
expect_xp "$(X errors)/@source" "ecrf-edge.test.example" "serverTimeout's source is the edge server"
expect_time 0.4 3 "silent peer: gave up after about --peer-timeout-ms 500"
# shellcheck disable=SC2086
ask "edge recursively to the dripping peer" edge ${lat_lon[drip]} 'recursive="true"'
expect_xp "count($(X errors serverTimeout))" 1 "dripping peer: <errors><serverTimeout>"
expect_time 0.4 3 "dripping peer: the 500 ms is for the whole exchange"
for mode in garbage raw http500 nonlost notxml; do
  # shellcheck disable=SC2086
  ask "edge recursively to the $mode peer" edge ${lat_lon[$mode]} 'recursive="true"'
  expect_xp "count($(X errors serverError))" 1 "$mode peer: <errors><serverError>"
  expect_time 0 3 "$mode peer: answered at once"
done
# shellcheck disable=SC2086
ask "edge recursively to a peer nobody listens for" edge ${lat_lon[refused]} 'recursive="true"'
n="$(xp "count($(X errors serverError)|$(X errors serverTimeout))")"
expect_eq "$n" 1 "connection refused: <errors><serverError> (or serverTimeout)"
expect_time 0 3 "connection refused: answered at once"
# shellcheck disable=SC2086
ask "edge iteratively for the silent peer's point" edge ${lat_lon[silent]}
expect_xp "$(X redirect)/@target" "peer-silent.test.example" "iterative: a redirect, the peer is not asked"
expect_time 0 0.45 "iterative: no waiting on the peer"
curl -fsS -m 5 "$(url edge)/metrics" >"$tmp/metrics" 2>/dev/null || : >"$tmp/metrics"
edge_metrics="$(cat "$tmp/metrics")"

# ---------------------------------------------------------------------------------------------
# Peers over HTTPS. The forwarding server trusts our test CA (OpenSSL's SSL_CERT_FILE) and must
# check that the peer's certificate is valid for the host it dialled (RFC 6125, RFC 5222
# section 15), not merely that some trusted CA signed it.
#   B-tls    B's data, certificate for IP 127.0.0.1 from the test CA       -> answers
#   B-wrong  B's data, certificate for wrong.test.example from the test CA -> serverError
#   B-rogue  B's data, self-signed certificate for IP 127.0.0.1            -> serverError
pki="$tmp/pki"; mkdir "$pki"
(
  cd "$pki"
  gen() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
  sign() {  # NAME SUBJECT SAN
    openssl req -new -key "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days 2 -extfile "$1.ext" 2>/dev/null
  }
  gen ca; gen good; gen wrong; gen rogue
  openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj "/CN=ng911 test CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  sign good "/CN=127.0.0.1" "IP:127.0.0.1"
  sign wrong "/CN=wrong.test.example" "DNS:wrong.test.example"
  openssl req -x509 -new -key rogue.key -out rogue.pem -days 2 -subj "/CN=127.0.0.1" -addext subjectAltName=IP:127.0.0.1 2>/dev/null
) || give_up "openssl could not make the test certificates"
if command -v openssl >/dev/null && [ -s "$pki/good.pem" ] && [ -s "$pki/wrong.pem" ] && [ -s "$pki/rogue.pem" ]; then
  pass "test CA and peer certificates made"
  # A TLS instance is healthy when /healthz answers over HTTPS (any certificate).
  start_tls() {  # NAME CERT
    local name="$1" cert="$2"
    "$lost_bin" --listen 127.0.0.1:0 --db "dbname=$db_b" --server-id "$name.test.example" \
      --tls-cert "$pki/$cert.pem" --tls-key "$pki/$cert.key" >"$tmp/$name.log" 2>&1 &
    pid[$name]=$!
    local deadline=$((SECONDS + 30)) p=""
    until p="$(grep -m1 '"event":"starting"' "$tmp/$name.log" 2>/dev/null | sed -n 's/.*"listen":"[^"]*:\([0-9][0-9]*\)".*/\1/p' || true)"
      [ -n "$p" ] && curl -kfsS -m 2 -o /dev/null "https://127.0.0.1:$p/healthz" 2>/dev/null; do
      kill -0 "${pid[$name]}" 2>/dev/null || give_up "ng911-lost $name exited at start" "$name"
      [ "$SECONDS" -lt "$deadline" ] || give_up "ng911-lost $name not healthy within 30 s" "$name"
      sleep 0.1
    done
    port[$name]="$p"
    pass "ng911-lost $name healthy on https://127.0.0.1:$p"
  }
  start_tls b-tls good
  start_tls b-wrong wrong
  start_tls b-rogue rogue
  SSL_CERT_FILE="$pki/ca.pem" start_lost tls-edge 0 "$db_a" --server-id ecrf-tls-edge.test.example --peer-timeout-ms 2000 \
    --peer "b-tls.test.example https://127.0.0.1:${port[b-tls]}/ bbox:-97,30,-96,31" \
    --peer "b-wrong.test.example https://127.0.0.1:${port[b-wrong]}/ bbox:-60,40,-59,41" \
    --peer "b-rogue.test.example https://127.0.0.1:${port[b-rogue]}/ bbox:-58,40,-57,41"
  ask "recursively over HTTPS to a peer with a valid certificate" tls-edge 30.275 -96.735 'recursive="true"'
  expect_xp "$M/$(X displayName)" "East PSAP 3" "HTTPS peer: its answer comes back"
  expect_xp "${VIA}[2]/@source" "b-tls.test.example" "HTTPS peer: second via is the peer"
  ask "recursively over HTTPS to a peer whose certificate names another host" tls-edge 40.5 -59.5 'recursive="true"'
  expect_xp "count($(X errors serverError))" 1 "certificate for wrong.test.example, dialled 127.0.0.1: <errors><serverError>"
  ask "recursively over HTTPS to a peer with an untrusted certificate" tls-edge 40.5 -57.5 'recursive="true"'
  expect_xp "count($(X errors serverError))" 1 "untrusted self-signed certificate: <errors><serverError>"
else
  fail "openssl could not make the test certificates"
fi
printf '%s\n' "$edge_metrics" >"$tmp/metrics"
m() { awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }' "$tmp/metrics"; }
expect_eq "$(m 'ng911_lost_queries_total{request="findService",result="serverTimeout"}')" 2 "metrics: 2 serverTimeout"
if [ "$(m 'ng911_lost_queries_total{request="findService",result="serverError"}')" -ge 5 ]; then pass "metrics: serverError counted"
else fail "metrics: serverError count $(m 'ng911_lost_queries_total{request="findService",result="serverError"}'), wanted at least 5"; fi
for n in a b c edge b-tls b-wrong b-rogue tls-edge; do
  [ -n "${pid[$n]:-}" ] || continue
  case "$n" in
    b-*) code="$(curl -ksS -m 5 -o /dev/null -w '%{http_code}' "https://127.0.0.1:${port[$n]}/healthz" 2>/dev/null || true)" ;;
    *) code="$(curl -sS -m 5 -o /dev/null -w '%{http_code}' "$(url "$n")/healthz" 2>/dev/null || true)" ;;
  esac
  if kill -0 "${pid[$n]}" 2>/dev/null && [ "$code" = 200 ]; then pass "$n still alive"; else fail "$n not alive at the end (healthz '$code')"; show_log "$n"; fi
done

finish
