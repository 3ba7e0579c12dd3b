#!/usr/bin/env bash
# Places one emergency call through the appliance's ESRP, as a caller's device would, and shows
# what became of it.
#   scripts/esrp/call.sh [--esrp ADDRESS:PORT] [LAT LON]
# SIPp sends INVITE urn:service:sos with a multipart/mixed body (SDP and a PIDF-LO: a GPS point
# at LAT LON, WGS 84; default downtown Austin, 30.2672 -97.7431) referenced by a Geolocation
# cid:, ACKs the answer and hangs up with BYE. Then it prints the messages SIPp saw, the PSAP
# that answered, and the call's story from the ESRP's call log (ng911-calllog story).
# Exit status: 0 the call was answered and ended, 1 it failed, 2 bad usage.
# The appliance must be up (scripts/up.sh). With the sample data: Travis County, TX (Austin) is
# psap-a, Williamson County, TX (Round Rock: 30.5083 -97.6789) psap-b; anywhere else in the US
# the ECRF names a made-up PSAP (sip:psap-FIPS@psap.example.net) and the call takes the
# default route, psap-b.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2; exit 2; }
esrp="${NG911_ESRP_LISTEN:-127.0.0.1:5060}"
while [ $# -gt 0 ]; do
  case "$1" in
    --esrp) [ $# -ge 2 ] || usage; esrp="$2"; shift 2 ;;
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
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true" timeout="75000"/>
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
  <recv response="200" timeout="15000"/>
</scenario>
XML

echo "Calling urn:service:sos via the ESRP at $esrp from $lat $lon (Call-ID $call_id)"
rc=0
# The ESRP may ring each route for up to 20 s before the next one: allow for three.
(cd "$tmp" && exec timeout 90 sipp -sf "$tmp/call.xml" "$esrp" -i 127.0.0.1 -p "$port" -m 1 -nostdin -cid_str "$call_id" \
   -timeout 80 -timeout_error -trace_msg -message_file "$tmp/call.msg" -trace_err -error_file "$tmp/call.err" \
   >"$tmp/sipp.out" 2>&1) || rc=$?

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
