#!/usr/bin/env bash
# Starts and stops the LoST server (ng911-lost) of the local appliance in the background.
#   scripts/lost.sh start   start on 127.0.0.1:8180 (unless running) and wait until it is ready
#   scripts/lost.sh stop    stop it
#   scripts/lost.sh status  say whether it runs
# Logs: var/log/ng911-lost.log (JSON lines); pid: var/run/ng911-lost.pid. Extra options for the
# server can be put in var/ng911-lost.conf (name = value per line; see ng911-lost --help).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
pidfile="$NG911_VAR/run/ng911-lost.pid"
logfile="$NG911_VAR/log/ng911-lost.log"
conf="$NG911_VAR/ng911-lost.conf"
listen="${NG911_LOST_LISTEN:-127.0.0.1:8180}"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "${1:-}" in
  start)
    if running; then log "lost: already running (pid $(cat "$pidfile"))"; exit 0; fi
    mkdir -p "$NG911_VAR/run" "$NG911_VAR/log"
    [ -f "$conf" ] || printf '# ng911-lost options, one "name = value" per line (ng911-lost --help)\n' > "$conf"
    log "lost: starting ng911-lost on $listen"
    setsid "$NG911_BUILD/bin/ng911-lost" --listen "$listen" --config "$conf" >>"$logfile" 2>&1 < /dev/null &
    echo $! > "$pidfile"
    for _ in $(seq 300); do
      if curl -sf "http://$listen/healthz" >/dev/null 2>&1; then log "lost: ready"; exit 0; fi
      running || { tail -5 "$logfile" >&2; die "lost: ng911-lost exited (log above)"; }
      sleep 0.1
    done
    die "lost: not ready after 30 s (see $logfile)"
    ;;
  stop)
    if running; then
      pid="$(cat "$pidfile")"
      log "lost: stopping (pid $pid)"
      kill -TERM "$pid"
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$pidfile"
    ;;
  status)
    if running; then echo "running: pid $(cat "$pidfile"), http://$listen/"; else echo "stopped"; exit 3; fi
    ;;
  *) die "usage: scripts/lost.sh start|stop|status" ;;
esac
