#!/usr/bin/env bash
# ng911-pktgen smoke test, as root: the generator's live frames (BPF_PROG_RUN, live-frames mode)
# into a veth whose far end counts them (ng911-pktgen count), and the pcap file of the same mix.
# Checks: the receiver counts per kind exactly what the sender says it sent, which is the mix's
# share of the count; the frames on the wire have valid IPv4 and UDP checksums, distinct Call-IDs
# and branches, the flood from its few sources; pacing; the pcap file reads back in tcpdump with
# the mix's kinds, and DPDK replays it into the veth with every frame counted at the far end. Namespaces are removed by the trap, also after a failure.
# Usage: gen_test.sh NG911_PKTGEN
source "$(dirname "${BASH_SOURCE[0]}")/../support/testlib.sh"
pktgen="$1"
require ip nsenter tcpdump timeout

tag="pg$$"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do stop "$p"; done
  for ns in g r; do ip netns del "$tag$ns" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
in_ns() { local ns="$1"; shift; nsenter --net="/run/netns/$tag$ns" "$@"; }

# Sender 10.77.0.1 (g0) -- receiver 10.77.0.2 (r0).
ip netns add "${tag}g"
ip netns add "${tag}r"
ip link add g0 netns "${tag}g" type veth peer name r0 netns "${tag}r"
in_ns g ip addr add 10.77.0.1/24 dev g0
in_ns g ip link set g0 up
in_ns r ip addr add 10.77.0.2/24 dev r0
in_ns r ip link set r0 up
rmac="$(in_ns r ip -br link show r0 | awk '{print $3}')"
traffic=(--dst-mac "$rmac" --src-ip 10.77.0.1 --dst-ip 10.77.0.2 --flood-src 10.77.0.100 --flood-sources 4)

# field LINE NAME: the value of NAME=VALUE in LINE.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# start_counter ARGS...: ng911-pktgen count on r0 in the background, output in $tmp/count.out;
# returns once the program is attached.
start_counter() {
  nsenter --net="/run/netns/${tag}r" "$pktgen" count --dev r0 "$@" >"$tmp/count.out" 2>"$tmp/count.err" &
  counter=$!
  pids+=("$counter")
  for _ in $(seq 50); do grep -q "counting on" "$tmp/count.err" 2>/dev/null && return 0; sleep 0.1; done
  cat "$tmp/count.err"
  return 1
}
# wait_counter: the counter has stopped by itself (--until or --duration), within 20 s.
wait_counter() {
  for _ in $(seq 200); do kill -0 "$counter" 2>/dev/null || { wait "$counter" || true; return 0; }; sleep 0.1; done
  stop "$counter"
  return 1
}

# 1. 20,000 packets of the default mix (emergency 40, register 15, options 10, response 20,
#    flood 10, garbage 5): sent and received per kind, exactly.
n=20000
start_counter --until "$n" --duration 20
expect_rc 0 "the generator sends $n packets" -- in_ns g "$pktgen" live --dev g0 "${traffic[@]}" --count "$n" --duration 20 --quiet
sent="$(printf '%s\n' "$out" | grep '^sent ')"
echo "     $sent"
wait_counter || fail "the receiver did not see all $n within 20 s"
received="$(grep '^received ' "$tmp/count.out" || true)"
echo "     $received"
expect_eq "$(field "$sent" total)" "$n" "sent total"
want=(emergency=8000 register=3000 options=2000 response=4000 flood=2000 garbage=1000)
for w in "${want[@]}"; do
  kind="${w%%=*}"
  expect_eq "$(field "$sent" "$kind")" "${w#*=}" "sent $kind is its share of the mix"
  expect_eq "$(field "$received" "$kind")" "${w#*=}" "received $kind: all of them"
done
expect_eq "$(field "$received" total)" "$n" "received total"

# 2. Another mix, paced: 3,000 at 10,000 packets/s takes at least 0.25 s (a lower bound only).
start_counter --until 3000 --duration 20
expect_rc 0 "a paced run of another mix" -- in_ns g "$pktgen" live --dev g0 "${traffic[@]}" --mix emergency=2,garbage=1 \
  --count 3000 --rate 10000 --duration 20 --quiet
sent="$(printf '%s\n' "$out" | grep '^sent ')"
wait_counter || true
received="$(grep '^received ' "$tmp/count.out" || true)"
expect_eq "$(field "$received" emergency)/$(field "$received" garbage)/$(field "$received" register)" "2000/1000/0" \
  "received the paced mix 2:1"
if awk -v s="$(field "$sent" elapsed_s)" 'BEGIN { exit !(s >= 0.25) }'; then pass "pacing holds the rate (took $(field "$sent" elapsed_s) s)"
else fail "3000 at 10000/s took only $(field "$sent" elapsed_s) s"; fi

# 3. The frames themselves: the counter lets 400 through to a capture on r0.
start_counter --pass --until 400 --duration 20
in_ns r timeout 20 tcpdump -i r0 -nn -c 400 -w "$tmp/live.pcap" udp port 5060 2>"$tmp/tcpdump.err" &
dump=$!
pids+=("$dump")
for _ in $(seq 50); do grep -q "listening on" "$tmp/tcpdump.err" 2>/dev/null && break; sleep 0.1; done
expect_rc 0 "400 packets for the capture" -- in_ns g "$pktgen" live --dev g0 "${traffic[@]}" --count 400 --chunk 8 --quiet
wait "$dump" || true
wait_counter || true
decoded="$(tcpdump -r "$tmp/live.pcap" -nn -vv 2>/dev/null)"
expect_eq "$(printf '%s\n' "$decoded" | grep -c 'udp sum ok')" 400 "every captured frame has a valid UDP checksum"
expect_eq "$(printf '%s\n' "$decoded" | grep -ci 'bad cksum')" 0 "no bad IPv4 header checksum"
ascii="$(tcpdump -r "$tmp/live.pcap" -nn -A 2>/dev/null)"
ids="$(printf '%s\n' "$ascii" | grep -o 'Call-ID: [0-9a-f]\{16\}@' | sort | uniq | wc -l)"
expect_eq "$ids" 380 "380 SIP packets, 380 distinct Call-IDs (the 20 garbage have none)"
branches="$(printf '%s\n' "$ascii" | grep -o 'branch=z9hG4bK-[0-9a-f]\{8\}' | sort | uniq | wc -l)"
expect_eq "$branches" 300 "each request has a branch of its own (300 requests; responses keep theirs)"
flooders="$(printf '%s\n' "$decoded" | grep -B1 'INVITE urn:service:sos' | grep -o '10\.77\.0\.10[0-9]\.5060 >' | sort -u | wc -l)"
expect_eq "$flooders" 4 "the flood comes from its 4 sources"

# 4. The pcap file of the same mix, read back by tcpdump.
expect_rc 0 "write 1,000 packets to a pcap file" -- "$pktgen" pcap --out "$tmp/mix.pcap" --count 1000 "${traffic[@]}"
expect_out "emergency=400 register=150 options=100 response=200 flood=100 garbage=50" "the pcap file holds the mix's shares"
expect_rc 0 "tcpdump reads the file" -- tcpdump -r "$tmp/mix.pcap" -nn -vv
expect_eq "$(printf '%s\n' "$out" | grep -c 'udp sum ok')" 1000 "every frame in the file has a valid UDP checksum"
ascii="$(tcpdump -r "$tmp/mix.pcap" -nn -A 2>/dev/null)"
expect_eq "$(printf '%s\n' "$ascii" | grep -c '^Priority: emergency')" 400 "400 emergency INVITEs with the i3 headers"
expect_eq "$(printf '%s\n' "$ascii" | grep -c 'gml:pos')" 400 "... each with a PIDF-LO"
expect_eq "$(printf '%s\n' "$ascii" | grep -c 'SIP: REGISTER sip:registrar')" 150 "150 REGISTERs (tcpdump's SIP summary line)"
expect_eq "$(printf '%s\n' "$ascii" | grep -o 'Call-ID: [0-9a-f]\{16\}@' | sort -u | wc -l)" 950 "950 distinct Call-IDs"

# 5. DPDK replay of that file (net_pcap from memory into a port on g0): the file over and over,
#    each kind's share exact at the receiver; both of DPDK's kernel-interface drivers; pacing.
for pmd in af_packet af_xdp; do
  start_counter --until 20000 --duration 30
  expect_rc 0 "DPDK ($pmd) replays the file 20 times" -- \
    in_ns g "$pktgen" replay --pcap "$tmp/mix.pcap" --dev g0 --pmd "$pmd" --count 20000 --duration 20 --quiet
  sent="$(printf '%s\n' "$out" | grep '^sent ')"
  echo "     $sent"
  wait_counter || fail "the receiver did not see all 20000 within 30 s"
  received="$(grep '^received ' "$tmp/count.out" || true)"
  expect_eq "$(field "$sent" total)/$(field "$sent" file_frames)" "20000/1000" "sent 20,000 from a file of 1,000 ($pmd)"
  for w in emergency=8000 register=3000 options=2000 response=4000 flood=2000 garbage=1000; do
    expect_eq "$(field "$received" "${w%%=*}")" "${w#*=}" "received ${w%%=*} ($pmd): all of them"
  done
done
expect_rc 0 "a paced replay" -- in_ns g "$pktgen" replay --pcap "$tmp/mix.pcap" --dev g0 --count 3000 --rate 10000 --quiet
sent="$(printf '%s\n' "$out" | grep '^sent ')"
if awk -v s="$(field "$sent" elapsed_s)" 'BEGIN { exit !(s >= 0.25) }'; then pass "replay pacing holds the rate (took $(field "$sent" elapsed_s) s)"
else fail "3000 at 10000/s replayed in only $(field "$sent" elapsed_s) s"; fi

# 6. Bad input is refused with a reason.
expect_rc 1 "an unknown kind in the mix is refused" -- "$pktgen" pcap --out "$tmp/x.pcap" --count 1 --mix emergency=1,bogus=2
expect_out "unknown kind 'bogus'" "the refusal names it"
expect_rc 1 "an interface that does not exist is refused" -- in_ns g "$pktgen" live --dev nosuch0 "${traffic[@]}" --count 1
expect_out "no interface nosuch0" "the refusal names it"
expect_rc 1 "replay of a file that does not exist is refused" -- "$pktgen" replay --pcap "$tmp/none.pcap" --dev g0
expect_out "cannot read $tmp/none.pcap" "the refusal names it"

finish
