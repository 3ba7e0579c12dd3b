# Helpers for the shell tests: assertions and a database of the test's own.
# The cluster comes from the PG* variables that ctest sets (the test_db fixture).
set -euo pipefail
fails=0
checks=0
pass() { checks=$((checks + 1)); printf 'ok   %s\n' "$1"; }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); printf 'FAIL %s\n' "$1"; }
# expect_rc WANT DESCRIPTION -- CMD...: runs CMD, keeps its output in $out, checks its exit code.
expect_rc() {
  local want="$1" what="$2"; shift 3
  set +e; out="$("$@" 2>&1)"; local rc=$?; set -e
  if [ "$rc" = "$want" ]; then pass "$what (exit $rc)"; else fail "$what: exit $rc, wanted $want"; printf '%s\n' "$out" | sed 's/^/     /'; fi
}
# expect_out PATTERN DESCRIPTION: $out (from the last expect_rc) matches the extended regex.
expect_out() {
  if printf '%s\n' "$out" | grep -Eq -- "$1"; then pass "$2"; else fail "$2: output lacks /$1/"; printf '%s\n' "$out" | sed 's/^/     /'; fi
}
expect_eq() {
  if [ "$1" = "$2" ]; then pass "$3"; else fail "$3: got '$1', wanted '$2'"; fi
}
sql() { psql -X -qtA -v ON_ERROR_STOP=1 -c "$1"; }
# Makes a database of this test's own from the fixture's template; dropped on exit.
use_test_db() {
  export PGDATABASE="t_sh_$$_${1:-db}"
  psql -X -q -d postgres -c "CREATE DATABASE $PGDATABASE TEMPLATE ng911" >/dev/null
  trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $PGDATABASE WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
}
# require TOOL...: every tool is installed (scripts/install-deps.sh installs them), else FAIL.
require() {
  local t
  for t; do command -v "$t" >/dev/null || { echo "FAIL: $t not installed (scripts/install-deps.sh installs it)"; exit 1; }; done
}
# stop PID [TARGET]: SIGTERM to TARGET (default PID; "-PID" for its process group), SIGKILL after
# 5 s if PID still runs. Bounded; quiet when it is gone already.
stop() {
  local pid="$1" target="${2:-$1}"
  [ -n "$pid" ] || return 0
  kill -TERM -- "$target" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "$target" 2>/dev/null || true
}
# use_scratch: $tmp, a directory of this test's own, and $pids, the background processes it
# starts; when the test exits they are stopped (SIGTERM to all, SIGKILL after 5 s), the
# directory removed (NG911_TEST_KEEP_TMP keeps it) and the test's database dropped.
use_scratch() {
  tmp="$(mktemp -d)"
  pids=()
  trap scratch_cleanup EXIT
}
scratch_cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do stop "$p"; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${NG911_TEST_KEEP_TMP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
  [ -z "${PGDATABASE:-}" ] || psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $PGDATABASE WITH (FORCE)" >/dev/null 2>&1 || true
}
# free_port [tcp|udp|both]: a loopback port nobody holds right now (both: free for TCP and UDP,
# as SIP needs). Bounded: a few tries.
free_port() {
  python3 - "${1:-both}" <<'PY'
import socket, sys
kind = sys.argv[1]
for _ in range(50):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind != "udp" else socket.SOCK_DGRAM)
    t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    if kind != "both":
        t.close(); print(port); break
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
PY
}
# start_dns LOG [dnsmasq options...]: a DNS server for the RFC 3263 tests: dnsmasq on
# 127.0.0.1:$dns_port, authoritative for the made-up domain "test" (nothing is asked upstream),
# with the records the options give; returns once it serves (bounded: 5 s a try). It picks the
# port itself, free for UDP and TCP (dnsmasq binds both), and picks another when a parallel
# test's socket took it between the check and dnsmasq's bind. Its pid joins $pids.
start_dns() {
  local log="$1"; shift
  local try pid
  for try in 1 2 3 4 5; do
    dns_port="$(free_port both)"
    dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null --pid-file= --log-facility=- \
      --listen-address=127.0.0.1 --bind-interfaces --port="$dns_port" --local=/test/ \
      $([ "$(id -u)" = 0 ] && echo --user=root) "$@" >"$log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 100); do
      grep -qs "started" "$log" && return 0
      grep -qs "failed to create listening socket" "$log" && break
      sleep 0.05
    done
    grep -qs "Address already in use" "$log" || break
  done
  fail "dnsmasq did not start: $(tail -2 "$log")"
  return 1
}
finish() {
  echo "$((checks - fails)) passed, $fails failed"
  [ "$fails" = 0 ]
}
