#!/usr/bin/env bash
# Places one emergency call through the appliance's ESRP, as a caller's device would, and shows
# what became of it.
#   scripts/esrp/call.sh [--esrp ADDRESS:PORT] [--ring-s SECONDS] [LAT LON]
# SIPp sends INVITE urn:service:sos with a multipart/mixed body (SDP and a PIDF-LO: a GPS point
# at LAT LON, WGS 84; default downtown Austin, 30.2672 -97.7431) referenced by a Geolocation
# cid:, ACKs the answer and hangs up with BYE. Then it prints the messages SIPp saw, the PSAP
# that answered, and the call's story from the ESRP's call log (ng911-calllog story).
# A call that rings unanswered for --ring-s seconds (default 60) is cancelled (CANCEL, 487):
# the caller hung up before the answer, an abandoned call for the PSAP.
# Exit status: 0 the call was answered and ended, 1 it failed, 2 bad usage, 3 nobody answered
# within --ring-s and it was cancelled.
# The appliance must be up (scripts/up.sh). With the sample data: Travis County, TX (Austin) is
# psap-a, Williamson County, TX (Round Rock: 30.5083 -97.6789) psap-b (both SIPp queues that
# answer at once); Hays County, TX (San Marcos: 29.8833 -97.9414) is psap-c, ng911-psap, where
# the call rings in the call-takers' console (http://127.0.0.1:8280/) until one answers it;
# anywhere else in the US the ECRF names a made-up PSAP (sip:psap-FIPS@psap.example.net) and
# the call takes the default route, psap-b.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2; exit 2; }
esrp="${NG911_ESRP_LISTEN:-127.0.0.1:5060}"
ring_s=60
console="${NG911_PSAP_HTTP:-127.0.0.1:8280}"
while [ $# -gt 0 ]; do
  case "$1" in
    --esrp) [ $# -ge 2 ] || usage; esrp="$2"; shift 2 ;;
    --ring-s) [ $# -ge 2 ] || usage; ring_s="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) break ;;
  esac
done
lat=30.2672 lon=-97.7431
case $# in
  0) ;;
  2) lat="$1" lon="$2" ;;
  *) usage ;;
esac
number='^-?[0-9]+(\.[0-9]+)?$'
[[ "$lat" =~ $number && "$lon" =~ $number ]] || { echo "call.sh: LAT and LON are decimal degrees, e.g. 30.2672 -97.7431" >&2; exit 2; }
[[ "$ring_s" =~ ^[0-9]+$ && "$ring_s" -ge 1 && "$ring_s" -le 600 ]] || { echo "call.sh: --ring-s is whole seconds, 1 to 600" >&2; exit 2; }
command -v sipp >/dev/null || die "sipp is not installed (scripts/install-deps.sh installs sip-tester)"
calllog="$NG911_BUILD/bin/ng911-calllog"
[ -x "$calllog" ] || die "$calllog is missing: run scripts/up.sh"
# SIPp would retransmit into the void for half a minute: say at once when no ESRP listens here.
case "${esrp%:*}" in
  127.*|localhost|\[::1\])
    [ -n "$(ss -Hlun "sport = :${esrp##*:}" 2>/dev/null)" ] || die "no ESRP listens on $esrp: start the appliance with scripts/up.sh" ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# A Call-ID of our own, so that the call log can be asked about this very call.
call_id="$(cat /proc/sys/kernel/random/uuid)@127.0.0.1"
# SIPp would take 5061 when free, which reads like the ESRP's TLS port: ask for an ephemeral one.
port="$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

# SIPp strips each line's leading blanks, writes CRLF and fills in [len].
cat > "$tmp/call.xml" <<XML
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="emergency call from $lat $lon">
  <send retrans="500">
    <![CDATA[
      INVITE urn:service:sos SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Sample caller" <sip:+15125550100@[local_ip]:[local_port]>;tag=[pid]caller[call_number]
      To: <urn:service:sos>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:+15125550100@[local_ip]:[local_port]>
      Max-Forwards: 70
      Geolocation: <cid:location@caller.example.com>
      Geolocation-Routing: yes
      Content-Type: multipart/mixed;boundary=ng911-sample-boundary
      Content-Length: [len]

      --ng911-sample-boundary
      Content-Type: application/sdp

      v=0
      o=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      --ng911-sample-boundary
      Content-Type: application/pidf+xml
      Content-ID: <location@caller.example.com>

      <?xml version="1.0" encoding="UTF-8"?>
      <presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" xmlns:gml="http://www.opengis.net/gml" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" entity="pres:+15125550100@caller.example.com">
      <dm:device id="caller-device"><gp:geopriv><gp:location-info><gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>$lat $lon</gml:pos></gml:Point></gp:location-info><gp:usage-rules/><gp:method>GPS</gp:method></gp:geopriv></dm:device>
      </presence>
      --ng911-sample-boundary--
    ]]>
  </send>
  <!-- Unanswered after --ring-s: the caller gives up. SIPp times the step a call waits at,
       which is the optional one after the last provisional response: each gets the limit. -->
  <recv response="100" optional="true" timeout="$((ring_s * 1000))" ontimeout="cancel"/>
  <recv response="180" optional="true" timeout="$((ring_s * 1000))" ontimeout="cancel"/>
  <recv response="183" optional="true" timeout="$((ring_s * 1000))" ontimeout="cancel"/>
  <recv response="200" rrs="true" timeout="$((ring_s * 1000))" ontimeout="cancel"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "Sample caller" <sip:+15125550100@[local_ip]:[local_port]>;tag=[pid]caller[call_number]
      To: <urn:service:sos>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="500"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "Sample caller" <sip:+15125550100@[local_ip]:[local_port]>;tag=[pid]caller[call_number]
      To: <urn:service:sos>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" timeout="15000" next="end"/>

  <label id="cancel"/>
  <!-- The Via of the last response is the INVITE's own: a CANCEL names the INVITE's branch. -->
  <send>
    <![CDATA[
      CANCEL urn:service:sos SIP/2.0
      [last_Via:]
      From: "Sample caller" <sip:+15125550100@[local_ip]:[local_port]>;tag=[pid]caller[call_number]
      To: <urn:service:sos>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" timeout="15000"/>
  <recv response="487" timeout="15000"/>
  <send>
    <![CDATA[
      ACK urn:service:sos SIP/2.0
      [last_Via:]
      From: "Sample caller" <sip:+15125550100@[local_ip]:[local_port]>;tag=[pid]caller[call_number]
      To: <urn:service:sos>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <label id="end"/>
</scenario>
XML

echo "Calling urn:service:sos via the ESRP at $esrp from $lat $lon (Call-ID $call_id)"
rc=0
# --ring-s bounds the wait for the answer; the rest is the CANCEL or the BYE and their answers.
(cd "$tmp" && exec timeout "$((ring_s + 45))" sipp -sf "$tmp/call.xml" "$esrp" -i 127.0.0.1 -p "$port" -m 1 -nostdin -cid_str "$call_id" \
   -timeout "$((ring_s + 35))" -timeout_error -trace_msg -message_file "$tmp/call.msg" -trace_err -error_file "$tmp/call.err" \
   >"$tmp/sipp.out" 2>&1) &
sipp_pid=$!
# A queue that answers at once needs no word; one that keeps ringing is waiting for a person.
told=0 rang_at=""
while kill -0 "$sipp_pid" 2>/dev/null; do
  if [ "$told" = 0 ] && [ -f "$tmp/call.msg" ]; then
    if grep -q '^SIP/2\.0 2' "$tmp/call.msg"; then
      told=1
    elif grep -q '^SIP/2\.0 18[03]' "$tmp/call.msg"; then
      rang_at="${rang_at:-$SECONDS}"
      if [ "$((SECONDS - rang_at))" -ge 2 ]; then
        echo "The call is ringing, unanswered: if it rings at ng911-psap (psap-c, San Marcos), answer it in"
        echo "the call-takers' console http://$console/ (accounts: var/psap-accounts.txt); call.sh cancels it"
        echo "after $ring_s s of ringing (--ring-s)."
        told=1
      fi
    fi
  fi
  sleep 0.2
done
wait "$sipp_pid" || rc=$?
cancelled=0
grep -q '^CANCEL ' "$tmp/call.msg" 2>/dev/null && cancelled=1

# The message flow as SIPp saw it (the start line of each message, and the Contact of the
# answer: the PSAP queue's address), then SIPp's own count.
echo
echo "SIPp:"
awk '
  /^(UDP|TCP) message (sent|received)/ { dir = ($3 == "sent") ? "-->" : "<--"; start = 1; next }
  start && NF { sub(/\r$/, ""); print "  " dir " " $0; answer = /^SIP\/2\.0 2/; start = 0; next }
  answer && tolower($1) == "contact:" { sub(/\r$/, ""); sub(/^[^:]*: */, ""); print "        answered by " $0; answer = 0 }
  /^-+ [0-9]/ { answer = 0 }
' "$tmp/call.msg" 2>/dev/null || true
count() { awk -F'|' -v what="$1" '$1 ~ what { n = $3; gsub(/ /, "", n) } END { print n == "" ? "?" : n }' "$tmp/sipp.out"; }
echo "  successful calls $(count 'Successful call'), failed calls $(count 'Failed call') (sipp exit status $rc)"
[ "$cancelled" = 0 ] || echo "  nobody answered within $ring_s s: call.sh cancelled the call (for the PSAP an abandoned call)"
if [ "$rc" != 0 ]; then
  echo "SIPp's last output:"
  tail -n 25 "$tmp/sipp.out" | sed 's/^/  /'
  if [ -s "$tmp/call.err" ]; then sed 's/^/  /' "$tmp/call.err"; fi
fi

# The ESRP writes its call log through a spool: give the last events a moment to land.
echo
echo "The call's story in the ESRP's call log ($calllog story --call-id $call_id):"
story=""
for _ in $(seq 50); do
  story="$("$calllog" story --call-id "$call_id" 2>&1)" && grep -q 'call_end' <<<"$story" && break
  sleep 0.1
done
printf '%s\n' "$story" | sed 's/^/  /'
[ "$rc" = 0 ] || exit 1
[ "$cancelled" = 0 ] || exit 3
