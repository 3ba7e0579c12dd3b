#!/usr/bin/env bash
# Starts and stops the appliance's services in the background, each with a pid file and a log.
#   scripts/service.sh lost|esrp start|stop|status
#   lost  ng911-lost on 127.0.0.1:8180 (LoST; /metrics, /healthz), options from var/ng911-lost.conf
#   esrp  ng911-esrp on 127.0.0.1:5060 (SIP, UDP and TCP), asking the local ng911-lost; extra
#         options from var/ng911-esrp.args (one line, e.g. --default-route "urn:service:sos sip:...")
# Logs: var/log/ng911-NAME.log (JSON lines); pids: var/run/ng911-NAME.pid.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
name="${1:-}" cmd="${2:-}"
pidfile="$NG911_VAR/run/ng911-$name.pid"
logfile="$NG911_VAR/log/ng911-$name.log"
lost_listen="${NG911_LOST_LISTEN:-127.0.0.1:8180}"
esrp_listen="${NG911_ESRP_LISTEN:-127.0.0.1:5060}"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

ready() {
  case "$name" in
    lost) curl -sf "http://$lost_listen/healthz" >/dev/null 2>&1 ;;
    esrp) grep -q '"event":"listening"' "$logfile" 2>/dev/null ;;
  esac
}

start() {
  if running; then log "$name: already running (pid $(cat "$pidfile"))"; return; fi
  mkdir -p "$NG911_VAR/run" "$NG911_VAR/log"
  local args=()
  case "$name" in
    lost)
      local conf="$NG911_VAR/ng911-lost.conf"
      [ -f "$conf" ] || printf '# ng911-lost options, one "name = value" per line (ng911-lost --help)\n' > "$conf"
      args=(--listen "$lost_listen" --config "$conf") ;;
    esrp)
      local extra="$NG911_VAR/ng911-esrp.args"
      [ -f "$extra" ] || : > "$extra"
      args=(--listen "$esrp_listen" --lost "http://$lost_listen/")
      eval "args+=($(cat "$extra"))" ;;
    *) die "unknown service '$name' (lost, esrp)" ;;
  esac
  log "$name: starting ng911-$name"
  : >> "$logfile"
  local mark; mark="$(wc -l < "$logfile")"
  setsid "$NG911_BUILD/bin/ng911-$name" "${args[@]}" >>"$logfile" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  for _ in $(seq 300); do
    if [ "$name" = esrp ]; then tail -n +"$((mark + 1))" "$logfile" | grep -q '"event":"listening"' && { log "$name: ready"; return; }
    elif ready; then log "$name: ready"; return; fi
    running || { tail -5 "$logfile" >&2; die "$name: ng911-$name exited (log above)"; }
    sleep 0.1
  done
  die "$name: not ready after 30 s (see $logfile)"
}

stop() {
  if running; then
    local pid; pid="$(cat "$pidfile")"
    log "$name: stopping (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$pidfile"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "$name: running (pid $(cat "$pidfile"))"; else echo "$name: stopped"; exit 3; fi ;;
  *) die "usage: scripts/service.sh lost|esrp start|stop|status" ;;
esac
