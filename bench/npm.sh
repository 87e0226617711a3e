#!/usr/bin/env bash
# npm registry benchmark of coffer with the shared harness (../shared/bench: fixtures.py, load.sh),
# the same fixtures and load as the Verdaccio baselines (../shared/spec/baselines.md):
#   1. publish bench-big (3,800 typescript-shaped versions, ~20 MB packument) and bench-small
#      through coffer's npm publish API: publish latency of the first and last 100 versions
#   2. load.sh: full and abbreviated packument (gzip, 10 conn), 10 KB tarball (64 conn)
#   3. idle RSS, and peak RSS during the load
#   4. npm install of a 200-package tree (bench/npm-tree.py): empty npm cache without a lockfile,
#      then npm ci with the lockfile; VERDACCIO=1 runs the same install against Verdaccio 6.8.0
# usage: bench/npm.sh [REPS=3] [DURATION=20s]      (loopback ports 18921, and 4873 for Verdaccio)
#        ONLY_INSTALL=1 skips 1–3; WORK=DIR keeps everything in DIR
set -euo pipefail
REPS=${1:-3} DUR=${2:-20s}
B=$(cd "$(dirname "$0")" && pwd) S=$(cd "$(dirname "$0")/../../shared/bench" && pwd)
W=${WORK:-$(mktemp -d)}; mkdir -p $W
(cd "$B/.." && go build -o $W/coffer ./cmd/coffer)
$W/coffer serve --listen 127.0.0.1:18921 --data-dir $W/data --log-level warn > $W/coffer.log 2>&1 & CO=$!
cleanup() { kill $CO 2> /dev/null || true; [ -n "${VD:-}" ] && "$S/verdaccio-down.sh" "$VD" > /dev/null 2>&1 || true; }
trap cleanup EXIT
for _ in $(seq 100); do curl -fs -o /dev/null http://127.0.0.1:18921/readyz && break; sleep 0.1; done
sleep 1; echo "idle RSS after start: $(awk '/VmRSS/{printf "%.1f MiB", $2/1024}' /proc/$CO/status)"
export AWS_SHARED_CREDENTIALS_FILE=$W/data/root-credentials AWS_PROFILE=coffer AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
CA="aws codeartifact --endpoint-url http://127.0.0.1:18921"
$CA create-domain --domain bench > /dev/null 2>&1 || true
$CA create-repository --domain bench --repository npm > /dev/null 2>&1 || true
TOK=$($CA get-authorization-token --domain bench --duration-seconds 43200 --query authorizationToken --output text)
EP=$($CA get-repository-endpoint --domain bench --repository npm --format npm --query repositoryEndpoint --output text)

if [ "${ONLY_INSTALL:-}" != 1 ]; then
  echo "== fixtures (publish through coffer)"
  python3 "$S/fixtures.py" "$EP" "$TOK" --json $W/fixtures.json
  echo "RSS after the load of the fixtures: $(awk '/VmRSS/{printf "%.1f MiB", $2/1024}' /proc/$CO/status)"

  echo "== load.sh ($REPS × $DUR)"
  echo 5 > /proc/$CO/clear_refs 2> /dev/null || true   # resets VmHWM (peak RSS) where allowed
  "$S/load.sh" "$EP" "$TOK" "$REPS" "$DUR"
  echo "peak RSS during the load: $(awk '/VmHWM/{printf "%.1f MiB", $2/1024}' /proc/$CO/status)"
fi

install_times() { # NAME URL TOKEN: npm install (empty cache, no lockfile) then npm ci (empty cache), 3 each
  local name=$1 url=$2 tok=$3 d=$W/tree-$1
  python3 "$B/npm-tree.py" "$url" "$tok" $d
  local host=${url#http://}
  printf 'registry=%s\n//%s:_authToken=%s\naudit=false\nfund=false\nupdate-notifier=false\n' "$url" "$host" "$tok" > $d/npmrc
  export NPM_CONFIG_USERCONFIG=$d/npmrc
  for kind in install ci; do
    for i in 1 2 3; do
      rm -rf $d/cache $d/consumer/node_modules
      [ $kind = install ] && rm -f $d/consumer/package-lock.json
      local t0=$(date +%s.%N)
      (cd $d/consumer && npm $kind --cache $d/cache --prefer-online > $d/npm-$kind.log 2>&1)
      local t1=$(date +%s.%N)
      [ "$(ls $d/consumer/node_modules | grep -c '^tree-')" = 200 ] || { echo "install incomplete" >&2; exit 1; }
      echo "$name npm $kind (200 packages, empty npm cache) run $i: $(awk -v a=$t0 -v b=$t1 'BEGIN{printf "%.2f", b-a}') s"
    done
  done
  unset NPM_CONFIG_USERCONFIG
}
echo "== npm install of a 200-package tree"
install_times coffer "$EP" "$TOK"
if [ "${VERDACCIO:-}" = 1 ]; then
  VD=$W/verdaccio
  VTOK=$("$S/verdaccio-up.sh" 4873 $VD)
  install_times verdaccio http://127.0.0.1:4873/ "$VTOK"
fi
