#!/usr/bin/env bash
# Soak test: DURATION (default 10m) of mixed reads and publishes by CLIENTS (200) well-formed
# clients against a real coffer process, beside a hostile upstream (huge, slow, redirecting and
# garbage documents) and hostile clients (slow bodies, large bodies with a bad signature or token).
# Loopback only. Passes when no well-formed request got a 5xx (or no answer), nothing got a 500,
# the upstream never made coffer reach another loopback port, goroutines and fds are back near
# their start once the load stops, peak RSS stays under RSS_LIMIT_MIB and no temp file is left.
# See README.md in this directory ("Soak").
# usage: bench/soak.sh [extra soak flags...]
#   env: WORK=/tmp/coffer-soak  DURATION=10m  CLIENTS=200  RSS_LIMIT_MIB=1024  HUGE_MIB=100
#        LOGLEVEL=warn (coffer --log-level)  KEEP=1 keeps the data dir
set -euo pipefail
B=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$B")
W=${WORK:-/tmp/coffer-soak}
DURATION=${DURATION:-10m} CLIENTS=${CLIENTS:-200} RSS_LIMIT_MIB=${RSS_LIMIT_MIB:-1024} HUGE_MIB=${HUGE_MIB:-100}
LOGLEVEL=${LOGLEVEL:-warn}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
DATA=$W/data-$STAMP
say() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

mkdir -p "$W"
say "building coffer and the soak program into $W"
(cd "$ROOT" && go build -o "$W/coffer" ./cmd/coffer && go build -o "$W/soak" ./bench/go/soak)

SPID=
PIDFILE=$W/coffer-$STAMP.pid
alive() { # PID: running and not a zombie
  local s; s=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2> /dev/null) || return 1
  [ -n "$s" ] && [ "$s" != Z ]
}
stop_pid() { # PID: SIGTERM, up to 40 s, then SIGKILL
  local p=$1 i
  [ -n "$p" ] || return 0
  if alive "$p"; then
    kill -TERM "$p" 2> /dev/null || true
    for i in $(seq 400); do alive "$p" || break; sleep 0.1; done
    alive "$p" && kill -KILL "$p" 2> /dev/null
  fi
  wait "$p" 2> /dev/null || true
}
cleanup() {
  stop_pid "$SPID" # the soak program stops coffer itself (SIGTERM, then SIGKILL) ...
  local cpid; cpid=$(cat "$PIDFILE" 2> /dev/null || true)
  # ... and coffer dies with it (PR_SET_PDEATHSIG); this is for the case it did not.
  if [ -n "$cpid" ] && alive "$cpid" && grep -q coffer "/proc/$cpid/cmdline" 2> /dev/null; then stop_pid "$cpid"; fi
  rm -f "$PIDFILE"
  if [ "${KEEP:-}" = 1 ]; then say "kept $DATA"; else rm -rf "$DATA"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "DURATION=$DURATION CLIENTS=$CLIENTS RSS_LIMIT_MIB=$RSS_LIMIT_MIB HUGE_MIB=$HUGE_MIB; results in $W/soak-$STAMP.{txt,json}"
set +e
SOAK_COFFER_PIDFILE=$PIDFILE "$W/soak" -coffer "$W/coffer" -data "$DATA" -log "$W/coffer-$STAMP.log" \
  -out "$W/soak-$STAMP.json" -duration "$DURATION" -clients "$CLIENTS" -rss-limit-mib "$RSS_LIMIT_MIB" \
  -huge-mib "$HUGE_MIB" -log-level "$LOGLEVEL" "$@" > >(tee "$W/soak-$STAMP.txt") 2>&1 &
SPID=$!
wait "$SPID"
RC=$?
SPID=
set -e
sleep 0.2 # let tee flush
say "exit status $RC (0 pass, 1 a check failed, 2 the run could not be made); log $W/coffer-$STAMP.log"
exit "$RC"
