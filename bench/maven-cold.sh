#!/usr/bin/env bash
# Cold 100 MiB fetch through coffer's Maven endpoint (upstream = a Go FileServer holding a
# Maven layout, set as public:maven-central) vs directly from that upstream, three artifacts.
# usage: bench/maven-cold.sh     (loopback ports 18901, 18902)
set -euo pipefail
W=$(mktemp -d); mkdir -p $W/central
for v in 1.0 1.1 1.2; do
  d=$W/central/org/acme/big/$v; mkdir -p $d
  head -c 100M /dev/urandom > $d/big-$v.jar
  sha1sum $d/big-$v.jar | cut -d' ' -f1 | tr -d '\n' > $d/big-$v.jar.sha1
done
B=$(cd "$(dirname "$0")" && pwd)
(cd "$B/.." && go build -o $W/coffer ./cmd/coffer)
go build -o $W/fileserver "$B/../../shared/bench/go/fileserver/main.go"
$W/fileserver 127.0.0.1:18901 $W/central & FS=$!
$W/coffer serve --listen 127.0.0.1:18902 --data-dir $W/data --log-level warn \
  --external-connection public:maven-central=http://127.0.0.1:18901/ > $W/coffer.log 2>&1 & CO=$!
trap 'kill $FS $CO; rm -rf $W' EXIT
for _ in $(seq 100); do curl -fs -o /dev/null http://127.0.0.1:18902/readyz && break; sleep 0.1; done
export AWS_SHARED_CREDENTIALS_FILE=$W/data/root-credentials AWS_PROFILE=coffer AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
CA="aws codeartifact --endpoint-url http://127.0.0.1:18902"
$CA create-domain --domain cold > /dev/null
$CA create-repository --domain cold --repository store > /dev/null
$CA associate-external-connection --domain cold --repository store --external-connection public:maven-central > /dev/null
$CA create-repository --domain cold --repository app --upstreams repositoryName=store > /dev/null
TOK=$($CA get-authorization-token --domain cold --query authorizationToken --output text)
EP=$($CA get-repository-endpoint --domain cold --repository app --format maven --query repositoryEndpoint --output text)
cat $W/central/org/acme/big/*/*.jar > /dev/null
for v in 1.0 1.1 1.2; do
  direct=$(curl -fsS -o /dev/null -w '%{speed_download}' http://127.0.0.1:18901/org/acme/big/$v/big-$v.jar)
  cold=$(curl -fsS -o /dev/null -w '%{speed_download}' -u aws:$TOK ${EP}org/acme/big/$v/big-$v.jar)
  warm=$(curl -fsS -o /dev/null -w '%{speed_download}' -u aws:$TOK ${EP}org/acme/big/$v/big-$v.jar)
  echo "$v direct $(awk -v s=$direct 'BEGIN{printf "%.0f", s/1e6}') MB/s  coffer cold $(awk -v s=$cold 'BEGIN{printf "%.0f", s/1e6}') MB/s  coffer warm $(awk -v s=$warm 'BEGIN{printf "%.0f", s/1e6}') MB/s"
done
