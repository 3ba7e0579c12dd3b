#!/usr/bin/env bash
# Starts and stops the appliance's services in the background, each with a pid file and a log.
#   scripts/service.sh lost|psaps|psap|esrp start|stop|status
#   lost   ng911-lost on 127.0.0.1:8180 (LoST; /metrics, /healthz), options from var/ng911-lost.conf
#   psaps  the sample PSAP queues: SIPp playing scripts/esrp/psap-queue.xml (answers calls and the
#          ESRP's emergency-QueueState subscription, "Active"), psap-a on 127.0.0.1:5071 and
#          psap-b on 127.0.0.1:5072, over UDP. Per queue in var/log: psap-X.log (SIPp's output),
#          psap-X.stat.csv (SIPp statistics every 10 s), psap-X.errors.log (unexpected
#          messages), psap-X.screen.log (SIPp's final screen, written when it stops).
#   psap   ng911-psap, the PSAP endpoint with its call-takers' console: queue
#          sip:psap-c@127.0.0.1:5070 (SIP over UDP and TCP), console and API on
#          http://127.0.0.1:8280/ (psap-ui/console/dist), calls in the local database, transfers
#          through the ESRP (sip:127.0.0.1:5060). Its first start adds two console accounts, a
#          call-taker and a supervisor, with generated passwords written to var/psap-accounts.txt
#          (mode 600); later starts reuse them, and add again whatever the database lacks.
#   esrp   ng911-esrp on 127.0.0.1:5060 (SIP, UDP and TCP), /metrics and /healthz on
#          127.0.0.1:8190, asking the local ng911-lost, with the sample policy rules
#          (scripts/esrp/policy.json: reloaded when the file changes or on SIGHUP), the default
#          route psap-b, the last-resort route psap-a, a default location in downtown Austin, a
#          subscription to psap-c's queue state, ring-no-answer after 65 s per route, the call
#          log in the local database (spool var/esrp/spool). Extra options from
#          var/ng911-esrp.args (one line, e.g. --ring-timeout-ms 10000): an option named there
#          replaces the sample's, a --default-route there for urn:service:sos replaces psap-b.
# Logs: var/log/ng911-NAME.log (JSON lines); pids: var/run/ng911-NAME.pid, var/run/psap-X.pid.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
name="${1:-}" cmd="${2:-}"
lost_listen="${NG911_LOST_LISTEN:-127.0.0.1:8180}"
esrp_listen="${NG911_ESRP_LISTEN:-127.0.0.1:5060}"
esrp_http="${NG911_ESRP_HTTP:-127.0.0.1:8190}"
# The sample PSAP queues: NAME=ADDRESS:PORT. The sample data (scripts/sample-data/build.sh) and
# the sample rules (scripts/esrp/policy.json) name the same URIs, sip:NAME@ADDRESS:PORT.
psap_queues=("psap-a=127.0.0.1:5071" "psap-b=127.0.0.1:5072")
psap_scenario="$NG911_ROOT/scripts/esrp/psap-queue.xml"
# Where a call goes when the ECRF names no queue we can reach, and when every route failed.
esrp_default_route="urn:service:sos sip:psap-b@127.0.0.1:5072"
esrp_last_resort="sip:psap-a@127.0.0.1:5071"
# The Texas State Capitol, Austin (Travis County: psap-a), routed on when a call has no usable
# location.
esrp_default_location="30.2747 -97.7404 50"
# ng911-psap: its queue (Hays County, TX in the sample data) and the console's address.
psap_listen="${NG911_PSAP_LISTEN:-127.0.0.1:5070}"
psap_http="${NG911_PSAP_HTTP:-127.0.0.1:8280}"
psap_queue="sip:psap-c@$psap_listen"
# A console's queue rings until a person answers, and that person may first have to log in: at
# the ESRP's usual 20 s the sample call would move on to the default route before anyone could.
# Longer than scripts/esrp/call.sh's own wait (60 s), so that an unanswered sample call ends as
# the caller's CANCEL (an abandoned call with call-back in the console), not a failover. The
# policy rules' overflow routes keep their own ringTimeoutMs.
esrp_ring_timeout_ms=65000
# The console's sample accounts: NAME=ROLE.
psap_accounts=("calltaker=call-taker" "supervisor=supervisor")

# running PIDFILE COMMAND: the pid file names a live process of that command. Checking the
# command keeps a stale pid file (after a reboot) from making us signal someone else's process.
running() {
  [ -f "$1" ] || return 1
  local pid; pid="$(cat "$1")"
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

# stop_pid NAME PIDFILE COMMAND SECONDS SIGNAL: SIGNAL asks for a graceful stop; after SECONDS,
# SIGKILL.
stop_pid() {
  local label="$1" pidfile="$2" comm="$3" wait_s="$4" sig="$5"
  if running "$pidfile" "$comm"; then
    local pid; pid="$(cat "$pidfile")"
    log "$label: stopping (pid $pid)"
    kill "-$sig" "$pid"
    for _ in $(seq "$((wait_s * 10))"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$label: still running after $wait_s s, killing it"
      kill -KILL "$pid"
    fi
  fi
  rm -f "$pidfile"
}

udp_listener() { ss -Hlunp "sport = :$1" 2>/dev/null; }

# --- ng911-psap's console accounts ------------------------------------------------------------
# Passwords are made on the machine at first start, never kept in the repository. The file is
# the operator's record of them: a database made afresh (db.sh destroy) gets the same accounts
# and passwords again. An account that exists with a password the file does not know is left
# alone: we cannot read it back, and replacing it would lock out whoever set it.
psap_accounts_ensure() {
  local file="$NG911_VAR/psap-accounts.txt" entry user role password exists
  mkdir -p "$NG911_VAR"
  if [ ! -f "$file" ]; then
    (umask 077 && printf '# Accounts of the PSAP console http://%s/ (made by scripts/service.sh psap start)\n# name role password\n' \
      "$psap_http" > "$file")
  fi
  chmod 600 "$file"
  for entry in "${psap_accounts[@]}"; do
    user="${entry%%=*}" role="${entry#*=}"
    exists="$("$NG911_ROOT/scripts/db.sh" psql -X -qtA -v ON_ERROR_STOP=1 \
                -c "SELECT count(*) FROM psap.app_user WHERE name = '$user'")" \
      || die "psap: cannot read the console accounts from the local database (scripts/db.sh up applies the schema)"
    password="$(awk -v u="$user" '$1 == u { print $3 }' "$file")"
    if [ "$exists" = 1 ]; then
      [ -n "$password" ] || log "psap: account $user exists, but its password is not in $file: left as it is"
      continue
    fi
    if [ -z "$password" ]; then
      password="$(openssl rand -hex 12)"
      printf '%s %s %s\n' "$user" "$role" "$password" >> "$file"
    fi
    printf '%s\n' "$password" | "$NG911_BUILD/bin/ng911-psap" user add "$user" --role "$role" >/dev/null \
      || die "psap: could not add the console account $user"
    log "psap: console account $user ($role) added; its password is in $file"
  done
}

# --- ng911-lost, ng911-psap and ng911-esrp ----------------------------------------------------
daemon_start() {
  local pidfile="$NG911_VAR/run/ng911-$name.pid" logfile="$NG911_VAR/log/ng911-$name.log"
  if running "$pidfile" "ng911-$name"; then log "$name: already running (pid $(cat "$pidfile"))"; return; fi
  mkdir -p "$NG911_VAR/run" "$NG911_VAR/log"
  local args=()
  case "$name" in
    lost)
      local conf="$NG911_VAR/ng911-lost.conf"
      [ -f "$conf" ] || printf '# ng911-lost options, one "name = value" per line (ng911-lost --help)\n' > "$conf"
      args=(--listen "$lost_listen" --config "$conf") ;;
    psap)
      psap_accounts_ensure
      args=(--listen "$psap_listen" --http "$psap_http" --queue "$psap_queue" --esrp "sip:$esrp_listen"
            --console-dir "$NG911_ROOT/psap-ui/console/dist") ;;
    esrp)
      local extra_file="$NG911_VAR/ng911-esrp.args" extra=()
      [ -f "$extra_file" ] || : > "$extra_file"
      eval "extra=($(cat "$extra_file"))"
      # ng911-esrp refuses a single-valued option given twice: the operator's wins.
      given() { local a; for a in "${extra[@]}"; do [[ "$a" == "$1" || "$a" == "$1="* ]] && return 0; done; return 1; }
      mkdir -p "$NG911_VAR/esrp/spool"
      args=(--listen "$esrp_listen" --lost "http://$lost_listen/")
      given --http || args+=(--http "$esrp_http")
      given --policy || args+=(--policy "$NG911_ROOT/scripts/esrp/policy.json")
      given --default-location || args+=(--default-location "$esrp_default_location")
      given --last-resort || args+=(--last-resort "$esrp_last_resort")
      given --spool-dir || args+=(--spool-dir "$NG911_VAR/esrp/spool")
      given --ring-timeout-ms || args+=(--ring-timeout-ms "$esrp_ring_timeout_ms")
      # Queues besides the rules' ones add up: ng911-psap's is always watched.
      args+=(--queue "$psap_queue")
      # Default routes are per service and the last one given for a service counts.
      args+=(--default-route "$esrp_default_route" "${extra[@]}") ;;
  esac
  log "$name: starting ng911-$name"
  : >> "$logfile"
  local mark; mark="$(wc -l < "$logfile")"
  setsid "$NG911_BUILD/bin/ng911-$name" "${args[@]}" >>"$logfile" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  for _ in $(seq 300); do
    case "$name" in
      lost) curl -sf "http://$lost_listen/healthz" >/dev/null 2>&1 && { log "$name: ready"; return; } ;;
      psap) curl -sf "http://$psap_http/healthz" >/dev/null 2>&1 && { log "$name: ready"; return; } ;;
      esrp) tail -n +"$((mark + 1))" "$logfile" | grep -q '"event":"listening"' && { log "$name: ready"; return; } ;;
    esac
    running "$pidfile" "ng911-$name" || { tail -5 "$logfile" >&2; rm -f "$pidfile"; die "$name: ng911-$name exited (log above)"; }
    sleep 0.1
  done
  die "$name: not ready after 30 s (see $logfile)"
}

# ng911-esrp drains on SIGTERM: new calls are turned away (503, so callers retry elsewhere) and
# calls under way may take up to its --drain-timeout-ms (30 s) to end.
daemon_stop() {
  local wait_s=10; [ "$name" = esrp ] && wait_s=35
  stop_pid "$name" "$NG911_VAR/run/ng911-$name.pid" "ng911-$name" "$wait_s" TERM
}

daemon_status() {
  local pidfile="$NG911_VAR/run/ng911-$name.pid"
  if running "$pidfile" "ng911-$name"; then echo "$name: running (pid $(cat "$pidfile"))"; else echo "$name: stopped"; return 3; fi
}

# --- the sample PSAP queues (SIPp) ------------------------------------------------------------
psap_start() {
  local queue="$1" addr="${2%:*}" port="${2##*:}"
  local pidfile="$NG911_VAR/run/$queue.pid" logfile="$NG911_VAR/log/$queue.log"
  if running "$pidfile" sipp; then log "$queue: already running (pid $(cat "$pidfile"))"; return; fi
  mkdir -p "$NG911_VAR/run" "$NG911_VAR/log"
  local holder; holder="$(udp_listener "$port")"
  [ -z "$holder" ] || die "$queue: UDP port $port is taken by another process ($holder); stop it or wait, then retry"
  log "$queue: starting SIPp as PSAP queue sip:$queue@$addr:$port"
  # -bg: SIPp detaches and prints its pid. It runs in var/log so that any file it writes
  # without being asked lands there. Unbounded calls: it is a service. SIPp's watchdog ends a
  # load test after 120 late timer ticks (10 major ones); on a busy machine a queue that runs for
  # days would die of it, so it only counts them.
  local out
  out="$(cd "$NG911_VAR/log" && sipp -sf "$psap_scenario" -t u1 -i "$addr" -p "$port" -bg -nostdin \
           -watchdog_minor_maxtriggers 1000000000 -watchdog_major_maxtriggers 1000000000 \
           -trace_stat -stf "$NG911_VAR/log/$queue.stat.csv" -fd 10 \
           -trace_err -error_file "$NG911_VAR/log/$queue.errors.log" -error_overwrite false \
           -trace_screen -screen_file "$NG911_VAR/log/$queue.screen.log" 2>&1)" || true
  printf '%s %s\n' "$(date -u +%FT%TZ)" "$out" >> "$logfile"
  local pid; pid="$(printf '%s\n' "$out" | sed -n 's/.*Background mode - PID=\[\([0-9]*\)\].*/\1/p')"
  [ -n "$pid" ] || { printf '%s\n' "$out" >&2; die "$queue: SIPp did not start (above)"; }
  echo "$pid" > "$pidfile"
  for _ in $(seq 100); do
    udp_listener "$port" | grep -q "pid=$pid," && { log "$queue: ready"; return; }
    running "$pidfile" sipp || { rm -f "$pidfile"; die "$queue: SIPp exited (see $logfile and $NG911_VAR/log/$queue.errors.log)"; }
    sleep 0.1
  done
  die "$queue: SIPp is not listening on $addr:$port after 10 s"
}

# SIGUSR1 is SIPp's graceful quit: no new calls, the calls under way end, the final screen and
# statistics are written.
psap_stop() { stop_pid "$1" "$NG911_VAR/run/$1.pid" sipp 5 USR1; }

psap_status() {
  local pidfile="$NG911_VAR/run/$1.pid"
  if running "$pidfile" sipp; then echo "$1: running (pid $(cat "$pidfile")) on ${2}"; else echo "$1: stopped"; return 3; fi
}

# psaps_each ACTION: ACTION NAME ADDRESS:PORT for each queue; the worst status is returned.
psaps_each() {
  local q rc=0
  for q in "${psap_queues[@]}"; do "$1" "${q%%=*}" "${q#*=}" || rc=$?; done
  return "$rc"
}

usage="usage: scripts/service.sh lost|psaps|psap|esrp start|stop|status"
case "$name" in
  lost|psap|esrp)
    case "$cmd" in
      start) daemon_start ;;
      stop) daemon_stop ;;
      status) daemon_status ;;
      *) die "$usage" ;;
    esac ;;
  psaps)
    case "$cmd" in
      start) psaps_each psap_start ;;
      stop) psaps_each psap_stop ;;
      status) psaps_each psap_status ;;
      *) die "$usage" ;;
    esac ;;
  *) die "unknown service '$name'; $usage" ;;
esac
