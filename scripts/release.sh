#!/usr/bin/env bash
# Release build: static coffer binaries for linux and darwin on amd64 and
# arm64, with a SHA256SUMS file, and optionally the container image of the
# linux binary.
#
#   scripts/release.sh                       VERSION from git describe, into dist/
#   VERSION=v1.2.0 DIST=out scripts/release.sh
#   TARGETS=linux/amd64 scripts/release.sh    only some targets
#   IMAGE=coffer:v1.2.0 scripts/release.sh    also build deploy/Containerfile's image with podman
#                                             from dist's linux binary (of the host's architecture)
#
# Each binary is CGO_ENABLED=0 (static), -trimpath, stripped (-s -w) and
# carries VERSION (-X main.version); the commit and its time come from the
# go command's VCS stamp (coffer version prints them). Files:
#   $DIST/coffer-$VERSION-$GOOS-$GOARCH  and  $DIST/SHA256SUMS (sha256sum -c reads it)
set -euo pipefail
cd "$(dirname "$0")/.."

version=${VERSION:-$(git describe --tags --always --dirty 2> /dev/null || echo dev)}
dist=${DIST:-dist}
targets=${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}
image=${IMAGE:-}

# The commit, its time and whether the tree was modified are stamped by the
# go command from Git (-buildvcs=true overrides a GOFLAGS=-buildvcs=false).
buildvcs=false
git rev-parse --is-inside-work-tree > /dev/null 2>&1 && buildvcs=true

mkdir -p "$dist"
rm -f "$dist"/coffer-* "$dist/SHA256SUMS"
start=$SECONDS
files=()
for t in $targets; do
  os=${t%/*} arch=${t#*/}
  out=coffer-$version-$os-$arch
  t0=$SECONDS
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -buildvcs=$buildvcs \
    -ldflags "-s -w -X main.version=$version" -o "$dist/$out" ./cmd/coffer
  echo "built $dist/$out ($(($(stat -c %s "$dist/$out") / 1024)) KiB, $((SECONDS - t0)) s)"
  files+=("$out")
done
(cd "$dist" && sha256sum "${files[@]}" > SHA256SUMS)
echo "wrote $dist/SHA256SUMS; $((SECONDS - start)) s in all"

if [[ -n $image ]]; then
  # The image holds exactly the released binary: the build stage of
  # deploy/Containerfile is replaced by a tree made here (--build-context),
  # so podman builds only the final stage (FROM scratch).
  arch=$(go env GOARCH)
  bin=$dist/coffer-$version-linux-$arch
  [[ -f $bin ]] || {
    echo "release.sh: IMAGE needs the linux/$arch binary in TARGETS" >&2
    exit 1
  }
  tree=$(mktemp -d)
  trap 'rm -rf "$tree"' EXIT
  deploy/container/rootfs.sh "$bin" "$tree/out"
  commit=$(git rev-parse HEAD 2> /dev/null || true)
  created=$(git log -1 --format=%cI 2> /dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
  # PODMAN_FLAGS: e.g. "--storage-driver vfs" where overlayfs is unavailable.
  # shellcheck disable=SC2086
  podman ${PODMAN_FLAGS:-} build --format docker --isolation "${BUILDAH_ISOLATION:-chroot}" \
    --build-context "build=$tree" -f deploy/Containerfile \
    --build-arg "VERSION=$version" --build-arg "REVISION=$commit" --build-arg "CREATED=$created" \
    -t "$image" .
  echo "built image $image from $bin"
fi
