#!/usr/bin/env bash
# Cold cargo fetch + build of an application depending on a tree of 100 small crates (bench/go/regfx
# cargo-tree: crate i depends on 2i+1 and 2i+2, 7 levels), the crates served three ways, crates-io
# replaced by the registry ([source.crates-io] replace-with), a clean CARGO_HOME and target dir each
# time:
#   static        a minimal static sparse registry (config.json without auth-required, the index
#                 files, the .crate files) served by a Go FileServer — the reference;
#   coffer-proxy  coffer's public:crates-io pointing at that static registry, through a repository
#                 `app` whose upstream `store` holds the external connection; coffer is started
#                 on a fresh data dir for each repetition, so every index file and .crate is
#                 fetched from the static registry while cargo waits;
#   coffer-local  the same crates published to coffer (PUT api/v1/crates/new, as cargo publish
#                 sends it) in a repository without upstreams.
# Timed per run: `cargo fetch` (resolution: 100 index files; then 100 .crate downloads),
# `cargo build --offline` (compiling, the same work for the three), and `cargo update` right after
# (resolution again: 100 index-file revalidations, 304 when unchanged). The program's output is
# checked (it prints 100). Order of the variants rotates between repetitions.
# usage: bench/cargo-build.sh [REPS=3]     (loopback ports 18941–18943; ~3–4 minutes at REPS=3)
set -euo pipefail
REPS=${1:-3}
B=$(cd "$(dirname "$0")" && pwd) S=$(cd "$(dirname "$0")/../../shared/bench" && pwd)
W=$(mktemp -d)
(cd "$B/.." && go build -o $W/coffer ./cmd/coffer && go build -o $W/regfx ./bench/go/regfx)
go build -o $W/fileserver "$S/go/fileserver/main.go"
ST=http://127.0.0.1:18941/ LO=http://127.0.0.1:18942 PX=http://127.0.0.1:18943
$W/regfx cargo-tree -n 100 -prefix bt -dir $W/static -dl $ST -app $W/app
PIDS=() PXPID=
trap 'kill ${PIDS[@]+"${PIDS[@]}"} $PXPID 2>/dev/null; rm -rf $W' EXIT
$W/fileserver 127.0.0.1:18941 $W/static & PIDS+=($!)

export AWS_PROFILE=coffer AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
ready() { for _ in $(seq 100); do curl -fs -o /dev/null $1/readyz && return; sleep 0.1; done; return 1; }

# coffer-local: one process for the whole run, the tree published once.
$W/coffer serve --listen 127.0.0.1:18942 --data-dir $W/ldata --log-level warn > $W/coffer-local.log 2>&1 & PIDS+=($!)
ready $LO
CA="aws codeartifact --endpoint-url $LO"
export AWS_SHARED_CREDENTIALS_FILE=$W/ldata/root-credentials
$CA create-domain --domain bench > /dev/null
$CA create-repository --domain bench --repository local > /dev/null
LTOK=$($CA get-authorization-token --domain bench --query authorizationToken --output text)
LEP=$($CA get-repository-endpoint --domain bench --repository local --format cargo --query repositoryEndpoint --output text)
$W/regfx cargo-tree -n 100 -prefix bt -endpoint $LEP -token "$LTOK"

# coffer-proxy: a fresh process and data dir; sets PEP and PTOK.
proxy_up() { # REP
  [ -n "$PXPID" ] && { kill $PXPID; wait $PXPID 2>/dev/null || true; }
  $W/coffer serve --listen 127.0.0.1:18943 --data-dir $W/pdata-$1 --log-level warn \
    --external-connection public:crates-io=$ST > $W/coffer-proxy-$1.log 2>&1 & PXPID=$!
  ready $PX
  local CA="aws codeartifact --endpoint-url $PX"
  export AWS_SHARED_CREDENTIALS_FILE=$W/pdata-$1/root-credentials
  $CA create-domain --domain bench > /dev/null
  $CA create-repository --domain bench --repository store > /dev/null
  $CA associate-external-connection --domain bench --repository store --external-connection public:crates-io > /dev/null
  $CA create-repository --domain bench --repository app --upstreams repositoryName=store > /dev/null
  PTOK=$($CA get-authorization-token --domain bench --query authorizationToken --output text)
  PEP=$($CA get-repository-endpoint --domain bench --repository app --format cargo --query repositoryEndpoint --output text)
}

for v in $(env | grep -o '^CARGO_[A-Z_]*'); do unset $v; done
export CARGO_TERM_COLOR=never CARGO_NET_RETRY=0 CARGO_HTTP_TIMEOUT=30 CARGO_INCREMENTAL=0
now() { date +%s.%N; }
wait_idle() { # until the CPUs are < 10% busy for a second (at most 10 s: the machine is shared)
  local a b
  for _ in $(seq 10); do
    a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
    local idle=$(( b[4] + b[5] - a[4] - a[5] )) all=0 i
    for i in 1 2 3 4 5 6 7 8; do all=$(( all + b[i] - a[i] )); done
    (( (all - idle) * 10 < all )) && return
  done
  echo "note: CPUs still busy after 10 s (load average $(cut -d' ' -f1-3 /proc/loadavg)) before: $1" >&2
}
run() { # VARIANT REP INDEX-URL [TOKEN]
  local d=$W/run-$2-$(echo "$1" | tr -c 'a-z0-9\n' '_' | cut -c1-20)
  mkdir -p $d/home; cp -r $W/app $d/app
  { echo '[source.crates-io]'; echo 'replace-with = "bench"'; echo '[registries.bench]'; echo "index = \"sparse+$3\""
    [ -n "${4:-}" ] && echo 'credential-provider = "cargo:token"'; } > $d/home/config.toml
  local t0 t1 t2 t3
  wait_idle "$1"
  export CARGO_HOME=$d/home CARGO_TARGET_DIR=$d/target CARGO_REGISTRIES_BENCH_TOKEN=${4:-}
  t0=$(now); (cd $d/app && cargo fetch -q) || { echo "$1: cargo fetch failed" >&2; return 1; }
  t1=$(now); (cd $d/app && cargo build -q --offline)
  t2=$(now); (cd $d/app && cargo update -q)
  t3=$(now)
  [ "$(cd $d/app && cargo run -q --offline)" = 100 ]
  [ "$(grep -c '^name = "bt' $d/app/Cargo.lock)" = 100 ]
  local line
  line=$(printf 'JSON {"test":"%s","fetch s":%.2f,"build s":%.2f,"fetch+build s":%.2f,"update s":%.2f}' "$1" \
    $(echo "$t1 - $t0" | bc) $(echo "$t2 - $t1" | bc) $(echo "$t2 - $t0" | bc) $(echo "$t3 - $t2" | bc))
  echo "$line"; echo "$line" >&2
  rm -rf $d
}
variants=(static coffer-proxy coffer-local)
for i in $(seq "$REPS"); do
  for k in 0 1 2; do
    case ${variants[$(( (i + k) % 3 ))]} in
      static) run "static sparse registry (Go FileServer)" $i $ST;;
      coffer-proxy) proxy_up $i; run "coffer, public:crates-io → static registry, cold" $i $PEP "$PTOK";;
      coffer-local) run "coffer, crates published to the repository" $i $LEP "$LTOK";;
    esac
  done
done > $W/results.jsonl   # not a pipeline: proxy_up's PXPID must reach the trap
python3 "$S/table.py" < $W/results.jsonl
echo "static registry: $(find $W/static -type f | wc -l) files, $(du -sb $W/static | cut -f1) bytes"
