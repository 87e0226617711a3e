#!/usr/bin/env bash
# Scale-out benchmark: the same load on three deployments, in one run on this machine:
#   A  one node, embedded SQLite + files (the default)
#   B  one node, PostgreSQL + S3 (versitygw, POSIX backend, on this machine's disk)
#   C  three nodes on PostgreSQL + S3 behind nginx (round-robin, the README's configuration)
# For each: the npm fixtures of ../shared/bench (bench-big: 3,800 versions, ~20 MB packument;
# bench-small: a 10 KB tarball) published through coffer; the loads of ../shared/bench/load.sh
# (full and abbreviated packument, gzip, 10 conn; cached 10 KB tarball, 64 conn; plus the tarball
# on 1 connection for latency) with bench/go/httpload; a 1 GiB generic publish
# with the Go SDK (cofferbench publish, streamed); and, on B and C, the PostgreSQL transactions
# per cached GET (the coherence check: pg_stat_database before and after a counted run).
# usage: bench/cluster.sh [REPS=3] [DURATION=15s]      VERSIONS=3800 MIB=1024 WORK=DIR ONLY="A B C"
set -euo pipefail
REPS=${1:-3} DUR=${2:-15s} VERSIONS=${VERSIONS:-3800} MIB=${MIB:-1024}
B=$(cd "$(dirname "$0")" && pwd) ROOT=$(cd "$(dirname "$0")/.." && pwd) S=$(cd "${SHARED:-$(dirname "$0")/../../shared/bench}" && pwd)
W=${WORK:-$(mktemp -d)}; mkdir -p "$W"
command -v nginx > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light > /dev/null; }
(cd "$ROOT" && go build -o "$W/coffer" ./cmd/coffer && go build -o "$W/cofferbench" ./bench/go/cofferbench &&
  go build -o "$W/httpload" ./bench/go/httpload)
CB=$W/cofferbench
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  [ -f "$W/nginx/nginx.pid" ] && kill "$(cat "$W/nginx/nginx.pid")" 2> /dev/null || true
  "$ROOT/scripts/postgres.sh" stop "$W/pg" > /dev/null 2>&1 || true
  "$ROOT/scripts/s3server.sh" stop "$W/s3" > /dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== servers"
chmod 755 "$W" # PostgreSQL runs as its own user when we are root
for server in postgres:pg s3server:s3; do
  vars=$("$ROOT/scripts/${server%:*}.sh" start "$W/${server#*:}")
  while IFS= read -r line; do declare "$line"; done <<< "$vars"
done
# The S3 key pair goes to the nodes only: the aws CLI uses coffer's root credentials.
S3_ENV=(AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true)
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export COFFER_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
PGURL=$COFFER_TEST_POSTGRES
psql_() { psql "$PGURL" -XAtq -c "$1"; }

BIG=$W/big.bin
[ "$(stat -c %s "$BIG" 2> /dev/null || echo 0)" = $((MIB << 20)) ] || head -c $((MIB << 20)) /dev/urandom > "$BIG"

start_node() { # NAME PORT PUBLIC_URL [storage flags...]
  local name=$1 port=$2 public=$3; shift 3
  env "${S3_ENV[@]}" "$W/coffer" serve --listen 127.0.0.1:$port --public-url "$public" --data-dir "$W/$name" --log-level warn "$@" > "$W/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 300); do curl -fs -o /dev/null http://127.0.0.1:$port/readyz && return; sleep 0.1; done
  echo "$name did not start" >&2; cat "$W/$name.log" >&2; exit 1
}
start_nginx() { # PORT UPSTREAM_PORTS...
  local port=$1; shift
  mkdir -p "$W/nginx"
  { echo "worker_processes 2; error_log $W/nginx/error.log warn; pid $W/nginx/nginx.pid;"
    [ "$(id -u)" = 0 ] && echo "user root;"
    echo "events { worker_connections 4096; }"
    echo "http { access_log off; client_body_temp_path $W/nginx/body; proxy_temp_path $W/nginx/proxy;"
    echo "  upstream coffer {"; for p in "$@"; do echo "    server 127.0.0.1:$p max_fails=1 fail_timeout=2s;"; done
    echo "    keepalive 64; }"
    echo "  server { listen 127.0.0.1:$port; client_max_body_size 0; proxy_request_buffering off; proxy_buffering off;"
    echo "    proxy_http_version 1.1; proxy_read_timeout 600s; proxy_send_timeout 600s;"
    echo "    location / { proxy_pass http://coffer; proxy_set_header Host \$http_host; proxy_set_header Connection \"\"; } } }"
  } > "$W/nginx/nginx.conf"
  nginx -p "$W/nginx" -c "$W/nginx/nginx.conf"
  for _ in $(seq 100); do curl -fs -o /dev/null http://127.0.0.1:$port/readyz && return; sleep 0.1; done
}
pg_xacts() { psql_ "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$1'"; }

run() { # NAME URL CREDS [DB]
  local name=$1 url=$2 creds=$3 db=${4:-}
  echo "== $name"
  export AWS_SHARED_CREDENTIALS_FILE=$creds AWS_PROFILE=coffer AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
  local CA="aws codeartifact --endpoint-url $url"
  $CA create-domain --domain bench > /dev/null 2>&1 || true
  $CA create-repository --domain bench --repository npm > /dev/null 2>&1 || true
  local tok ep
  tok=$($CA get-authorization-token --domain bench --duration-seconds 43200 --query authorizationToken --output text)
  ep=$($CA get-repository-endpoint --domain bench --repository npm --format npm --query repositoryEndpoint --output text)
  python3 "$S/fixtures.py" "$ep" "$tok" --versions "$VERSIONS" | sed "s/^/$name fixtures: /"
  local tarball
  tarball=$(curl -fsS -H "Authorization: Bearer $tok" "${ep}bench-small" | python3 -c 'import json,sys; print(json.load(sys.stdin)["versions"]["1.0.0"]["dist"]["tarball"])')
  curl -fsS -o /dev/null -H "Authorization: Bearer $tok" "$tarball" # checked once (fails loudly)
  for _ in $(seq "$REPS"); do # the loads of ../shared/bench/load.sh, with httpload (no wait for an idle machine)
    "$W/httpload" -c 10 -d "$DUR" -H "Authorization: Bearer $tok" -H 'Accept: application/json' -H 'Accept-Encoding: gzip' \
      -test "$name: packument full (gzip), 10 conn" "${ep}bench-big"
    "$W/httpload" -c 10 -d "$DUR" -H "Authorization: Bearer $tok" -H 'Accept: application/vnd.npm.install-v1+json' -H 'Accept-Encoding: gzip' \
      -test "$name: packument abbreviated (gzip), 10 conn" "${ep}bench-big"
    "$W/httpload" -c 64 -d "$DUR" -H "Authorization: Bearer $tok" -test "$name: tarball 10 KB, 64 conn" "$tarball"
    "$W/httpload" -c 1 -d "$DUR" -H "Authorization: Bearer $tok" -test "$name: tarball 10 KB, 1 conn (latency)" "$tarball"
  done | tee -a "$RESULTS"
  if [ -n "$db" ]; then # PostgreSQL transactions per cached 10 KB GET, over a counted 10 s run
    local x0 x1 line n
    x0=$(pg_xacts "$db")
    line=$("$W/httpload" -c 16 -d 10s -warmup 0s -H "Authorization: Bearer $tok" -test "$name tarball, 16 conn, counted" "$tarball")
    x1=$(pg_xacts "$db")
    n=$(echo "$line" | sed 's/.*"_requests":\([0-9]*\).*/\1/')
    echo "$name $line"
    echo "$name coherence: $(( x1 - x0 )) PostgreSQL transactions for $n cached GETs: $(awk -v x=$(( x1 - x0 )) -v n="$n" 'BEGIN {printf "%.2f", x / n}') per GET"
  fi
  "$CB" setup -endpoint "$url" -creds "$creds" > /dev/null
  for i in $(seq "$REPS"); do
    printf 'cluster-bench %s rep %05d\n' "$name" "$i" | dd of="$BIG" conv=notrunc status=none
    "$CB" publish -endpoint "$url" -creds "$creds" -file "$BIG" -version "$name.$i" -test "$name: publish $MIB MiB generic (SDK, streamed)" | tee -a "$RESULTS"
  done
}

RESULTS=$W/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl
ONLY=${ONLY:-A B C}
if [[ $ONLY == *A* ]]; then
  start_node A 18931 http://127.0.0.1:18931
  run A http://127.0.0.1:18931 "$W/A/root-credentials"
fi
if [[ $ONLY == *B* ]]; then
  psql_ "CREATE DATABASE bench_b"
  start_node B 18932 http://127.0.0.1:18932 --metadata "${PGURL%/*}/bench_b?sslmode=disable" --blobs "$(echo "$COFFER_TEST_S3" | sed 's#^s3://\([^/?]*\)[^?]*#s3://\1/bench-b/#')"
  run B http://127.0.0.1:18932 "$W/B/root-credentials" bench_b
fi
if [[ $ONLY == *C* ]]; then
  psql_ "CREATE DATABASE bench_c"
  C_META="${PGURL%/*}/bench_c?sslmode=disable" C_BLOBS=$(echo "$COFFER_TEST_S3" | sed 's#^s3://\([^/?]*\)[^?]*#s3://\1/bench-c/#')
  start_nginx 18940 18941 18942 18943
  for n in 1 2 3; do start_node C$n 1894$n http://127.0.0.1:18940 --metadata "$C_META" --blobs "$C_BLOBS"; done
  creds=$(ls "$W"/C?/root-credentials | head -1)
  run C http://127.0.0.1:18940 "$creds" bench_c
fi

echo "== results (median [min–max] over $REPS runs; raw lines in $RESULTS)"
python3 "$S/table.py" < "$RESULTS"
