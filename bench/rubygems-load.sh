#!/usr/bin/env bash
# RubyGems compact-index load: info/<gem> of a gem with 1,000 pushed versions, served by coffer to
# 64 connections, full hits (200) and revalidations (If-None-Match with its ETag → 304, as Bundler
# revalidates its copy), beside the same bytes from a Go FileServer (the physical reference; it
# sends Last-Modified and no ETag, so its 304 answers If-Modified-Since). The versions are pushed
# through POST api/v1/gems (gem push's request; .gem files built by rubygemstest), 4 at a time.
# The load generator is bench/go/httpload (wrk, oha and hey are not installed here).
# usage: bench/rubygems-load.sh [REPS=3] [DURATION=10s]     (loopback ports 18931, 18932)
set -euo pipefail
REPS=${1:-3} DUR=${2:-10s}
B=$(cd "$(dirname "$0")" && pwd) S=$(cd "$(dirname "$0")/../../shared/bench" && pwd)
W=$(mktemp -d)
(cd "$B/.." && go build -o $W/coffer ./cmd/coffer && go build -o $W/httpload ./bench/go/httpload && go build -o $W/regfx ./bench/go/regfx)
go build -o $W/fileserver "$S/go/fileserver/main.go"
CO=http://127.0.0.1:18931 REF=http://127.0.0.1:18932/
PIDS=()
trap 'kill ${PIDS[@]+"${PIDS[@]}"} 2>/dev/null; rm -rf $W' EXIT
$W/coffer serve --listen 127.0.0.1:18931 --data-dir $W/data --log-level warn > $W/coffer.log 2>&1 & CP=$!; PIDS+=($CP)
for _ in $(seq 100); do curl -fs -o /dev/null $CO/readyz && break; sleep 0.1; done
export AWS_SHARED_CREDENTIALS_FILE=$W/data/root-credentials AWS_PROFILE=coffer AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
CA="aws codeartifact --endpoint-url $CO"
$CA create-domain --domain load > /dev/null
$CA create-repository --domain load --repository gems > /dev/null
TOK=$($CA get-authorization-token --domain load --query authorizationToken --output text)
EP=$($CA get-repository-endpoint --domain load --repository gems --format ruby --query repositoryEndpoint --output text)

$W/regfx gem-versions -name many -versions 1000 -endpoint $EP -token "$TOK"

# info/many as coffer serves it: saved for the FileServer, validators noted.
mkdir -p $W/ref/info
curl -fsS -H "Authorization: $TOK" -D $W/h -o $W/ref/info/many "${EP}info/many"
ETAG=$(grep -i '^etag:' $W/h | cut -d' ' -f2- | tr -d '\r')
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: $TOK" -H "If-None-Match: $ETAG" "${EP}info/many")" = 304 ]
echo "info/many: $(grep -vc '^---' $W/ref/info/many) version lines, $(wc -c < $W/ref/info/many) bytes, ETag $ETAG"
$W/fileserver 127.0.0.1:18932 $W/ref & PIDS+=($!)
sleep 0.3
cmp <(curl -fsS ${REF}info/many) $W/ref/info/many
LM=$(curl -fsS -D - -o /dev/null ${REF}info/many | grep -i '^last-modified:' | cut -d' ' -f2- | tr -d '\r')

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
  load "coffer 200: info/<gem>, 1,000 versions" 200 "${EP}info/many" -H "Authorization: $TOK"
  load "coffer 304 (If-None-Match): info/<gem>, 1,000 versions" 304 "${EP}info/many" -H "Authorization: $TOK" -H "If-None-Match: $ETAG"
  load "FileServer 200: same bytes" 200 "${REF}info/many"
  load "FileServer 304 (If-Modified-Since)" 304 "${REF}info/many" -H "If-Modified-Since: $LM"
done | python3 "$S/table.py"
echo "coffer RSS after the runs: $(grep VmRSS /proc/$CP/status | awk '{print $2/1024 " MiB"}'), peak $(grep VmHWM /proc/$CP/status | awk '{print $2/1024 " MiB"}')"
