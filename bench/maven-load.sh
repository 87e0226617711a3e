#!/usr/bin/env bash
# Maven data-plane load: a cached 10 KB artifact GET with token auth at 64 connections (beside the
# same bytes from a Go FileServer), and maven-metadata.xml of artifacts with 20 and 2,000 locally
# deployed versions at 10 connections (cache hits: the cost must not grow with the versions).
# usage: bench/maven-load.sh [REPS=3] [DURATION=20s]     (loopback ports 18911, 18912)
set -euo pipefail
REPS=${1:-3} DUR=${2:-20s}
B=$(cd "$(dirname "$0")" && pwd) S=$(cd "$(dirname "$0")/../../shared/bench" && pwd)
W=$(mktemp -d); mkdir -p $W/central/org/acme/small/1.0 $W/seed
head -c 10240 /dev/urandom > $W/central/org/acme/small/1.0/small-1.0.jar
sha1sum $W/central/org/acme/small/1.0/small-1.0.jar | cut -d' ' -f1 | tr -d '\n' > $W/central/org/acme/small/1.0/small-1.0.jar.sha1
(cd "$B/.." && go build -o $W/coffer ./cmd/coffer)
go build -o $W/fileserver "$S/go/fileserver/main.go"
$W/fileserver 127.0.0.1:18911 $W/central & FS=$!
$W/coffer serve --listen 127.0.0.1:18912 --data-dir $W/data --log-level warn \
  --external-connection public:maven-central=http://127.0.0.1:18911/ > $W/coffer.log 2>&1 & CO=$!
trap 'kill $FS $CO; rm -rf $W' EXIT
for _ in $(seq 100); do curl -fs -o /dev/null http://127.0.0.1:18912/readyz && break; sleep 0.1; done
export AWS_SHARED_CREDENTIALS_FILE=$W/data/root-credentials AWS_PROFILE=coffer AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
CA="aws codeartifact --endpoint-url http://127.0.0.1:18912"
$CA create-domain --domain load > /dev/null
$CA create-repository --domain load --repository store > /dev/null
$CA associate-external-connection --domain load --repository store --external-connection public:maven-central > /dev/null
$CA create-repository --domain load --repository app --upstreams repositoryName=store > /dev/null
TOK=$($CA get-authorization-token --domain load --query authorizationToken --output text)
EP=$($CA get-repository-endpoint --domain load --repository app --format maven --query repositoryEndpoint --output text)
AUTH="Authorization: Basic $(printf 'aws:%s' "$TOK" | base64 -w0)"

# deploy N versions of org.acme:manyN (a 1 KB jar each), then one maven-metadata.xml naming them all
seed() { # N
  local n=$1 a=many$1 v cfg=$W/seed/$1.cfg
  head -c 1024 /dev/urandom > $W/seed/a.jar
  { echo "user = \"aws:$TOK\""; echo "fail"; echo "silent"; echo "show-error"
    for v in $(seq -f '1.0.%g' 1 "$n"); do
      echo "url = \"${EP}org/acme/$a/$v/$a-$v.jar\""; echo "upload-file = \"$W/seed/a.jar\""; echo "output = /dev/null"
    done; } > $cfg
  curl --no-progress-meter --parallel --parallel-max 8 -K $cfg
  { echo "<metadata><groupId>org.acme</groupId><artifactId>$a</artifactId><versioning>"
    echo "<latest>1.0.$n</latest><release>1.0.$n</release><versions>"
    seq -f '<version>1.0.%g</version>' 1 "$n"; echo "</versions><lastUpdated>20261125000000</lastUpdated></versioning></metadata>"; } > $W/seed/$a.xml
  curl -fsS -u "aws:$TOK" -T $W/seed/$a.xml "${EP}org/acme/$a/maven-metadata.xml"
  [ "$(curl -fsS -u "aws:$TOK" "${EP}org/acme/$a/maven-metadata.xml" | grep -c '<version>')" = "$n" ]
}
t0=$(date +%s.%N); seed 20; seed 2000; t1=$(date +%s.%N)
echo "seeded 2,020 versions (jar PUTs, 8 parallel, + 2 metadata uploads) in $(awk -v a=$t0 -v b=$t1 'BEGIN{printf "%.1f", b-a}') s"

# the cached artifact: one cold read fills the cache, checked byte-for-byte
curl -fsS -H "$AUTH" -o $W/seed/small.jar "${EP}org/acme/small/1.0/small-1.0.jar"
cmp $W/seed/small.jar $W/central/org/acme/small/1.0/small-1.0.jar

wait_idle() { # until the CPUs are < 10% busy for a second
  local a b
  for _ in $(seq 60); do
    a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
    local idle=$(( b[4] + b[5] - a[4] - a[5] )) all=0 i
    for i in 1 2 3 4 5 6 7 8; do all=$(( all + b[i] - a[i] )); done
    (( (all - idle) * 10 < all )) && return
  done
}
load() { # TEST CONNECTIONS URL [wrk args...]
  wait_idle
  TEST=$1 CONNS=$2 wrk -t2 -c"$2" -d"$DUR" --timeout 10s -s "$S/report.lua" "${@:4}" "$3" | grep '^JSON'
}
for _ in $(seq "$REPS"); do
  load "cached 10 KB artifact, token auth, 64 conn" 64 "${EP}org/acme/small/1.0/small-1.0.jar" -H "$AUTH"
  load "same bytes from Go FileServer, 64 conn" 64 "http://127.0.0.1:18911/org/acme/small/1.0/small-1.0.jar"
  load "maven-metadata.xml, 20 versions, 10 conn" 10 "${EP}org/acme/many20/maven-metadata.xml" -H "$AUTH"
  load "maven-metadata.xml, 2000 versions, 10 conn" 10 "${EP}org/acme/many2000/maven-metadata.xml" -H "$AUTH"
done | python3 "$S/table.py"
echo "coffer RSS after the runs: $(grep VmRSS /proc/$CO/status | awk '{print $2/1024 " MiB"}'), peak $(grep VmHWM /proc/$CO/status | awk '{print $2/1024 " MiB"}')"
