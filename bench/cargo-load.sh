#!/usr/bin/env bash
# Cargo sparse-index load: index files served by coffer to 64 connections, full hits (200) and
# revalidations (If-None-Match → 304, what cargo sends for every index file on each resolve),
# beside the same bytes from a Go FileServer (the physical reference; it sends Last-Modified and
# no ETag, so its 304 answers If-Modified-Since, as cargo would ask it). Three index files:
# a crate published to the repository (1 version, 2 dependencies), one with 1,000 published
# versions, and one from public:crates-io (a fixture static sparse index on loopback, cached).
# The load generator is bench/go/httpload (wrk, oha and hey are not installed here).
# usage: bench/cargo-load.sh [REPS=3] [DURATION=10s]     (loopback ports 18921–18923)
set -euo pipefail
REPS=${1:-3} DUR=${2:-10s}
B=$(cd "$(dirname "$0")" && pwd) S=$(cd "$(dirname "$0")/../../shared/bench" && pwd)
W=$(mktemp -d)
(cd "$B/.." && go build -o $W/coffer ./cmd/coffer && go build -o $W/httpload ./bench/go/httpload && go build -o $W/regfx ./bench/go/regfx)
go build -o $W/fileserver "$S/go/fileserver/main.go"
UP=http://127.0.0.1:18921/ CO=http://127.0.0.1:18922 REF=http://127.0.0.1:18923/
$W/regfx cargo-tree -n 100 -prefix up -dir $W/up -dl $UP > /dev/null
PIDS=()
trap 'kill ${PIDS[@]+"${PIDS[@]}"} 2>/dev/null; rm -rf $W' EXIT
$W/fileserver 127.0.0.1:18921 $W/up & PIDS+=($!)
$W/coffer serve --listen 127.0.0.1:18922 --data-dir $W/data --log-level warn \
  --external-connection public:crates-io=$UP > $W/coffer.log 2>&1 & CP=$!; PIDS+=($CP)
for _ in $(seq 100); do curl -fs -o /dev/null $CO/readyz && break; sleep 0.1; done
export AWS_SHARED_CREDENTIALS_FILE=$W/data/root-credentials AWS_PROFILE=coffer AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
CA="aws codeartifact --endpoint-url $CO"
$CA create-domain --domain load > /dev/null
$CA create-repository --domain load --repository store > /dev/null
$CA associate-external-connection --domain load --repository store --external-connection public:crates-io > /dev/null
$CA create-repository --domain load --repository app --upstreams repositoryName=store > /dev/null
TOK=$($CA get-authorization-token --domain load --query authorizationToken --output text)
EP=$($CA get-repository-endpoint --domain load --repository app --format cargo --query repositoryEndpoint --output text)

$W/regfx cargo-tree -n 100 -prefix bt -endpoint $EP -token "$TOK"
$W/regfx cargo-versions -name many -versions 1000 -endpoint $EP -token "$TOK"

# The three index files as coffer serves them: saved for the FileServer, validators noted.
mkdir -p $W/ref
declare -A ETAG LM
for p in bt/00/bt000 ma/ny/many up/00/up000; do
  mkdir -p $W/ref/$(dirname $p)
  curl -fsS -H "Authorization: $TOK" -D $W/h -o $W/ref/$p "$EP$p"
  ETAG[$p]=$(grep -i '^etag:' $W/h | cut -d' ' -f2- | tr -d '\r')
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: $TOK" -H "If-None-Match: ${ETAG[$p]}" "$EP$p")" = 304 ]
  echo "$p: $(wc -l < $W/ref/$p) lines, $(wc -c < $W/ref/$p) bytes, ETag ${ETAG[$p]}"
done
$W/fileserver 127.0.0.1:18923 $W/ref & PIDS+=($!)
sleep 0.3
for p in bt/00/bt000 ma/ny/many up/00/up000; do
  cmp <(curl -fsS $REF$p) $W/ref/$p
  LM[$p]=$(curl -fsS -D - -o /dev/null $REF$p | grep -i '^last-modified:' | cut -d' ' -f2- | tr -d '\r')
done

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
load() { # TEST STATUS URL [httpload args...]
  wait_idle "$1"
  $W/httpload -c 64 -d "$DUR" -test "$1" -status "$2" "${@:4}" "$3"
}
for _ in $(seq "$REPS"); do
  for p in bt/00/bt000 ma/ny/many up/00/up000; do
    case $p in bt/*) what="local crate, 1 version";; ma/*) what="local crate, 1,000 versions";; up/*) what="public:crates-io crate (cached), 1 version";; esac
    load "coffer 200: $what" 200 "$EP$p" -H "Authorization: $TOK"
    load "coffer 304 (If-None-Match): $what" 304 "$EP$p" -H "Authorization: $TOK" -H "If-None-Match: ${ETAG[$p]}"
    [ $p = up/00/up000 ] && continue
    load "FileServer 200: same bytes as $what" 200 "$REF$p"
    load "FileServer 304 (If-Modified-Since): $what" 304 "$REF$p" -H "If-Modified-Since: ${LM[$p]}"
  done
done | python3 "$S/table.py"
echo "coffer RSS after the runs: $(grep VmRSS /proc/$CP/status | awk '{print $2/1024 " MiB"}'), peak $(grep VmHWM /proc/$CP/status | awk '{print $2/1024 " MiB"}')"
