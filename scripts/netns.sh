# Network-namespace topologies for the dataplane's benchmarks and end-to-end test, removed on
# exit. Source it (bash), then call netns_star once:
#
#   client ns --C0/n0--> node ns (10.NET.0.1) --n<i>/b0--> backend ns i (10.NET.i.2, default route via the node)
#
#   netns_star TAG CLIENT BACKENDS NET   namespaces TAGCLIENT, TAGn, TAGb1..; the client at 10.NET.0.2
#                                        on CLIENT0; loopback up everywhere
#   in_ns NS CMD...                      CMD in namespace TAG+NS (NS: the client's name, n, b1, ...)
#   bg NS LOG CMD...                     the same in the background, output to LOG; its pid in $! and in pids
#   halt PID                             SIGTERM, SIGKILL after 5 s; waits for it
#   netns_cleanup                        stops every pid in pids and deletes the namespaces
#   field LINE NAME                      the value of NAME=VALUE in LINE
ns_tag="" ns_client="" ns_backends=0
pids=()

in_ns() { local ns="$1"; shift; nsenter --net="/run/netns/$ns_tag$ns" "$@"; }
bg() { local ns="$1" logf="$2"; shift 2; nsenter --net="/run/netns/$ns_tag$ns" "$@" >"$logf" 2>&1 & pids+=($!); }
halt() {
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

netns_cleanup() {
  local p i
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  [ -n "$ns_tag" ] || return 0
  ip netns del "$ns_tag$ns_client" 2>/dev/null || true
  ip netns del "${ns_tag}n" 2>/dev/null || true
  for i in $(seq "$ns_backends"); do ip netns del "${ns_tag}b$i" 2>/dev/null || true; done
}

netns_star() {
  ns_tag="$1" ns_client="$2" ns_backends="$3"
  local net="$4" i
  ip netns add "$ns_tag$ns_client"
  ip netns add "${ns_tag}n"
  ip link add "${ns_client}0" netns "$ns_tag$ns_client" type veth peer name n0 netns "${ns_tag}n"
  in_ns "$ns_client" ip link set lo up
  in_ns "$ns_client" ip addr add "10.$net.0.2/24" dev "${ns_client}0"
  in_ns "$ns_client" ip link set "${ns_client}0" up
  in_ns n ip link set lo up
  in_ns n ip addr add "10.$net.0.1/24" dev n0
  in_ns n ip link set n0 up
  for i in $(seq "$ns_backends"); do
    ip netns add "${ns_tag}b$i"
    ip link add "n$i" netns "${ns_tag}n" type veth peer name b0 netns "${ns_tag}b$i"
    in_ns n ip addr add "10.$net.$i.1/24" dev "n$i"
    in_ns n ip link set "n$i" up
    in_ns "b$i" ip link set lo up
    in_ns "b$i" ip addr add "10.$net.$i.2/24" dev b0
    in_ns "b$i" ip link set b0 up
    in_ns "b$i" ip route add default via "10.$net.$i.1"
  done
}
