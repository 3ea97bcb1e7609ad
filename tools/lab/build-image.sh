#!/usr/bin/env bash
# Build the local lab image glusterfs-heketi/bookworm-systemd:1 (Debian bookworm, systemd as PID 1,
# sshd, python3) without any registry: debootstrap -> trim -> docker import.
# The trimmed root filesystem is kept in the build cache outside the clone (tools/build-cache.sh), keyed by
# this script, so a rebuild after `docker rmi` or in a fresh clone is a plain import; the image carries the key
# as a label, and an image built by another version of this script is built again.
# Usage: tools/lab/build-image.sh [--force]
set -euo pipefail

IMAGE="${LAB_IMAGE:-glusterfs-heketi/bookworm-systemd:1}"
# The Debian mirror: LAB_MIRROR, else debootstrap's own default.
mirror_arg=()
[[ -n "${LAB_MIRROR:-}" ]] && mirror_arg=("$LAB_MIRROR")
root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=tools/build-cache.sh
. "$root/tools/build-cache.sh"
key="$(build_key "$0")"
cache="$build_cache_root/lab"
tarball="$cache/bookworm-systemd-1-$key.tar"
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
  echo "debootstrap bookworm into $rootfs"
  debootstrap --variant=minbase \
    --include=python3,python3-apt,systemd,systemd-sysv,dbus,openssh-server,sudo,iproute2,procps,ca-certificates,less \
    bookworm "$rootfs" "${mirror_arg[@]}" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }

  # Units that cannot or must not run in a container.
  for unit in systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
              systemd-udev-trigger.service systemd-udev-settle.service \
              getty@.service getty.target console-getty.service serial-getty@.service \
              systemd-modules-load.service kmod-static-nodes.service \
              sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
              sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount proc-sys-fs-binfmt_misc.automount \
              systemd-remount-fs.service systemd-firstboot.service systemd-timesyncd.service \
              apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service; do
    ln -sfn /dev/null "$rootfs/etc/systemd/system/$unit"
  done

  # Every container gets its own machine-id and ssh host keys at first boot.
  : >"$rootfs/etc/machine-id"
  rm -f "$rootfs"/var/lib/dbus/machine-id "$rootfs"/etc/ssh/ssh_host_*
  mkdir -p "$rootfs/etc/systemd/system/ssh.service.d"
  printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
    >"$rootfs/etc/systemd/system/ssh.service.d/10-lab-hostkeys.conf"
  ln -sfn /lib/systemd/system/ssh.service "$rootfs/etc/systemd/system/multi-user.target.wants/ssh.service"

  MIRROR="$(awk '$1 == "deb" {print $2; exit}' "$rootfs/etc/apt/sources.list")"
  cat >"$rootfs/etc/apt/sources.list" <<SRC
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
SRC
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$rootfs/etc/apt/apt.conf.d/90lab-norecommends"

  # Trim, and date the (empty) package lists in the past: the apt module's cache_valid_time
  # must see a stale cache and run `apt-get update` on first use.
  rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
         "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/lib/apt/periodic/update-success-stamp \
         "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
         "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/tmp/* "$rootfs"/root/.cache
  mkdir -p "$rootfs/var/lib/apt/lists/partial"
  touch -d '2000-01-01 00:00:00' "$rootfs/var/lib/apt/lists/partial" "$rootfs/var/lib/apt/lists"

  tar --numeric-owner -C "$rootfs" -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
  rm -rf "$rootfs"
  trap - EXIT
fi

echo "docker import $tarball -> $IMAGE"
docker import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change "LABEL glusterfs-heketi.build-key=$key" \
  --change 'ENV container=docker' \
  "$tarball" "$IMAGE" >/dev/null
echo "image $IMAGE built"
