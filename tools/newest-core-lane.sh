#!/usr/bin/env bash
# The newest ansible-core lane: `ansible-test sanity` on the newest ansible-core line, which needs
# Python 3.12+ on the controller (ansible-core 2.20 and later). Debian 12 has only Python 3.11, so the
# lane runs in a Debian trixie container (Python 3.13 from Debian's packages), built here without any
# registry: debootstrap -> docker import, its root file system kept in the build cache outside the clone
# (tools/build-cache.sh), keyed by this script.
#
#   tools/newest-core-lane.sh            (ansible-core pinned in test-requirements-newest.txt)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
IMAGE="${NEWEST_CORE_IMAGE:-glusterfs-heketi/trixie-python:1}"
# The Debian mirror: LAB_MIRROR, else debootstrap's own default.
mirror_arg=()
[[ -n "${LAB_MIRROR:-}" ]] && mirror_arg=("$LAB_MIRROR")
# shellcheck source=tools/build-cache.sh
. "$root/tools/build-cache.sh"
key="$(build_key "$0")"
cache="$build_cache_root/lab"
tarball="$cache/trixie-python-1-$key.tar"
requirements="$root/test-requirements-newest.txt"

if [[ "$(docker image inspect -f '{{index .Config.Labels "glusterfs-heketi.build-key"}}' "$IMAGE" 2>/dev/null)" != "$key" ]]; then
  mkdir -p "$cache"
  if [[ ! -s "$tarball" ]]; then
    command -v debootstrap >/dev/null || { echo "debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
    rootfs="$(mktemp -d "$cache/trixie.XXXXXX")"
    trap 'rm -rf "$rootfs" "$tarball.part"' EXIT
    echo "debootstrap trixie into $rootfs"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
      trixie "$rootfs" "${mirror_arg[@]}" >"$cache/debootstrap-trixie.log" 2>&1 \
      || { tail -20 "$cache/debootstrap-trixie.log" >&2; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
           "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
    tar --numeric-owner -C "$rootfs" -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    rm -rf "$rootfs"
    trap - EXIT
  fi
  docker import --change "LABEL glusterfs-heketi.build-key=$key" "$tarball" "$IMAGE" >/dev/null
  echo "image $IMAGE built"
fi

# The collection as ansible-test needs it (a physical .../ansible_collections/glusterfs/heketi), from
# what git tracks, as tools/ansible-test.sh lays it out; mounted read-only, copied inside.
work="$(mktemp -d)"
name="newest-core-$$"
trap 'docker rm -f "$name" >/dev/null 2>&1; rm -rf "$work"' EXIT
ANSIBLE_TEST_TREE="$work" ANSIBLE_TEST_PREPARE_ONLY=1 "$root/tools/ansible-test.sh"
cp "$requirements" "$work/requirements.txt"
# pip inside trusts what pip here trusts (this machine's CA bundle, which may hold a proxy's CA): in
# /etc/pip.conf, since ansible-test runs pip with a cleaned environment.
ca_bundle="${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}"
docker run --rm --name "$name" -v "$work:/src:ro" -v "$ca_bundle:/etc/ssl/certs/host-bundle.crt:ro" \
  "$IMAGE" /bin/sh -ec '
  printf "[global]\ncert = /etc/ssl/certs/host-bundle.crt\ntimeout = 180\n" >/etc/pip.conf
  python3 --version
  python3 -m venv /venv
  /venv/bin/pip install -q --disable-pip-version-check -r /src/requirements.txt
  /venv/bin/ansible --version | head -1
  mkdir -p /build && cp -a /src/ansible_collections /build/
  py="$(python3 -c "import sys; print(\"%d.%d\" % sys.version_info[:2])")"
  ANSIBLE_TEST_BIN=/venv/bin/ansible-test ANSIBLE_TEST_PYTHON="$py" ANSIBLE_TEST_TREE=/build ANSIBLE_TEST_PREPARED=1 \
    /build/ansible_collections/glusterfs/heketi/tools/ansible-test.sh sanity
'
