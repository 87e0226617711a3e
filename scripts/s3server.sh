#!/usr/bin/env bash
# A throw-away S3 server for the tests of the S3 blob driver: versitygw with
# its POSIX backend, on loopback, with a fixed test key pair.
#
#   scripts/s3server.sh start DIR   start it with its data, log and pid file
#                                   in DIR; prints the environment the tests
#                                   read (COFFER_TEST_S3, AWS_ACCESS_KEY_ID,
#                                   AWS_SECRET_ACCESS_KEY) as NAME=value lines
#   scripts/s3server.sh stop DIR    stop it
#
# The printed values contain '&': export them line by line rather than
# sourcing them, for example
#
#   env=$(scripts/s3server.sh start "$dir")
#   while IFS= read -r line; do export "$line"; done <<< "$env"
#
# versitygw is built once from the Go module proxy and cached in
# ${COFFER_TOOLS:-$HOME/.cache/coffer-tools}/bin. The bucket is created with
# the aws CLI when it is installed, else as a directory of the POSIX backend
# (which is what a bucket is there).
set -euo pipefail

vgw_version=v1.8.0
bucket=coffer-test
region=us-east-1
access_key=coffertestaccess
secret_key=coffertestsecret0123456789

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}

# versitygw prints the path of a versitygw binary built from $vgw_version,
# building it first if the cache has none.
versitygw() {
  local bin="${COFFER_TOOLS:-$HOME/.cache/coffer-tools}/bin"
  local exe="$bin/versitygw"
  if ! go version -m "$exe" 2> /dev/null | grep -q "mod[[:space:]]*github.com/versity/versitygw[[:space:]]*$vgw_version[[:space:]]"; then
    echo "building versitygw $vgw_version into $bin (takes a few minutes)" >&2
    mkdir -p "$bin"
    GOBIN="$bin" go install "github.com/versity/versitygw/cmd/versitygw@$vgw_version" >&2
  fi
  echo "$exe"
}

# answering PORT succeeds once something speaks HTTP on 127.0.0.1:PORT.
answering() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/" 2> /dev/null) || true
  [[ -n $code && $code != 000 ]]
}

start() {
  local dir=$1 exe port pid
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f $dir/s3server.pid ]] && kill -0 "$(cat "$dir/s3server.pid")" 2> /dev/null; then
    echo "s3server: already running in $dir (pid $(cat "$dir/s3server.pid"))" >&2
    exit 1
  fi
  exe=$(versitygw)
  mkdir -p "$dir/s3data"
  # The port of the last run in DIR first (a restart keeps the address
  # clients were given), else a random port that is free now; if another
  # process takes it before versitygw binds, versitygw exits and the next
  # candidate is tried.
  local last=""
  [[ -f $dir/s3server.port ]] && last=$(cat "$dir/s3server.port")
  for _ in $(seq 1 20); do
    port=${last:-$((20000 + RANDOM % 40000))}
    last=""
    if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
      continue # taken
    fi
    ROOT_ACCESS_KEY="$access_key" ROOT_SECRET_KEY="$secret_key" \
      "$exe" --port "127.0.0.1:$port" --region "$region" --keep-alive --quiet \
      posix "$dir/s3data" > "$dir/s3server.log" 2>&1 < /dev/null &
    pid=$!
    for _ in $(seq 1 100); do
      if answering "$port"; then
        echo "$pid" > "$dir/s3server.pid"
        echo "$port" > "$dir/s3server.port"
        if ! create_bucket "$dir" "$port"; then
          stop "$dir"
          echo "s3server: could not create the bucket $bucket" >&2
          exit 1
        fi
        echo "COFFER_TEST_S3=s3://$bucket?endpoint=http://127.0.0.1:$port&region=$region&path-style=true"
        echo "AWS_ACCESS_KEY_ID=$access_key"
        echo "AWS_SECRET_ACCESS_KEY=$secret_key"
        return
      fi
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.1
    done
    kill "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
  done
  echo "s3server: versitygw did not start; see $dir/s3server.log" >&2
  tail -20 "$dir/s3server.log" >&2 || true
  exit 1
}

# create_bucket creates the bucket unless a run before this one did.
create_bucket() {
  local dir=$1 port=$2
  if [[ -d $dir/s3data/$bucket ]]; then
    return 0
  elif command -v aws > /dev/null; then
    AWS_ACCESS_KEY_ID="$access_key" AWS_SECRET_ACCESS_KEY="$secret_key" AWS_DEFAULT_REGION="$region" \
      AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
      aws --endpoint-url "http://127.0.0.1:$port" s3api create-bucket --bucket "$bucket" > /dev/null
  else
    mkdir -p "$dir/s3data/$bucket"
  fi
}

stop() {
  local dir=$1 pid
  [[ -f $dir/s3server.pid ]] || return 0
  pid=$(cat "$dir/s3server.pid")
  # Only our versitygw: the pid may have been reused since it exited.
  if ps -p "$pid" -o args= 2> /dev/null | grep -q versitygw && kill "$pid" 2> /dev/null; then
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2> /dev/null || true
  fi
  rm -f "$dir/s3server.pid" # the port stays: a restart reuses it
}

[[ $# == 2 ]] || usage
case $1 in
  start) start "$2" ;;
  stop) stop "$2" ;;
  *) usage ;;
esac
