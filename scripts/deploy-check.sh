#!/usr/bin/env bash
# Follows docs/deploy.md once from scratch, for every step this machine can
# run, and fails on the first that does not work:
#
#   1. release build (scripts/release.sh, the host's linux binary) and its
#      container image (deploy/Containerfile, podman);
#   2. the binary installed into a temporary prefix, started exactly as
#      deploy/systemd/coffer.service starts it: its Environment= lines, the
#      shipped deploy/systemd/coffer.env as the EnvironmentFile (port and
#      paths pointed at temporary ones), ExecStart with $STATE_DIRECTORY;
#      then /healthz and /readyz over TLS, ExecReload (SIGHUP) serving a
#      renewed certificate, KillSignal stopping it cleanly; `coffer version`;
#   3. `systemd-analyze verify` of the unit and its `systemd-analyze
#      security` exposure score;
#   4. the image: the binary in it is the one of step 1, and its user,
#      volume, port, healthcheck and labels are as documented;
#   5. the Helm chart rendered in single and cluster mode, validated offline
#      against Kubernetes' own schemas (kubectl-validate, built-in 1.30).
#
# Needs: go, podman, systemd-analyze, openssl, curl, helm and
# kubectl-validate (HELM and KUBECTL_VALIDATE name them when not on PATH;
# scripts/test.sh installs them all). A missing tool fails the check.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

helm=${HELM:-helm}
kubectl_validate=${KUBECTL_VALIDATE:-kubectl-validate}
k8s_version=1.30 # the newest schema set kubectl-validate v0.0.4 carries
# need TOOL...: fail when a tool is missing.
need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" > /dev/null || {
      echo "deploy-check: $tool is missing (scripts/test.sh installs it)" >&2
      exit 1
    }
  done
}
need go podman systemd-analyze openssl curl sha256sum
# scripts/test.sh builds helm and kubectl-validate in the background
# (DEPLOY_TOOLS_PID): they are needed from the Helm step on.
[[ -n ${DEPLOY_TOOLS_PID:-} ]] || need "$helm" "$kubectl_validate"

work=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2> /dev/null || true
  podman $podman_flags rm -f deploy-check > /dev/null 2>&1 || true
  podman $podman_flags rmi -f "$image" > /dev/null 2>&1 || true
  chmod -R u+w "$work" 2> /dev/null || true
  rm -rf "$work"
}
# A storage of its own: nothing is left in the machine's podman storage;
# vfs needs no overlay mounts.
podman_flags="--root $work/containers --runroot $work/run --storage-driver vfs"
image=localhost/coffer:deploy-check
trap cleanup EXIT
step() { echo "deploy-check: $* ($((SECONDS - t0)) s)"; }
fail() {
  echo "deploy-check: FAIL: $*" >&2
  [[ -f $work/coffer.log ]] && tail -n 30 "$work/coffer.log" >&2
  exit 1
}
t0=$SECONDS

# 1. Release build: the linux binary of this machine's architecture, and the image.
arch=$(go env GOARCH)
version=deploy-check-$(git rev-parse --short HEAD 2> /dev/null || echo none)
VERSION=$version DIST=$work/dist TARGETS=linux/$arch IMAGE=$image PODMAN_FLAGS=$podman_flags \
  scripts/release.sh > "$work/release.log" 2>&1 || {
  cat "$work/release.log"
  fail "scripts/release.sh"
}
(cd "$work/dist" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match"
bin=$work/dist/coffer-$version-linux-$arch
step "release build and image: $(basename "$bin"), $(($(stat -c %s "$bin") / 1024)) KiB"

# 2. Install into a prefix, as docs/deploy.md does into /.
prefix=$work/root
install -D -m 0755 "$bin" "$prefix/usr/local/bin/coffer"
"$prefix/usr/local/bin/coffer" version > "$work/version.txt"
grep -qx "coffer $version" "$work/version.txt" || fail "coffer version: $(cat "$work/version.txt")"
grep -q '^commit: [0-9a-f]\{40\}' "$work/version.txt" || fail "coffer version has no commit: $(cat "$work/version.txt")"
grep -q '^built: [0-9]' "$work/version.txt" || fail "coffer version has no date: $(cat "$work/version.txt")"
step "coffer version: $(tr '\n' ' ' < "$work/version.txt")"

# The unit, with the binary's path pointed into the prefix (the only change).
unit=deploy/systemd/coffer.service
mkdir -p "$work/unit"
sed "s|/usr/local/bin/coffer|$prefix/usr/local/bin/coffer|g" "$unit" > "$work/unit/coffer.service"

# Start it as systemd would: a clean environment, the unit's Environment=,
# then the EnvironmentFile (later wins), then ExecStart with ${STATE_DIRECTORY}.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
state=$work/state/coffer tls=$work/etc/coffer/tls
mkdir -p "$state" "$tls"
chmod 0750 "$state" # StateDirectoryMode
new_cert() { # CN: a self-signed pair in place of certbot's, at the paths of coffer.env
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$1" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$tls/privkey.pem.new" -out "$tls/fullchain.pem.new" 2> /dev/null
  mv "$tls/privkey.pem.new" "$tls/privkey.pem"
  mv "$tls/fullchain.pem.new" "$tls/fullchain.pem"
}
new_cert deploy-check-1
sed -e "s|^COFFER_LISTEN=.*|COFFER_LISTEN=127.0.0.1:$port|" \
  -e "s|^COFFER_PUBLIC_URL=.*|COFFER_PUBLIC_URL=https://localhost:$port|" \
  -e "s|/etc/coffer/tls/|$tls/|g" deploy/systemd/coffer.env > "$work/etc/coffer/coffer.env"
envs=(PATH=/usr/bin:/bin LANG=C.UTF-8 STATE_DIRECTORY="$state" HOME="$state")
assignment='([A-Z_][A-Z0-9_]*=[^"'"'"' ]*)' # NAME=value, unquoted: what the check can read
while IFS= read -r line; do
  [[ $line =~ ^Environment=$assignment$ ]] || fail "unit line the check cannot read: $line"
  envs+=("${BASH_REMATCH[1]}")
done < <(grep '^Environment=' "$unit")
envfile=$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$unit")
[[ $envfile == /etc/coffer/coffer.env ]] || fail "EnvironmentFile is $envfile, docs/deploy.md says /etc/coffer/coffer.env"
while IFS= read -r line; do
  [[ -z $line || $line == \#* ]] && continue
  [[ $line =~ ^$assignment$ ]] || fail "coffer.env line the check cannot read: $line"
  envs+=("$line")
done < "$work/etc/coffer/coffer.env"
exec_start=$(sed -n 's/^ExecStart=//p' "$work/unit/coffer.service")
exec_start=${exec_start//\$\{STATE_DIRECTORY\}/$state}
[[ $exec_start != *'$'* ]] || fail "ExecStart has a variable the check does not set: $exec_start"
read -r -a argv <<< "$exec_start"
workdir=$(sed -n 's/^WorkingDirectory=//p' "$unit")
[[ $workdir == /var/lib/coffer ]] || fail "WorkingDirectory is $workdir"
umask=$(sed -n 's/^UMask=//p' "$unit")
(cd "$state" && umask "$umask" && exec env -i "${envs[@]}" "${argv[@]}") > "$work/coffer.log" 2>&1 &
pid=$!
url=https://localhost:$port
get() { curl -fsS --max-time 5 --cacert "$tls/fullchain.pem" "$url$1"; }
for _ in $(seq 100); do
  get /healthz > /dev/null 2>&1 && break
  kill -0 "$pid" 2> /dev/null || fail "coffer exited at start"
  sleep 0.2
done
[[ $(get /healthz) == ok ]] || fail "/healthz"
[[ $(get /readyz) == ready ]] || fail "/readyz"
[[ -f $state/root-credentials && $(stat -c %a "$state/root-credentials") == 600 ]] || fail "no root-credentials (0600) in the state directory"
step "started as the unit starts it: ${argv[*]}; /healthz and /readyz answer over TLS"

# ExecReload after a renewal: the new certificate is served, the process stays.
serial() { openssl s_client -connect "127.0.0.1:$port" -servername localhost < /dev/null 2> /dev/null | openssl x509 -noout -serial; }
before=$(serial)
new_cert deploy-check-2
reload=$(sed -n 's/^ExecReload=//p' "$unit")
${reload//\$MAINPID/$pid}
for _ in $(seq 50); do
  [[ $(serial) != "$before" ]] && break
  sleep 0.2
done
[[ $(serial) != "$before" ]] || fail "ExecReload ($reload): the renewed certificate is not served"
[[ $(get /healthz) == ok ]] || fail "/healthz after the reload"
step "ExecReload ($reload) serves the renewed certificate"

# KillSignal: a clean exit.
kill "-$(sed -n 's/^KillSignal=SIG//p' "$unit")" "$pid"
rc=0
wait "$pid" || rc=$?
pid=
((rc == 0)) || fail "coffer exited $rc on the unit's KillSignal"
step "stopped by KillSignal with status 0"

# 3. The unit itself.
systemd-analyze verify "$work/unit/coffer.service" || fail "systemd-analyze verify"
score=$(systemd-analyze security --offline=yes "$work/unit/coffer.service" 2>&1 | sed -n 's/.*Overall exposure level for coffer.service: \([0-9.]*\).*/\1/p')
[[ -n $score ]] || fail "systemd-analyze security gave no score"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "systemd-analyze security exposure $score > 2.0"
step "systemd-analyze verify: clean; systemd-analyze security exposure: $score"

# 4. The image: the same binary, and the documented configuration.
podman $podman_flags create --name deploy-check "$image" > /dev/null
podman $podman_flags cp deploy-check:/usr/local/bin/coffer "$work/coffer-from-image"
podman $podman_flags cp deploy-check:/etc/passwd "$work/passwd-from-image"
want=$(sha256sum < "$bin") got=$(sha256sum < "$work/coffer-from-image")
[[ $want == "$got" ]] || fail "the image's binary differs from the release binary"
grep -q '^coffer:x:65532:65532:' "$work/passwd-from-image" || fail "no user coffer (65532) in the image"
# (grep -q on a pipe would end the writer early: with pipefail, a false failure)
grep -qx "coffer $version" <<< "$("$work/coffer-from-image" version)" || fail "the image's binary is not version $version"
podman $podman_flags export deploy-check | tar --numeric-owner -tvf - > "$work/image-files.txt"
grep -Eq '^drwxr-x--- 65532/65532 .* data/?$' "$work/image-files.txt" || fail "/data is not 0750 coffer:coffer: $(grep ' data/\?$' "$work/image-files.txt")"
grep -Eq '^drwxrwxrwt .* tmp/?$' "$work/image-files.txt" || fail "/tmp is not 1777"
grep -Eq ' etc/ssl/certs/ca-certificates.crt$' "$work/image-files.txt" || fail "no CA bundle in the image"
inspect() { podman $podman_flags image inspect --format "$1" "$image"; }
check_image() { # FORMAT WANT
  local got
  got=$(inspect "$1")
  [[ $got == "$2" ]] || fail "image $1 is '$got', want '$2'"
}
check_image '{{.Config.User}}' 65532:65532
check_image '{{json .Config.Entrypoint}}' '["/usr/local/bin/coffer"]'
check_image '{{json .Config.Cmd}}' '["serve"]'
check_image '{{range $k, $v := .Config.Volumes}}{{$k}}{{end}}' /data
check_image '{{range $k, $v := .Config.ExposedPorts}}{{$k}}{{end}}' 8080/tcp
check_image '{{json .Config.Healthcheck.Test}}' '["CMD","/usr/local/bin/coffer","healthcheck"]'
check_image '{{index .Config.Labels "org.opencontainers.image.version"}}' "$version"
check_image '{{index .Config.Labels "org.opencontainers.image.revision"}}' "$(git rev-parse HEAD)"
[[ -n $(inspect '{{index .Config.Labels "org.opencontainers.image.created"}}') ]] || fail "no created label"
grep -qx COFFER_LISTEN=0.0.0.0:8080 <<< "$(inspect '{{range .Config.Env}}{{println .}}{{end}}')" || fail "image env has no COFFER_LISTEN"
step "image $image: the release binary (sha256 $(cut -c1-16 <<< "$got")), user 65532, /data (0750 65532), /tmp, CA bundle, 8080, healthcheck, OCI labels"

# 5. The Helm chart, both modes, validated offline against Kubernetes' schemas.
if [[ -n ${DEPLOY_TOOLS_PID:-} ]]; then
  while kill -0 "$DEPLOY_TOOLS_PID" 2> /dev/null; do
    sleep 2 # the tools' build, a sibling process: polled, not waited for
  done
  command -v "$helm" > /dev/null && command -v "$kubectl_validate" > /dev/null || {
    cat "${DEPLOY_TOOLS_LOG:-/dev/null}"
    fail "building helm or kubectl-validate failed"
  }
  step "helm and kubectl-validate are built"
fi
chart=deploy/helm/coffer
"$helm" lint "$chart" -f "$chart/ci/single.yaml" > "$work/lint.log" 2>&1 || {
  cat "$work/lint.log"
  fail "helm lint"
}
for mode in single cluster; do
  "$helm" template coffer "$chart" --namespace registry -f "$chart/ci/$mode.yaml" > "$work/$mode.yaml" || fail "helm template ($mode)"
  "$kubectl_validate" --version "$k8s_version" "$work/$mode.yaml" > "$work/validate.log" 2>&1 || {
    cat "$work/validate.log"
    fail "kubectl-validate ($mode)"
  }
  kinds=$(sed -n 's/^kind: //p' "$work/$mode.yaml" | sort | tr '\n' ' ')
  step "helm template ($mode): ${kinds}valid for Kubernetes $k8s_version"
done
[[ $kinds == "Deployment PodDisruptionBudget Service " ]] || fail "cluster mode renders $kinds"
grep -q 'readOnlyRootFilesystem: true' "$work/single.yaml" || fail "no read-only root filesystem"
if "$helm" template coffer "$chart" --set mode=cluster --set cluster.blobs=s3://b > /dev/null 2>&1; then
  fail "cluster mode without a master key secret rendered"
fi
echo "deploy-check: passed in $((SECONDS - t0)) s"
