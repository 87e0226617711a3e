#!/bin/sh
# rootfs.sh BINARY DIR: lays out DIR/rootfs as the whole file tree of
# coffer's container image (deploy/Containerfile copies it onto an empty
# base): the static binary, /etc/passwd and /etc/group with the non-root
# user coffer (65532), Debian's CA bundle and /tmp (1777); and DIR/volume/data,
# the empty volume /data (0750), which the Containerfile copies apart to
# give it to coffer.
# The Containerfile's build stage runs it, and so do scripts/release.sh and
# scripts/deploy-check.sh for a binary they built themselves.
set -eu
bin=$1 root=$2/rootfs data=$2/volume/data
here=$(dirname "$0")
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp" "$data"
cp "$here/rootfs/etc/passwd" "$here/rootfs/etc/group" "$root/etc/"
cp "$bin" "$root/usr/local/bin/coffer"
chmod 0755 "$root/usr/local/bin/coffer"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/ssl/certs/ca-certificates.crt"
chmod 1777 "$root/tmp"
chmod 0750 "$data"
