#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a developer's: installs the
# clients the tests drive when they are missing (the aws CLI, boto3,
# Chromium, Maven and its plugins, twine, Node.js with npm, pnpm and yarn,
# cargo, ruby and gem),
# starts the servers the tests need, runs go vet, staticcheck and every Go
# test, then each fuzz target of the parsers of untrusted input for a
# short, fixed budget.
#
#   scripts/test.sh                 everything
#   FUZZTIME=0 scripts/test.sh      no fuzzing
#   FUZZTIME=30s scripts/test.sh    longer fuzzing (default 2s a target)
#   FUZZ_UNTIL=60 scripts/test.sh   no target is started after this many minutes (default 26:
#                                   CI ends within 30; on a fresh machine, compiling everything
#                                   and the deployment tools cold leaves time for part of them)
#
# A missing client is installed, never skipped: the client tests fail
# without it. Installing needs root (or sudo) and Debian's apt.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-2s}

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_packages=()
command -v aws > /dev/null || apt_packages+=(awscli)
python3 -c 'import boto3' 2> /dev/null || apt_packages+=(python3-boto3)
command -v tar > /dev/null || apt_packages+=(tar)
command -v chromium > /dev/null || apt_packages+=(chromium)   # console tests drive headless Chromium
command -v mvn > /dev/null || apt_packages+=(maven)            # test/maven drives the real mvn
command -v javac > /dev/null || apt_packages+=(openjdk-17-jdk-headless)
command -v twine > /dev/null || apt_packages+=(twine)          # test/pypi uploads with the real twine
command -v node > /dev/null || apt_packages+=(nodejs)          # test/npm drives the real npm
command -v npm > /dev/null || apt_packages+=(npm)
command -v cargo > /dev/null || apt_packages+=(cargo)          # format/cargo's fixtures come from the real cargo
command -v ruby > /dev/null || apt_packages+=(ruby)            # format/rubygems checks its Marshal with the real ruby
command -v gem > /dev/null || apt_packages+=(ruby-rubygems)
command -v bundle > /dev/null || apt_packages+=(ruby-bundler)     # test/ruby drives the real bundler
# test/nuget installs no client: Debian has no dotnet, and its nuget (2.8.7 on mono) predates NuGet V3
# feeds; the test replays the requests of dotnet and nuget, and runs the aws CLI's login against stand-ins.
# The PostgreSQL store's tests and test/cluster run a throw-away PostgreSQL server (its binaries
# are off PATH, under /usr/lib/postgresql), test/cluster fronts its nodes with nginx.
compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null || apt_packages+=(postgresql)
command -v psql > /dev/null || apt_packages+=(postgresql-client)
command -v nginx > /dev/null || apt_packages+=(nginx-light)
# The fake "Maven Central" of test/maven and test/cluster (test/maventest) is /usr/share/maven-repo as these fill it.
# scripts/deploy-check.sh builds the container image with podman, checks the systemd unit with
# systemd-analyze and serves TLS with a certificate from openssl.
command -v podman > /dev/null || apt_packages+=(podman)
command -v systemd-analyze > /dev/null || apt_packages+=(systemd)
command -v openssl > /dev/null || apt_packages+=(openssl)
command -v curl > /dev/null || apt_packages+=(curl)
for p in libmaven-compiler-plugin-java libmaven-resources-plugin-java libmaven-jar-plugin-java \
  libmaven-install-plugin-java libmaven-deploy-plugin-java libsurefire-java libmaven-clean-plugin-java; do
  dpkg -s "$p" > /dev/null 2>&1 || apt_packages+=("$p")
done
if ((${#apt_packages[@]})); then
  echo "installing: ${apt_packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" > /dev/null
fi

# test/npm drives pnpm and yarn classic pinned in test/npm/tools (gitignored).
npm_tools=test/npm/tools pnpm_version=12.4.2 yarn_version=1.22.22
if [[ "$("$npm_tools/node_modules/.bin/pnpm" --version 2> /dev/null)" != "$pnpm_version" ||
  "$("$npm_tools/node_modules/.bin/yarn" --version 2> /dev/null)" != "$yarn_version" ]]; then
  npm install --prefix "$npm_tools" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "pnpm@$pnpm_version" "yarn@$yarn_version"
fi

# scripts/deploy-check.sh renders the Helm chart with helm and validates it offline with
# kubectl-validate (which carries Kubernetes' schemas), both built once from the Go module
# proxy into a cache kept across runs. Cold, they take minutes of CPU: they are built in the
# background, at a lower priority, while the tests run, and waited for before the check.
deploy_tools=${XDG_CACHE_HOME:-$HOME/.cache}/coffer-tools
helm_version=v4.3.2 kubectl_validate_version=v0.0.4
export HELM=$deploy_tools/helm-$helm_version/helm
export KUBECTL_VALIDATE=$deploy_tools/kubectl-validate-$kubectl_validate_version/kubectl-validate
tools_log=$(mktemp)
(
  [[ -x $HELM ]] || GOBIN=$(dirname "$HELM") nice -n 10 go install "helm.sh/helm/v4/cmd/helm@$helm_version" &
  [[ -x $KUBECTL_VALIDATE ]] || GOBIN=$(dirname "$KUBECTL_VALIDATE") nice -n 10 go install "sigs.k8s.io/kubectl-validate@$kubectl_validate_version" &
  wait
) > "$tools_log" 2>&1 &
tools_pid=$!

go version
aws --version
echo "node $(node --version), npm $(npm --version), pnpm $("$npm_tools/node_modules/.bin/pnpm" --version), yarn $("$npm_tools/node_modules/.bin/yarn" --version)"
go mod download

# Servers the tests need are started here, on loopback, and stopped on exit:
# PostgreSQL for internal/store/postgres and test/migrate, an S3 server
# (versitygw, built once from the Go module proxy) for internal/blob/s3 and
# test/migrate. Each prints the variables the tests read (NAME=value; the
# values hold '&', so they are exported line by line). test/cluster starts
# servers of its own, since it stops them on purpose.
servers=$(mktemp -d)
cleanup() {
  kill "$tools_pid" 2> /dev/null || true
  scripts/s3server.sh stop "$servers/s3" > /dev/null 2>&1 || true
  scripts/postgres.sh stop "$servers/pg" > /dev/null 2>&1 || true
  rm -rf "$servers" "${fuzzlog:-}" "$tools_log"
}
trap cleanup EXIT
chmod 755 "$servers" # PostgreSQL runs as its own user when we are root
for server in postgres:pg s3server:s3; do
  vars=$("scripts/${server%:*}.sh" start "$servers/${server#*:}")
  while IFS= read -r line; do export "$line"; done <<< "$vars"
done

go vet ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./... # pinned: a new release may add checks
# Three packages at once (go test runs GOMAXPROCS, two here): the black-box
# packages mostly wait on the processes they drive (coffer, mvn, npm,
# PostgreSQL, S3, nginx), so a third keeps the CPUs busy.
go test -p 3 -count=1 ./...

# docs/deploy.md followed from scratch: release build, the binary run as the systemd unit
# runs it, the container image, the unit's verification, the Helm chart in both modes.
# The check waits for the tools only before its Helm step (DEPLOY_TOOLS_PID), so its
# release build overlaps with their last minutes on a fresh machine.
DEPLOY_TOOLS_PID=$tools_pid DEPLOY_TOOLS_LOG=$tools_log scripts/deploy-check.sh

# Fuzz every target of the parsers of untrusted input (native protocols,
# SigV4, policies) for a fixed budget each; a crash fails the run and
# leaves its input under the package's testdata/fuzz. Go 1.26's fuzzing
# coordinator can report "context deadline exceeded" at the end of
# -fuzztime with no failing input (go.dev/issue/75804, fixed in Go 1.27):
# such a run, and only such a run, is tried once more.
if [[ $fuzztime != 0 ]]; then
  fuzzlog=$(mktemp)
  log=$fuzzlog
  fuzz_once() { # pkg target
    local corpus="$1/testdata/fuzz/$2" before after
    before=$(ls "$corpus" 2> /dev/null | wc -l)
    go test -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime" "$1" > "$log" 2>&1 && return 0
    after=$(ls "$corpus" 2> /dev/null | wc -l)
    if [[ $after == "$before" ]] && grep -q 'context deadline exceeded' "$log"; then
      return 2 # the coordinator's race, not an input
    fi
    return 1
  }
  fuzzed=0 total=0
  while read -r file target; do
    total=$((total + 1))
    # CI must end within 30 minutes: on a fresh machine, where everything is
    # compiled cold, fuzzing stops at the budget (FUZZ_UNTIL minutes after the
    # script started) and says how many targets it reached.
    if ((SECONDS > ${FUZZ_UNTIL:-26} * 60)); then
      continue
    fi
    pkg=./$(dirname "$file")
    echo "fuzz $pkg $target ($fuzztime)"
    rc=0
    fuzz_once "$pkg" "$target" || rc=$?
    if ((rc == 2)); then
      echo "fuzz $pkg $target: deadline race with no failing input; once more"
      rc=0
      fuzz_once "$pkg" "$target" || rc=$?
    fi
    if ((rc != 0)); then
      cat "$log"
      exit 1
    fi
    fuzzed=$((fuzzed + 1))
  done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' internal | sed 's/:func / /' | sort)
  echo "fuzzed $fuzzed of $total targets, $fuzztime each (budget: ${FUZZ_UNTIL:-26} minutes after the start)"
fi
