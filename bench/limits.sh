#!/usr/bin/env bash
# What the rate limiter costs on the data plane's hot path: a cached 10 KB generic asset GET
# (token auth) with bench/go/httpload, on one coffer started with the defaults (data-plane limits
# off) and one started with per-principal and per-repository limits that the load never reaches
# (--data-plane-rate 1e9 --repository-rate 1e9, so every request takes a token from two buckets).
# The two run interleaved, order alternating. Go benchmarks of the limiter alone:
# `go test ./internal/quota ./internal/server -run x -bench 'Allow|Limits'`.
# usage: bench/limits.sh [REPS=3] [DURATION=10s]       WORK=DIR
set -euo pipefail
REPS=${1:-3} DUR=${2:-10s}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${WORK:-$(mktemp -d)}; mkdir -p "$W"
(cd "$ROOT" && go build -o "$W/coffer" ./cmd/coffer && go build -o "$W/httpload" ./bench/go/httpload)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done; }
trap cleanup EXIT

start() { # NAME PORT [flags...]
  local name=$1 port=$2; shift 2
  rm -rf "$W/$name"
  "$W/coffer" serve --listen 127.0.0.1:$port --data-dir "$W/$name" --log-level warn "$@" > "$W/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 300); do curl -fs -o /dev/null http://127.0.0.1:$port/readyz && break; sleep 0.1; done
  export AWS_SHARED_CREDENTIALS_FILE=$W/$name/root-credentials AWS_PROFILE=coffer AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
  local CA="aws codeartifact --endpoint-url http://127.0.0.1:$port"
  $CA create-domain --domain bench > /dev/null
  $CA create-repository --domain bench --repository gen > /dev/null
  head -c 10240 /dev/urandom > "$W/asset.bin"
  $CA publish-package-version --domain bench --repository gen --format generic --namespace ns --package p \
    --package-version 1.0.0 --asset-content "$W/asset.bin" --asset-name a.bin \
    --asset-sha256 "$(sha256sum "$W/asset.bin" | cut -d' ' -f1)" > /dev/null
  local tok ep
  tok=$($CA get-authorization-token --domain bench --query authorizationToken --output text)
  ep=$($CA get-repository-endpoint --domain bench --repository gen --format generic --query repositoryEndpoint --output text)
  echo "$tok" > "$W/$name.tok"
  echo "${ep}ns/p/1.0.0/a.bin" > "$W/$name.url"
}

start off 18401
start on 18402 --data-plane-rate 1e9 --repository-rate 1e9
for i in $(seq "$REPS"); do
  order="off on"; (( i % 2 == 0 )) && order="on off"
  for name in $order; do
    for c in 64 1; do
      "$W/httpload" -c $c -d "$DUR" -H "Authorization: Bearer $(cat "$W/$name.tok")" \
        -test "limits $name: generic 10 KB GET, $c conn" "$(cat "$W/$name.url")"
    done
  done
done
