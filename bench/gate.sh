#!/usr/bin/env bash
# What the supply-chain gate costs P1 and P2 (../shared/spec/baselines.md): the big packument
# (bench-big, 3,800 versions; full and abbreviated, gzip, 10 connections) and the 10 KB tarball
# (bench-small, 64 connections), with the shared harness's fixtures (fixtures.py) and its wrk
# invocation (load.sh), on two coffers built from this tree and started side by side:
#   none    no rule, no advisory
#   loaded  1,000 rules set with `coffer rules set` (cooldowns, freezes and severity rules on
#           every scope kind, blocks with version ranges, exemptions; in domain bench and in 8
#           other domains; none withholds a version of bench-big or bench-small) and 200,000
#           synthetic OSV records imported with `coffer osv import` (npm and PyPI, MAL- and
#           GHSA-like, SEMVER and ECOSYSTEM ranges, over 100,000 package names; four name
#           bench-big or bench-small, at versions they do not have)
# The rules and the zip come from TestGateFixtures (internal/app/gate_bench_test.go), the
# generator of the Go benchmark BenchmarkGate. The runs alternate between the two coffers (the
# order alternating per repetition). Prints median [min–max] per test and coffer, and the
# difference of the medians (req/s; p50 and p99 latency).
# usage: bench/gate.sh [REPS=3] [DURATION=20s]
#   env: WORK=DIR (kept; default: a temporary dir, removed at exit)  RULES=1000  RECORDS=200000
#        VERSIONS=3800 (of bench-big)  IDLE_WAIT=10 (seconds to wait, at most, for the CPUs to be
#        < 10% busy before each run; load.sh waits up to 60)  SHARED=../shared/bench
set -euo pipefail
REPS=${1:-3} DUR=${2:-20s}
B=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$B")
S=${SHARED:-$ROOT/../shared/bench}
S=$(cd "$S" && pwd)
RULES=${RULES:-1000} RECORDS=${RECORDS:-200000} VERSIONS=${VERSIONS:-3800} IDLE_WAIT=${IDLE_WAIT:-10}
if [ -n "${WORK:-}" ]; then W=$WORK; mkdir -p "$W"; KEEP=1; else W=$(mktemp -d); KEEP=; fi
say() { printf '[gate %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
command -v wrk > /dev/null ||
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk > /dev/null; }

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2> /dev/null || true; done
  [ -n "$KEEP" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "building coffer and the fixtures ($RULES rules, $RECORDS OSV records) in $W"
(cd "$ROOT" && go build -o "$W/coffer" ./cmd/coffer)
FX=$W/fixtures
(cd "$ROOT" && COFFER_GATE_FIXTURES=$FX COFFER_GATE_DOMAIN=bench COFFER_GATE_REPOS=npm,team-1 \
  COFFER_GATE_NPM=bench-big,bench-small COFFER_GATE_PYPI= COFFER_GATE_RULES=$RULES COFFER_GATE_RECORDS=$RECORDS \
  go test ./internal/app -run '^TestGateFixtures$' -count=1 > "$W/fixtures.log" 2>&1) || { cat "$W/fixtures.log" >&2; exit 1; }
OTHERS=$(cut -d' ' -f2 "$FX/rules.args" | sort -u | grep -vx bench)
say "fixtures: $(wc -l < "$FX/rules.args") rules, osv.zip $(( $(stat -c %s "$FX/osv.zip") / 1000000 )) MB"

freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rss() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# start NAME: a coffer on a fresh data dir with the npm fixtures; sets URL_<NAME>, EP_<NAME>,
# TOK_<NAME>, PID_<NAME>.
start() {
  local name=$1 port data url
  port=$(freeport) data=$W/$name url=http://127.0.0.1:$port
  rm -rf "$data"
  "$W/coffer" serve --listen "127.0.0.1:$port" --data-dir "$data" --log-level warn --api-rate-limits off > "$W/$name.log" 2>&1 &
  PIDS+=($!)
  printf -v "PID_$name" %s $!
  for _ in $(seq 300); do curl -fs -o /dev/null "$url/readyz" && break; sleep 0.1; done
  local -a env=(AWS_SHARED_CREDENTIALS_FILE="$data/root-credentials" AWS_PROFILE=coffer AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null)
  local ca="aws codeartifact --endpoint-url $url"
  env "${env[@]}" $ca create-domain --domain bench > /dev/null
  env "${env[@]}" $ca create-repository --domain bench --repository npm > /dev/null
  local tok ep
  tok=$(env "${env[@]}" $ca get-authorization-token --domain bench --duration-seconds 43200 --query authorizationToken --output text)
  ep=$(env "${env[@]}" $ca get-repository-endpoint --domain bench --repository npm --format npm --query repositoryEndpoint --output text)
  printf -v "URL_$name" %s "$url"; printf -v "EP_$name" %s "$ep"; printf -v "TOK_$name" %s "$tok"
  say "$name: coffer pid $! on $url; publishing the fixtures"
  python3 "$S/fixtures.py" "$ep" "$tok" --versions "$VERSIONS" > "$W/$name-fixtures.txt"
}

# load NAME: the rules and the OSV records into coffer NAME.
load() {
  local name=$1 url data d n v
  v=URL_$name; url=${!v} data=$W/$name
  local -a env=(AWS_SHARED_CREDENTIALS_FILE="$data/root-credentials" AWS_PROFILE=coffer AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null)
  local ca="aws codeartifact --endpoint-url $url"
  env "${env[@]}" $ca create-repository --domain bench --repository team-1 > /dev/null
  for d in $OTHERS; do
    env "${env[@]}" $ca create-domain --domain "$d" > /dev/null
    env "${env[@]}" $ca create-repository --domain "$d" --repository team > /dev/null
  done
  local t0=$SECONDS
  env "${env[@]}" xargs -P 2 -L 1 "$W/coffer" rules set --endpoint-url "$url" < "$FX/rules.args" > /dev/null
  n=0
  for d in bench $OTHERS; do
    n=$(( n + $(env "${env[@]}" "$W/coffer" rules list --endpoint-url "$url" --domain "$d" |
      python3 -c 'import json, sys; print(len(json.load(sys.stdin)["rules"]))') ))
  done
  [ "$n" = "$(wc -l < "$FX/rules.args")" ] || { say "$name: $n rules stored, want $(wc -l < "$FX/rules.args")"; exit 1; }
  say "$name: $n rules set in $(( SECONDS - t0 )) s; importing the OSV records"
  t0=$SECONDS
  env "${env[@]}" "$W/coffer" osv import --endpoint-url "$url" --name bench "$FX/osv.zip" > "$W/$name-osv.json"
  say "$name: OSV import $(( SECONDS - t0 )) s: $(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d = d.get("source", d); print(d["records"], "records,", d["size"], "bytes")' "$W/$name-osv.json")"
}

# check NAME: every version of bench-big is listed and the tarball of bench-small is served.
check() {
  local name=$1 ep tok v w
  v=EP_$name w=TOK_$name; ep=${!v} tok=${!w}
  curl -fsS -H "Authorization: Bearer $tok" -H 'Accept: application/json' "${ep}bench-big" |
    python3 -c 'import json, sys; n = len(json.load(sys.stdin)["versions"]); sys.exit(0 if n == int(sys.argv[1]) else f"bench-big lists {n} versions, want {sys.argv[1]}")' "$VERSIONS"
  TARBALL=$(curl -fsS -H "Authorization: Bearer $tok" -H 'Accept: application/json' "${ep}bench-small" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["versions"]["1.0.0"]["dist"]["tarball"])')
  printf -v "TARBALL_$name" %s "$TARBALL"
  curl -fsS -o /dev/null -H "Authorization: Bearer $tok" "$TARBALL"
}

wait_idle() { # until the CPUs are < 10% busy for a second, IDLE_WAIT seconds at most
  local a b i idle all
  for _ in $(seq "$IDLE_WAIT"); do
    a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
    idle=$(( b[4] + b[5] - a[4] - a[5] )) all=0
    for i in 1 2 3 4 5 6 7 8; do all=$(( all + b[i] - a[i] )); done
    (( (all - idle) * 10 < all )) && return
  done
  return 0 # measuring anyway
}
run() { # NAME TEST CONNECTIONS TIMEOUT URL [-H header ...]: one wrk run, as load.sh makes it
  local name=$1 test=$2 conns=$3 timeout=$4 url=$5 v=TOK_$1
  shift 5
  local tok=${!v}
  wait_idle
  TEST="$test" CONNS=$conns wrk -t2 -c"$conns" -d"$DUR" --timeout "$timeout" -s "$S/report.lua" \
    -H "Authorization: Bearer $tok" "$@" "$url" | grep '^JSON' | sed "s/^JSON {\"test\":\"/{\"_coffer\":\"$name\",\"test\":\"/"
}

start none
start loaded
load loaded
check none
check loaded
say "idle RSS: none $(rss "$PID_none") MiB, loaded $(rss "$PID_loaded") MiB"
FULL='Accept: application/json' ABBR='Accept: application/vnd.npm.install-v1+json' GZ='Accept-Encoding: gzip'
for name in none loaded; do # warm: each kind once
  v=EP_$name w=TOK_$name; ep=${!v} tok=${!w}
  for h in "$FULL" "$ABBR"; do curl -fsS -o /dev/null -H "Authorization: Bearer $tok" -H "$h" -H "$GZ" "${ep}bench-big"; done
done

RAW=$W/results.jsonl
: > "$RAW"
for i in $(seq "$REPS"); do
  order="none loaded"; (( i % 2 == 0 )) && order="loaded none"
  say "repetition $i of $REPS ($order)"
  for t in full abbr tarball; do
    for name in $order; do
      v=EP_$name w=TARBALL_$name; ep=${!v} tb=${!w}
      case $t in
        full) run "$name" "P1 packument full (gzip), 10 conn" 10 60s "${ep}bench-big" -H "$FULL" -H "$GZ" ;;
        abbr) run "$name" "P1 packument abbreviated (gzip), 10 conn" 10 60s "${ep}bench-big" -H "$ABBR" -H "$GZ" ;;
        tarball) run "$name" "P2 tarball 10 KB, 64 conn" 64 10s "$tb" ;;
      esac
    done
  done | tee -a "$RAW" >&2
done
say "peak RSS: none $(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$PID_none/status") MiB, loaded $(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$PID_loaded/status") MiB"

echo "# bench/gate.sh: $REPS × $DUR per test and coffer, $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(date -u +%FT%TZ)"
echo "none: no rule, no advisory; loaded: $(wc -l < "$FX/rules.args") rules, $RECORDS OSV records"
echo
sed 's/{"_coffer":"\([a-z]*\)","test":"\([^"]*\)"/{"test":"\2 — \1"/' "$RAW" | python3 "$S/table.py"
echo
python3 - "$RAW" << 'EOF'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    runs.setdefault(d["test"], {}).setdefault(d["_coffer"], []).append(d)
print("medians, none → loaded (change)\n")
print("| test | req/s | req/s (Little) | p50 ms | p99 ms |")
print("|---|---|---|---|---|")
for test, by in runs.items():
    med = lambda k, c: statistics.median(r[k] for r in by[c]) if by.get(c) else float("nan")
    cells = []
    for k, fmt in (("req/s", ",.0f"), ("req/s (Little)", ",.0f"), ("p50 ms", ".2f"), ("p99 ms", ".2f")):
        a, b = med(k, "none"), med(k, "loaded")
        cells.append(f"{a:{fmt}} → {b:{fmt}} ({100 * (b / a - 1):+.1f}%)" if a else f"{a} → {b}")
    print(f"| {test} | " + " | ".join(cells) + " |")
EOF
