#!/usr/bin/env bash
# Build the CSI driver image's base, glusterfs-heketi/heketi-csi-base:1, without any registry: Debian bookworm
# minbase with only the GlusterFS FUSE client (glusterfs-client: mount.glusterfs, glusterfs) and CA certificates
# (Heketi over TLS with a public CA); mount, umount and nsenter come with minbase's util-linux and mount.
# debootstrap -> trim -> docker import. The trimmed root file system is kept in the build cache outside the clone
# (tools/build-cache.sh), keyed by this script; the image carries the key as a label, and an image built by another
# version of this script is built again.
# Usage: tools/build-csi-base.sh [--force]
set -euo pipefail

IMAGE="${CSI_BASE_IMAGE:-glusterfs-heketi/heketi-csi-base:1}"
mirror_arg=()
[[ -n "${LAB_MIRROR:-}" ]] && mirror_arg=("$LAB_MIRROR")
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=tools/build-cache.sh
. "$root/tools/build-cache.sh"
key="$(build_key "$0")"
cache="$build_cache_root/csi-base"
tarball="$cache/heketi-csi-base-1-$key.tar"
force=0
[[ "${1:-}" == "--force" ]] && force=1

if [[ $force -eq 0 ]] && [[ "$(docker image inspect -f '{{index .Config.Labels "glusterfs-heketi.build-key"}}' "$IMAGE" 2>/dev/null)" == "$key" ]]; then
  echo "image $IMAGE present"
  exit 0
fi

mkdir -p "$cache"
if [[ $force -eq 1 || ! -s "$tarball" ]]; then
  command -v debootstrap >/dev/null || { echo "debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
  rootfs="$(mktemp -d "$cache/rootfs.XXXXXX")"
  trap 'rm -rf "$rootfs" "$tarball.part"' EXIT
  echo "debootstrap bookworm (minbase, glusterfs-client) into $rootfs"
  debootstrap --variant=minbase --include=glusterfs-client,ca-certificates \
    bookworm "$rootfs" "${mirror_arg[@]}" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  # Nothing in the image installs packages: no package lists, caches, documentation or locales.
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/debconf/*-old \
         "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
         "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/lintian "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* \
         "$rootfs"/tmp/* "$rootfs"/root/.cache
  tar --numeric-owner -C "$rootfs" -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
  rm -rf "$rootfs"
  trap - EXIT
fi
docker import --change "LABEL glusterfs-heketi.build-key=$key" "$tarball" "$IMAGE" >/dev/null
echo "image $IMAGE imported ($(docker image inspect -f '{{.Size}}' "$IMAGE") bytes)"
