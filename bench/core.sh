#!/usr/bin/env bash
# coffer's core numbers next to the machine's limits, in one run (README.md in this directory):
#   start-up time and idle RSS (empty data dir), 1 GiB generic publish (MB/s, RSS growth) next to
#   sha256sum/sha512sum/one-pass Go hashing of the same file, 1 GiB asset download interleaved with
#   a Go static file server, seeding of N packages, start-up and idle RSS on the full data dir,
#   ListPackages latency per page.
# usage: bench/core.sh [REPS=5]
#   env: WORK=/tmp/coffer-bench (binaries, the 1 GiB file, results; reused)  N=100000 packages
#        MIB=1024 (file size)  SAMPLES=300 (requests per ListPackages scenario and rep)
#        LOGLEVEL=warn (coffer --log-level)  KEEP=1 keeps the data dir  SHARED=../shared/bench
set -euo pipefail
REPS=${1:-5}
B=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$B")
SHARED=${SHARED:-$ROOT/../shared/bench}
W=${WORK:-/tmp/coffer-bench}
N=${N:-100000} MIB=${MIB:-1024} SAMPLES=${SAMPLES:-300} LOGLEVEL=${LOGLEVEL:-warn}
DL_REPS=$(( REPS < 5 ? 5 : REPS ))
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$W/www"
RAW=$W/results-$STAMP.jsonl LOG=$W/coffer-$STAMP.log RUN=$(mktemp -d "$W/run-$STAMP.XXXXXX")
BIG=$W/www/big.bin
say() { printf '[core %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

say "building into $W"
(cd "$ROOT" && go build -o "$W/coffer" ./cmd/coffer && go build -o "$W/cofferbench" ./bench/go/cofferbench)
go build -o "$W/fileserver" "$SHARED/go/fileserver/main.go"
go build -o "$W/hashall" "$SHARED/go/hashall/main.go"
CB=$W/cofferbench

[ "$(stat -c %s "$BIG" 2> /dev/null)" = $((MIB << 20)) ] || { say "making $BIG ($MIB MiB random)"; head -c "${MIB}M" /dev/urandom > "$BIG"; }
SIZE=$(stat -c %s "$BIG")

CPID= FSPID=
alive() { # PID: running and not a zombie
  local s; s=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2> /dev/null) || return 1
  [ -n "$s" ] && [ "$s" != Z ]
}
stop_pid() { # PID: SIGTERM, up to 30 s, then SIGKILL; STOP_MS = SIGTERM -> exit
  local p=$1 i t0
  STOP_MS=0
  [ -n "$p" ] || return 0
  if alive "$p"; then
    t0=$(date +%s%N)
    kill -TERM "$p" 2> /dev/null || true
    for i in $(seq 300); do alive "$p" || break; sleep 0.1; done
    alive "$p" && kill -KILL "$p" 2> /dev/null
    STOP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
  fi
  wait "$p" 2> /dev/null || true
}
cleanup() {
  stop_pid "$CPID"; stop_pid "$FSPID"
  if [ "${KEEP:-}" = 1 ]; then say "kept $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$("$CB" freeport)
URL=http://127.0.0.1:$PORT
emit() { # SECTION TEST KEY VALUE [KEY VALUE ...]: one JSON line into $RAW
  local s=$1 t=$2 line; shift 2
  line="{\"_s\":\"$s\",\"test\":\"$t\""
  while [ $# -ge 2 ]; do line+=",\"$1\":$2"; shift 2; done
  echo "$line}" | tee -a "$RAW" >&2
}
kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; } # PID FIELD (VmRSS, VmHWM)
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # PID: user+sys CPU, clock ticks
HZ=$(getconf CLK_TCK)
# Other processes on the machine (not this script, its children, coffer or the file server):
# their share of the 2 CPUs during a timed step, to tell a clean measurement from a disturbed one.
busy_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat; }
own_ticks() {
  local t p
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$$/stat") # the script + its reaped children
  for p in $CPID $FSPID; do t=$(( t + $(ticks "$p" 2> /dev/null || echo 0) )); done
  echo "$t"
}
noise_start() { N0=$(date +%s%N) B0=$(busy_ticks) O0=$(own_ticks); }
noise_end() { # TEST
  local b o n; b=$(busy_ticks) o=$(own_ticks) n=$(date +%s%N)
  emit noise "$1" "other CPU %" "$(awk -v d=$(( (b - B0) - (o - O0) )) -v w=$(( n - N0 )) -v hz="$HZ" -v c="$(nproc)" \
    'BEGIN {x = 100 * d / (w / 1e9 * hz * c); printf "%.1f", x < 0 ? 0 : x}')"
}
reset_hwm() { echo 5 > "/proc/$1/clear_refs"; } # VmHWM := VmRSS (Linux ≥ 4.0)
wait_idle() { # until the CPUs are < 10% busy for a second (up to 60 s), as ../shared/bench/load.sh
  local a b i
  for _ in $(seq 60); do
    a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
    local idle=$(( b[4] + b[5] - a[4] - a[5] )) all=0
    for i in 1 2 3 4 5 6 7 8; do all=$(( all + b[i] - a[i] )); done
    (( (all - idle) * 10 < all )) && return
  done
  say "CPUs still busy after 60 s; measuring anyway"
}
start_coffer() { # DATA_DIR: starts coffer (CPID), STARTUP_MS = process start -> /readyz 200
  local t0; t0=$(date +%s%N)
  # API limits off: the seeding and the ListPackages runs measure what the server can do, far
  # above the default per-principal rates (100 writes/s, 200 ListPackages/s).
  "$W/coffer" serve --listen "127.0.0.1:$PORT" --data-dir "$1" --log-level "$LOGLEVEL" --api-rate-limits off >> "$LOG" 2>&1 &
  CPID=$!
  STARTUP_MS=$("$CB" waitready -url "$URL/readyz" -t0 "$t0" -timeout 120s)
}
C() { echo "-endpoint $URL -creds $DATA/root-credentials"; }
rate() { # TEST COMMAND...: MB/s of a command that reads the big file once
  local t0 t1; noise_start; t0=$(date +%s.%N); "${@:2}" > /dev/null; t1=$(date +%s.%N); noise_end "$1"
  emit throughput "$1" MB/s "$(awk -v a="$t0" -v b="$t1" -v s="$SIZE" 'BEGIN {printf "%.1f", s / (b - a) / 1e6}')"
}
download() { # TEST URL: curl -> /dev/null, MB/s
  local out; noise_start; out=$(curl --noproxy '*' -fsS -o /dev/null -w '%{size_download} %{time_total}' "$2"); noise_end "$1"
  [ "${out% *}" = "$SIZE" ] || { say "$1: downloaded ${out% *} bytes, want $SIZE"; exit 1; }
  emit throughput "$1" MB/s "$(awk -v n="${out% *}" -v t="${out#* }" 'BEGIN {printf "%.1f", n / t / 1e6}')"
}
tag() { printf 'coffer-bench rep %05d\n' "$1" | dd of="$BIG" conv=notrunc status=none; } # unique content per publish

{
  echo "# coffer core bench $STAMP"
  echo "host: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r), $(go version)"
  echo "REPS=$REPS DL_REPS=$DL_REPS N=$N MIB=$MIB SAMPLES=$SAMPLES LOGLEVEL=$LOGLEVEL data dir under $RUN"
} | tee "$W/results-$STAMP.md" >&2

# --- start-up and idle RSS on an empty data dir; the last instance stays up for the rest
for i in $(seq "$REPS"); do
  [ -z "$CPID" ] || { stop_pid "$CPID"; rm -rf "$DATA"; }
  DATA=$RUN/data-$i
  wait_idle
  start_coffer "$DATA"
  sleep 1
  emit startup "start-up to /readyz 200, empty data dir" ms "$STARTUP_MS"
  emit memory "idle RSS 1 s after start-up, empty data dir" MiB "$(mib "$(kib "$CPID" VmRSS)")"
done
say "coffer pid $CPID on $URL, data $DATA"
"$CB" setup $(C)

# --- 1. publish 1 GiB (unique content each rep), next to the hashes of the same file
cat "$BIG" > /dev/null # in the page cache: we measure CPU and memory, not the disk read
for i in $(seq "$REPS"); do
  tag "$i"; sync; wait_idle
  before=$(kib "$CPID" VmRSS); reset_hwm "$CPID"; t0=$(ticks "$CPID")
  T="publish $MIB MiB generic asset, SDK, streamed (server: 4 hashes, SHA-256 verified)"
  noise_start
  "$CB" publish $(C) -file "$BIG" -version "1.0.$((i - 1))" -test "$T" | tee -a "$RAW" >&2
  noise_end "$T"
  hwm=$(kib "$CPID" VmHWM)
  emit cpu "publish: coffer CPU time (user+sys) for $MIB MiB" s "$(awk -v t=$(( $(ticks "$CPID") - t0 )) -v hz="$HZ" 'BEGIN {printf "%.2f", t / hz}')"
  emit memory "publish: RSS growth (VmHWM after − VmRSS before)" MiB "$(mib $((hwm - before)))" _before_MiB "$(mib "$before")"
  wait_idle
  rate "sha256sum (coreutils), same file" sha256sum "$BIG"
  rate "sha512sum (coreutils), same file" sha512sum "$BIG"
  rate "dd of the same file into the data dir's file system + fsync" dd if="$BIG" of="$RUN/dd.tmp" bs=1M conv=fsync status=none
  rm -f "$RUN/dd.tmp"
  noise_start
  "$W/hashall" -parallel "$BIG" | sed 's/^{/{"_s":"throughput",/' | tee -a "$RAW" >&2
  noise_end "go md5+sha1+sha256+sha512, one pass, 4 goroutines"
done
emit memory "idle RSS after the publishes" MiB "$(mib "$(kib "$CPID" VmRSS)")"

# --- 2. download of 1.0.0 (presigned URL, no signing in curl), interleaved with a static server
tag 1 # big.bin is now byte-for-byte the asset of 1.0.0
FSPORT=$("$CB" freeport)
"$W/fileserver" "127.0.0.1:$FSPORT" "$W/www" & FSPID=$!
"$CB" waitready -url "http://127.0.0.1:$FSPORT/" -timeout 30s > /dev/null
GET=$("$CB" presign $(C) -version 1.0.0)
find "$DATA" -type f -exec cat {} + > /dev/null # the blobs in the page cache too
want=$(sha256sum < "$BIG"); got=$(curl --noproxy '*' -fsS "$GET" | sha256sum)
[ "$want" = "$got" ] || { say "the downloaded asset differs from the file ($got vs $want)"; exit 1; }
curl --noproxy '*' -fsS -o /dev/null "http://127.0.0.1:$FSPORT/big.bin"
reset_hwm "$CPID"; before=$(kib "$CPID" VmRSS)
for i in $(seq "$DL_REPS"); do
  wait_idle
  if (( i % 2 )); then order="coffer fileserver"; else order="fileserver coffer"; fi
  for s in $order; do
    case $s in
      coffer) download "$MIB MiB download, curl <- coffer GetPackageVersionAsset (presigned)" "$GET" ;;
      fileserver) download "$MIB MiB download, curl <- Go FileServer (same file)" "http://127.0.0.1:$FSPORT/big.bin" ;;
    esac
  done
done
emit memory "download: RSS growth over all downloads (VmHWM − VmRSS before)" MiB "$(mib $(( $(kib "$CPID" VmHWM) - before )))"
stop_pid "$FSPID"; FSPID=

# --- seeding N packages
wait_idle
reset_hwm "$CPID"; noise_start
"$CB" seed $(C) -n "$N" -workers 8 | tee -a "$RAW" >&2
noise_end "seed $N packages"
emit memory "peak RSS during the seeding (VmHWM)" MiB "$(mib "$(kib "$CPID" VmHWM)")"
sleep 5
emit memory "idle RSS 5 s after seeding $N packages" MiB "$(mib "$(kib "$CPID" VmRSS)")"
for f in metadata.db metadata.db-wal; do
  emit disk "$f after seeding $N packages (server running)" MiB "$(mib $(( $(stat -c %s "$DATA/$f" 2> /dev/null || echo 0) / 1024 )))"
done

# --- start-up and idle RSS on the full data dir; the last instance stays up
for i in $(seq "$REPS"); do
  stop_pid "$CPID"
  if (( i == 1 )); then emit startup "shutdown (SIGTERM -> exit) right after the seeding" ms "$STOP_MS"
  else emit startup "shutdown (SIGTERM -> exit), idle, data dir with $N packages" ms "$STOP_MS"; fi
  (( i > 1 )) || for f in metadata.db metadata.db-wal; do
    emit disk "$f after the first restart" MiB "$(mib $(( $(stat -c %s "$DATA/$f" 2> /dev/null || echo 0) / 1024 )))"
  done
  wait_idle
  start_coffer "$DATA"
  sleep 1
  emit startup "start-up to /readyz 200, data dir with $N packages + $REPS × $MIB MiB assets" ms "$STARTUP_MS"
  emit memory "idle RSS 1 s after start-up, data dir with $N packages" MiB "$(mib "$(kib "$CPID" VmRSS)")"
done

# --- 3. ListPackages latency
reset_hwm "$CPID"; before=$(kib "$CPID" VmRSS)
for i in $(seq "$REPS"); do
  wait_idle; noise_start
  "$CB" list $(C) -n "$N" -samples "$SAMPLES" -seed "$i" | tee -a "$RAW" >&2
  noise_end "ListPackages run (all scenarios)"
done
emit memory "ListPackages runs: RSS growth (VmHWM − VmRSS before)" MiB "$(mib $(( $(kib "$CPID" VmHWM) - before )))"
emit memory "idle RSS after the ListPackages runs" MiB "$(mib "$(kib "$CPID" VmRSS)")"

"$CB" table < "$RAW" | tee -a "$W/results-$STAMP.md"
say "raw: $RAW  table: $W/results-$STAMP.md  coffer log: $LOG"
