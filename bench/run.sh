#!/usr/bin/env bash
# The standard set of coffer's targets (../shared/spec/baselines.md, "Targets for coffer"), each
# next to its baseline measured in the same run, one JSON line per measurement appended to
# $RESULTS/$LABEL.jsonl (README.md in this directory: "bench/run.sh").
#   P7 start-up + idle RSS, set-up, P9 (fixtures.py publish latency), P1 packuments vs a static
#   server of the same gzip bytes (+ P7 peak RSS), P2 10 KB tarball vs Go FileServer, P4 1 GiB
#   publish vs hashall -parallel, P3 1 GiB download vs Go FileServer, idle RSS at the end.
# usage: bench/run.sh [REPS=5] [DURATION=10s]
#   env: WORK=/tmp/coffer-run  COFFER=prebuilt binary (default: build ./cmd/coffer)  MIB=1024
#        VERSIONS=3800  SHARED=../shared/bench  RESULTS=bench/results  LABEL=<cpus-cpu-host>
#        ONLY="P1 P2 P3 P4 P7 P9" (a subset)  IDLE_MAX=60 (s waiting for idle CPUs)  KEEP=1 keeps
#        the data dirs
set -euo pipefail
REPS=${1:-5} DUR=${2:-10s}
B=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$B")
SHARED=${SHARED:-$ROOT/../shared/bench}
W=${WORK:-/tmp/coffer-run}
MIB=${MIB:-1024} VERSIONS=${VERSIONS:-3800} IDLE_MAX=${IDLE_MAX:-60}
RESULTS=${RESULTS:-$ROOT/bench/results}
ONLY=${ONLY:-P1 P2 P3 P4 P7 P9}
MIN5=$(( REPS < 5 ? 5 : REPS )) # P2 and P3: at least 5 interleaved pairs
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
say() { printf '[run %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "$*"; exit 1; }

[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer, not '$REPS'"
for f in $ONLY; do case $f in P1 | P2 | P3 | P4 | P7 | P9) ;; *) die "ONLY: unknown figure $f" ;; esac; done
want() { [[ " $ONLY " == *" $1 "* ]]; }
any() { local f; for f in "$@"; do want "$f" && return 0; done; return 1; }

default_label() { # <cpus>cpu-<short cpu model>-<host name, or the kernel>
  local model host
  model=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  [ -n "$model" ] || model=$(uname -m)
  model=$(sed -E 's/\((R|TM|tm)\)//g; s/@.*//; s/ (CPU|Processor|[0-9]+-Core)( |$)/ /g' <<< "$model")
  host=$(hostname -s 2> /dev/null || cat /proc/sys/kernel/hostname)
  case $host in '' | localhost | localhost.*) host=$(uname -r) ;; esac
  printf '%scpu-%s-%s' "$(nproc)" "$(tr '[:upper:]' '[:lower:]' <<< "$model" | tr -cs 'a-z0-9' '-' | sed 's/^-//; s/-$//' | cut -c1-24 | sed 's/-$//')" "$host"
}
LABEL=$(tr -c 'A-Za-z0-9._\n-' '-' <<< "${LABEL:-$(default_label)}")

mkdir -p "$W/www" "$RESULTS"
OUT=$RESULTS/$LABEL.jsonl RUNF=$W/run-$STAMP.jsonl LOG=$W/coffer-$STAMP.log
DATAROOT=$(mktemp -d "$W/data-$STAMP.XXXXXX") TMP=$(mktemp -d "$W/tmp-$STAMP.XXXXXX")
WWW=$W/www BIG=$W/www/big.bin

# --- processes: every one is stopped by PID at exit
CPID= FSPID= CHILD=
alive() { # PID: running and not a zombie
  local s; s=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2> /dev/null) || return 1
  [ -n "$s" ] && [ "$s" != Z ]
}
stop_pid() { # PID: SIGTERM, up to 30 s, then SIGKILL
  local p=$1
  [ -n "$p" ] || return 0
  if alive "$p"; then
    kill -TERM "$p" 2> /dev/null || true
    for _ in $(seq 300); do alive "$p" || break; sleep 0.1; done
    alive "$p" && kill -KILL "$p" 2> /dev/null
  fi
  wait "$p" 2> /dev/null || true
}
cleanup() {
  trap - INT TERM
  stop_pid "$CHILD"; stop_pid "$CPID"; stop_pid "$FSPID"
  rm -rf "$TMP"
  if [ "${KEEP:-}" = 1 ]; then say "kept $DATAROOT"; else rm -rf "$DATAROOT"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# child CMD...: runs CMD in the background and waits for it, so that a signal to this script is
# handled at once (a foreground command would delay the trap until it ends) and CMD is stopped.
child() { "$@" & CHILD=$!; local rc=0; wait "$CHILD" || rc=$?; CHILD=; return "$rc"; }

# --- build or take the binaries
if [ -n "${COFFER:-}" ]; then
  [ -x "$COFFER" ] || die "COFFER=$COFFER is not an executable"
  COFFER_BIN=$(cd "$(dirname "$COFFER")" && pwd)/$(basename "$COFFER")
  COMMIT=${COMMIT:-"binary:$(sha256sum < "$COFFER_BIN" | cut -c1-12)"}
else
  say "building coffer into $W"
  (cd "$ROOT" && go build -o "$W/coffer" ./cmd/coffer)
  COFFER_BIN=$W/coffer
  # -dirty: changes to the tree being measured; the results this script appends are not such
  COMMIT=$(git -C "$ROOT" describe --always 2> /dev/null || echo unknown)
  [ -z "$(git -C "$ROOT" status --porcelain -- . ':!bench/results' 2> /dev/null)" ] || COMMIT+=-dirty
fi
(cd "$ROOT" && go build -o "$W/cofferbench" ./bench/go/cofferbench)
(cd "$W" && go build -o "$W/fileserver" "$SHARED/go/fileserver/main.go" && go build -o "$W/hashall" "$SHARED/go/hashall/main.go")
CB=$W/cofferbench
if any P1 P2 && ! command -v wrk > /dev/null; then
  say "installing wrk"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk > /dev/null
fi
SERVE_EXTRA=()
HELP=$("$COFFER_BIN" serve -h 2>&1 || true) # an older binary may lack the flag
[[ $HELP == *-api-rate-limits* ]] && SERVE_EXTRA=(--api-rate-limits off)

# --- measurement helpers (as core.sh)
kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; } # PID FIELD (VmRSS, VmHWM)
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # PID: user+sys CPU, clock ticks
HZ=$(getconf CLK_TCK)
reset_hwm() { echo 5 > "/proc/$1/clear_refs"; } # VmHWM := VmRSS (Linux ≥ 4.0)
# rss_parts: coffer's resident memory now, split: "anon MiB" (heap, stacks: the process's own) and
# "file MiB" (the mapped pages of the coffer binary the process has touched, shared with the page cache)
rss_parts() { RSSP=("anon MiB" "$(mib "$(kib "$CPID" RssAnon)")" "file MiB" "$(mib "$(kib "$CPID" RssFile)")"); }
wait_idle() { # until the CPUs are < 10% busy for a second (up to IDLE_MAX s)
  local a b i idle all
  for _ in $(seq "$IDLE_MAX"); do
    read -ra a < /proc/stat; sleep 1; read -ra b < /proc/stat
    idle=$(( b[4] + b[5] - a[4] - a[5] )) all=0
    for i in 1 2 3 4 5 6 7 8; do all=$(( all + b[i] - a[i] )); done
    (( (all - idle) * 10 < all )) && return
  done
  say "CPUs still busy after $IDLE_MAX s; measuring anyway"
}
# The share of the CPUs that other processes (not this script, its children, coffer or the file
# server) took during a timed step: "other CPU %" in the JSON lines, to tell a disturbed run.
busy_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat; }
own_ticks() {
  local t p
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$$/stat")
  for p in $CPID $FSPID; do t=$(( t + $(ticks "$p" 2> /dev/null || echo 0) )); done
  echo "$t"
}
noise_start() { N0=$(date +%s%N) B0=$(busy_ticks) O0=$(own_ticks); }
noise() { # prints the other CPU % since noise_start
  local b o n; b=$(busy_ticks) o=$(own_ticks) n=$(date +%s%N)
  awk -v d=$(( (b - B0) - (o - O0) )) -v w=$(( n - N0 )) -v hz="$HZ" -v c="$(nproc)" \
    'BEGIN {x = 100 * d / (w / 1e9 * hz * c); printf "%.1f", x < 0 ? 0 : x}'
}

export RUN_ID=$STAMP LABEL COMMIT
# emit FIGURE TEST SERVER REP [KEY VALUE]...: one JSON line into $RUNF and $OUT. A VALUE is
# taken as JSON if it parses (numbers, true, null), else as a string; KEY "+" merges a JSON object
# (a wrk or tool line; its own "test" becomes "_what" when it differs from TEST).
emit() {
  python3 - "$@" << 'EOF' | tee -a "$RUNF" "$OUT" >&2
import datetime, json, os, sys
fig, test, server, rep, *kv = sys.argv[1:]
line = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "run": os.environ["RUN_ID"], "machine": os.environ["LABEL"], "commit": os.environ["COMMIT"],
        "figure": fig, "test": test, "server": server, "rep": int(rep)}
for k, v in zip(kv[::2], kv[1::2]):
    if k == "+":
        m = json.loads(v.removeprefix("JSON ").strip())
        t = m.pop("test", None)
        m.pop("_s", None)  # cofferbench's table section
        if t is not None and t != test:
            line["_what"] = t
        line.update(m)
        continue
    try:
        line[k] = json.loads(v)
    except ValueError:
        line[k] = v
print(json.dumps(line, ensure_ascii=False))
EOF
}
tag() { printf 'coffer-bench rep %05d\n' "$1" | dd of="$BIG" conv=notrunc status=none; } # unique content per publish

PORT=$("$CB" freeport)
URL=http://127.0.0.1:$PORT
start_coffer() { # DATA_DIR: starts coffer (CPID), STARTUP_MS = process start -> /readyz 200
  local t0; t0=$(date +%s%N)
  "$COFFER_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$1" --log-level warn "${SERVE_EXTRA[@]}" >> "$LOG" 2>&1 &
  CPID=$!
  STARTUP_MS=$("$CB" waitready -url "$URL/readyz" -t0 "$t0" -timeout 120s)
}

say "run $STAMP: machine $LABEL, commit $COMMIT, REPS=$REPS DURATION=$DUR MIB=$MIB VERSIONS=$VERSIONS ONLY=\"$ONLY\""
emit run parameters - 0 REPS "$REPS" DURATION "$DUR" MIB "$MIB" VERSIONS "$VERSIONS" ONLY "$ONLY" \
  cpus "$(nproc)" "cpu model" "$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
  kernel "$(uname -r)" go "$(go version | awk '{print $3}')" "load average" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "coffer flags" "--log-level warn ${SERVE_EXTRA[*]}"

# --- 1. P7 start-up and idle RSS on fresh data dirs; the last instance stays up
n=1; want P7 && n=$REPS
for i in $(seq "$n"); do
  [ -z "$CPID" ] || { stop_pid "$CPID"; rm -rf "$DATA"; }
  DATA=$DATAROOT/data-$i
  wait_idle
  start_coffer "$DATA"
  sleep 1
  if want P7; then
    emit P7 "start-up to /readyz 200, empty data dir" coffer "$i" ms "$STARTUP_MS"
    rss_parts
    emit P7 "idle RSS 1 s after start-up, empty data dir" coffer "$i" MiB "$(mib "$(kib "$CPID" VmRSS)")" "${RSSP[@]}"
  fi
done
say "coffer pid $CPID on $URL, data $DATA"
CA=(-endpoint "$URL" -creds "$DATA/root-credentials")

# --- 2. set-up: domain bench, repository bench (generic), repository npm; P9 from fixtures.py
FS=
if any P1 P2 P9; then
  "$CB" setup "${CA[@]}"
  read -r EP TOKEN <<< "$("$CB" npmsetup "${CA[@]}")"
  say "npm endpoint $EP; fixtures.py --versions $VERSIONS"
  child python3 "$SHARED/fixtures.py" "$EP" "$TOKEN" --versions "$VERSIONS" --json "$TMP/fixtures.json" > "$TMP/fixtures.out"
  FX=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$TMP/fixtures.json")
  if want P9; then
    emit P9 "fixtures.py summary" coffer 1 + "$FX"
    fx() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], "null"))' "$FX" "$1"; }
    emit P9 "npm publish of bench-big, mean latency of the first 100 versions" coffer 1 ms "$(fx big_first100_ms)"
    emit P9 "npm publish of bench-big, mean latency of the last 100 versions" coffer 1 ms "$(fx big_last100_ms)" versions "$(fx big_versions)"
  fi
fi

# --- 3. static baselines: the same bytes as coffer sends, from the Go FileServer
if any P1 P2 P3; then
  AUTH="Authorization: Bearer ${TOKEN:-}" GZ='Accept-Encoding: gzip'
  FULL='Accept: application/json' ABBR='Accept: application/vnd.npm.install-v1+json'
  if any P1 P2; then
    for k in full abbr; do
      if [ $k = full ]; then h=$FULL; else h=$ABBR; fi
      curl --noproxy '*' -fsS -D "$TMP/$k.headers" -H "$AUTH" -H "$h" -H "$GZ" -o "$WWW/packument-$k.gz" "${EP}bench-big"
    done
    gzipped=false; grep -qi '^content-encoding: *gzip' "$TMP/full.headers" && grep -qi '^content-encoding: *gzip' "$TMP/abbr.headers" && gzipped=true
    [ $gzipped = true ] || say "coffer did not answer the packuments with Content-Encoding: gzip"
    TARBALL=$(curl --noproxy '*' -fsS -H "$AUTH" -H "$FULL" "${EP}bench-small" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["versions"]["1.0.0"]["dist"]["tarball"])')
    curl --noproxy '*' -fsS -H "$AUTH" -o "$WWW/bench-small-1.0.0.tgz" "$TARBALL"
    want P1 && emit P1 "bytes on the wire" coffer 1 "full gzip bytes" "$(stat -c %s "$WWW/packument-full.gz")" \
      "abbreviated gzip bytes" "$(stat -c %s "$WWW/packument-abbr.gz")" "Content-Encoding gzip" "$gzipped"
  fi
  FSPORT=$("$CB" freeport)
  FS=http://127.0.0.1:$FSPORT
  "$W/fileserver" "127.0.0.1:$FSPORT" "$WWW" >> "$LOG" 2>&1 &
  FSPID=$!
  "$CB" waitready -url "$FS/" -timeout 30s > /dev/null
fi

wrk_run() { # FIGURE TEST SERVER REP CONNS TIMEOUT URL [wrk args...]: every request with the token
  local o w="coffer, Bearer token"; wait_idle; noise_start
  TEST=$2 CONNS=$5 child wrk -t2 -c"$5" -d"$DUR" --timeout "$6" -s "$SHARED/report.lua" -H "$AUTH" "${@:8}" "$7" > "$TMP/wrk.out"
  o=$(noise)
  [ "$3" = baseline ] && w="Go FileServer, same bytes (no Content-Encoding)"
  emit "$1" "$2" "$3" "$4" + "$(grep -m1 '^JSON' "$TMP/wrk.out")" "other CPU %" "$o" _what "$w"
}
order() { if (( $1 % 2 )); then echo coffer baseline; else echo baseline coffer; fi; } # REP

# --- 4. P1 packuments (+ P7 peak RSS under this load)
if want P1; then
  for k in full abbr; do # one checked request of each kind first, which also warms up
    if [ $k = full ]; then h=$FULL; else h=$ABBR; fi
    curl --noproxy '*' -fsS -o /dev/null -H "$AUTH" -H "$h" -H "$GZ" "${EP}bench-big"
    curl --noproxy '*' -fsS -o /dev/null "$FS/packument-$k.gz"
  done
  before=$(kib "$CPID" VmRSS); reset_hwm "$CPID"
  for i in $(seq "$REPS"); do
    for k in full abbr; do
      if [ $k = full ]; then h=$FULL t="packument full (gzip), 10 conn"; else h=$ABBR t="packument abbreviated (gzip), 10 conn"; fi
      for s in $(order "$i"); do
        if [ "$s" = coffer ]; then u=${EP}bench-big; else u=$FS/packument-$k.gz; fi
        wrk_run P1 "$t" "$s" "$i" 10 60s "$u" -H "$h" -H "$GZ"
      done
    done
  done
  rss_parts
  want P7 && emit P7 "peak RSS (VmHWM) under the P1 load" coffer 1 MiB "$(mib "$(kib "$CPID" VmHWM)")" "RSS before MiB" "$(mib "$before")" "${RSSP[@]}"
fi

# --- 5. P2 10 KB tarball with token auth, 64 conn
if want P2; then
  curl --noproxy '*' -fsS -o /dev/null -H "$AUTH" "$TARBALL"; curl --noproxy '*' -fsS -o /dev/null "$FS/bench-small-1.0.0.tgz"
  for i in $(seq "$MIN5"); do
    for s in $(order "$i"); do
      if [ "$s" = coffer ]; then u=$TARBALL; else u=$FS/bench-small-1.0.0.tgz; fi
      wrk_run P2 "tarball 10 KB, 64 conn" "$s" "$i" 64 10s "$u"
    done
  done
fi

# --- 6. P4 1 GiB generic publish next to hashall -parallel of the same file, interleaved
if any P3 P4; then
  [ "$(stat -c %s "$BIG" 2> /dev/null)" = $((MIB << 20)) ] || { say "making $BIG ($MIB MiB random)"; head -c "${MIB}M" /dev/urandom > "$BIG"; }
  SIZE=$(stat -c %s "$BIG")
  "$CB" setup "${CA[@]}"
  cat "$BIG" > /dev/null # in the page cache: we measure CPU and memory, not the disk read
fi
T4="$MIB MiB generic publish (4 hashes, SHA-256 verified, durable)"
if want P4; then
  for i in $(seq "$REPS"); do
    tag "$i"; sync; wait_idle
    before=$(kib "$CPID" VmRSS); reset_hwm "$CPID"; t0=$(ticks "$CPID")
    noise_start
    child "$CB" publish "${CA[@]}" -file "$BIG" -version "1.0.$((i - 1))" -test "$T4" > "$TMP/publish.out"
    o=$(noise) hwm=$(kib "$CPID" VmHWM)
    emit P4 "$T4" coffer "$i" + "$(cat "$TMP/publish.out")" "RSS growth MiB" "$(mib $((hwm - before)))" \
      "RSS before MiB" "$(mib "$before")" "CPU s" "$(awk -v t=$(( $(ticks "$CPID") - t0 )) -v hz="$HZ" 'BEGIN {printf "%.2f", t / hz}')" \
      "other CPU %" "$o" _what "PublishPackageVersion, Go SDK, streamed"
    wait_idle; noise_start
    child "$W/hashall" -parallel "$BIG" > "$TMP/hashall.out"
    emit P4 "$T4" baseline "$i" + "$(cat "$TMP/hashall.out")" "other CPU %" "$(noise)"
  done
fi

# --- 7. P3 1 GiB download of 1.0.0 (presigned URL) next to the Go FileServer, interleaved
if want P3; then
  tag 1 # big.bin is now byte-for-byte the asset of 1.0.0 (published by P4, or here)
  if ! want P4; then child "$CB" publish "${CA[@]}" -file "$BIG" -version 1.0.0 > /dev/null; fi
  GET=$("$CB" presign "${CA[@]}" -version 1.0.0)
  find "$DATA" -type f -exec cat {} + > /dev/null 2>&1 || true # the blobs in the page cache too
  sum_want=$(sha256sum < "$BIG"); sum_got=$(curl --noproxy '*' -fsS "$GET" | sha256sum)
  [ "$sum_want" = "$sum_got" ] || die "the downloaded asset differs from the file ($sum_got vs $sum_want)"
  curl --noproxy '*' -fsS -o /dev/null "$FS/big.bin"
  before=$(kib "$CPID" VmRSS); reset_hwm "$CPID"
  for i in $(seq "$MIN5"); do
    wait_idle
    for s in $(order "$i"); do
      if [ "$s" = coffer ]; then u=$GET w="GetPackageVersionAsset, presigned URL"; else u=$FS/big.bin w="Go FileServer, same file"; fi
      noise_start
      child curl --noproxy '*' -fsS -o /dev/null -w '%{size_download} %{time_total}\n' "$u" > "$TMP/curl.out"
      o=$(noise); read -r got secs < "$TMP/curl.out"
      [ "$got" = "$SIZE" ] || die "P3 $s: downloaded $got bytes, want $SIZE"
      emit P3 "$MIB MiB download, curl -o /dev/null" "$s" "$i" MB/s "$(awk -v n="$got" -v t="$secs" 'BEGIN {printf "%.1f", n / t / 1e6}')" \
        s "$secs" "other CPU %" "$o" _what "$w"
    done
  done
  emit P3 "RSS growth over all downloads (VmHWM − VmRSS before)" coffer 1 MiB "$(mib $(( $(kib "$CPID" VmHWM) - before )))"
fi

# --- 8. idle RSS at the end
if want P7; then
  wait_idle
  rss_parts
  emit P7 "idle RSS at the end of the run" coffer 1 MiB "$(mib "$(kib "$CPID" VmRSS)")" "${RSSP[@]}"
fi

# --- summary lines (one per figure, P1 one per test) and the table
python3 - "$RUNF" "$TMP/summary.jsonl" << 'EOF' | tee "$W/run-$STAMP.md"
import datetime, json, os, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
out = open(sys.argv[2], "w")
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
head = {"date": now, "run": os.environ["RUN_ID"], "machine": os.environ["LABEL"], "commit": os.environ["COMMIT"]}
r3 = lambda x: None if x is None else round(x, 3)
fmt = lambda x: "–" if x is None else f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"
def stats(v):
    v = sorted(x for x in v if x is not None)
    return (round(statistics.median(v), 3), v[0], v[-1]) if v else (None, None, None)
def cell(v):
    m, lo, hi = stats(v)
    return fmt(m) + (f" [{fmt(lo)}–{fmt(hi)}]" if m is not None and lo != hi else "")
def sel(fig, test=None, server="coffer"):
    return [l for l in lines if l["figure"] == fig and (test is None or l["test"] == test) and l["server"] == server]
rows = []
def summary(fig, of, unit, target, met, **kv):
    d = dict(head, figure=fig, test="summary", of=of, unit=unit, target=target, met=met, **kv)
    out.write(json.dumps(d, ensure_ascii=False) + "\n")
def paired(fig, test, key, target_ratio, target, unit):
    c, b = sel(fig, test), sel(fig, test, "baseline")
    if not c or not b:
        return
    cb = {l["rep"]: l[key] for l in c}
    ratios = [cb[l["rep"]] / l[key] for l in b if l["rep"] in cb and l[key]]
    (cm, clo, chi), (bm, blo, bhi), (rm, rlo, rhi) = stats(l[key] for l in c), stats(l[key] for l in b), stats(ratios)
    errs = sum(l.get("errors", 0) for l in c)
    extra = {"coffer errors": errs} if "errors" in c[0] else {}
    if fig == "P4":
        g = [l["RSS growth MiB"] for l in c]
        extra = {"RSS growth MiB": stats(g)[0], "RSS growth MiB max": max(g),
                 "CPU s": stats(l["CPU s"] for l in c)[0]}
    met = rm is not None and rm >= target_ratio and (fig != "P4" or extra["RSS growth MiB max"] <= 32)
    summary(fig, test, unit, target, met, coffer=cm, baseline=bm, ratio=r3(rm),
            **{"coffer min": clo, "coffer max": chi, "baseline min": blo, "baseline max": bhi,
               "ratio min": r3(rlo), "ratio max": r3(rhi), "pairs": len(ratios)}, **extra)
    rows.append((fig, f"{test}, {unit}", cell(l[key] for l in c), cell(l[key] for l in b),
                 cell(ratios) if len(ratios) > 1 else fmt(rm), target, met))
    if errs:
        rows.append((fig, f"{test}: coffer errors (non-2xx, timeouts)", str(errs), "", "", "0", False))
    if fig == "P4":
        rows.append((fig, "publish: RSS growth MiB", cell(g), "", "", "≤ 32 MiB", max(g) <= 32))
        rows.append((fig, "publish: coffer CPU s", cell(l["CPU s"] for l in c), "", "", "", None))
for test in dict.fromkeys(l["test"] for l in sel("P1") if l["test"] != "bytes on the wire"):
    paired("P1", test, "req/s", 0.80, "≥ 0.80 × static server, same gzip bytes", "req/s")
paired("P2", "tarball 10 KB, 64 conn", "req/s", 0.90, "≥ 0.90 × Go FileServer (median of ≥ 5 interleaved)", "req/s")
for t in dict.fromkeys(l["test"] for l in sel("P4")):
    paired("P4", t, "MB/s", 0.80, "≥ 0.80 × hashall -parallel; RSS growth ≤ 32 MiB", "MB/s")
for t in dict.fromkeys(l["test"] for l in sel("P3") if l["test"].endswith("/dev/null")):
    paired("P3", t, "MB/s", 0.90, "≥ 0.90 × Go FileServer (≥ 5 interleaved)", "MB/s")
p7 = {t: [l.get("MiB", l.get("ms")) for l in sel("P7", t)] for t in dict.fromkeys(l["test"] for l in sel("P7"))}
if p7:
    su = p7.get("start-up to /readyz 200, empty data dir", [])
    idle = p7.get("idle RSS 1 s after start-up, empty data dir", [])
    peak = p7.get("peak RSS (VmHWM) under the P1 load", [None])[0]
    end = p7.get("idle RSS at the end of the run", [None])[0]
    ms_, irss = stats(su)[0], stats(idle)[0]
    met = {"start-up": ms_ is not None and ms_ <= 100, "idle": irss is not None and irss <= 25,
           "peak": None if peak is None else peak <= 64}
    summary("P7", "start-up, idle RSS, peak RSS under the P1 load", "ms, MiB",
            "start-up ≤ 100 ms; idle RSS ≤ 25 MiB; peak RSS under P1 ≤ 64 MiB",
            all(v is not False for v in met.values()),
            **{"start-up ms": ms_, "start-up ms min": stats(su)[1], "start-up ms max": stats(su)[2],
               "idle RSS MiB": irss, "idle RSS MiB min": stats(idle)[1], "idle RSS MiB max": stats(idle)[2],
               "peak RSS MiB": peak, "idle RSS end MiB": end})
    rows += [("P7", "start-up to /readyz 200, ms", cell(su), "", "", "≤ 100 ms", met["start-up"]),
             ("P7", "idle RSS after start-up, MiB", cell(idle), "", "", "≤ 25 MiB", met["idle"]),
             ("P7", "peak RSS under the P1 load, MiB" + (" (not measured: needs P1)" if peak is None else ""), fmt(peak), "", "", "≤ 64 MiB", met["peak"]),
             ("P7", "idle RSS at the end, MiB", fmt(end), "", "", "", None)]
first = sel("P9", "npm publish of bench-big, mean latency of the first 100 versions")
last = sel("P9", "npm publish of bench-big, mean latency of the last 100 versions")
if last:
    l = last[0]
    summary("P9", "npm publish latency of the last 100 versions of bench-big", "ms",
            "≤ 20 ms at version 3,800", l["ms"] is not None and l["ms"] <= 20,
            **{"last 100 ms": l["ms"], "first 100 ms": first[0]["ms"] if first else None, "versions": l.get("versions")})
    rows += [("P9", f"npm publish, mean of the last 100 of {l.get('versions')} versions, ms", fmt(l["ms"]), "", "", "≤ 20 ms at 3,800", l["ms"] is not None and l["ms"] <= 20),
             ("P9", "npm publish, mean of the first 100 versions, ms", fmt(first[0]["ms"]) if first else "–", "", "", "", None)]
out.close()
p = lines[0]
print(f"\n## coffer bench/run.sh {os.environ['RUN_ID']} — {os.environ['LABEL']}, {os.environ['COMMIT']}\n")
print(f"REPS={p['REPS']} DURATION={p['DURATION']} MIB={p['MIB']} VERSIONS={p['VERSIONS']} ONLY=\"{p['ONLY']}\"; "
      "median [min–max]; ratio = median of the per-repetition coffer/baseline ratios\n")
print("| figure | test | coffer | baseline | ratio | target | met |\n|---|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r[:6]) + " | " + {True: "yes", False: "**no**", None: ""}[r[6]] + " |")
EOF
tee -a "$RUNF" "$OUT" < "$TMP/summary.jsonl" > /dev/null
say "lines: $OUT (this run also in $RUNF), table: $W/run-$STAMP.md, coffer log: $LOG"
