#!/usr/bin/env bash
# Build kustomize (sigs.k8s.io/kustomize/kustomize/v5, v5.8.1: the newest whose go.mod this machine's Go
# accepts), once, from the Go module proxy. The tests build the CSI driver's base (csi/deploy) with it and
# compare the objects with what the csi_driver role applies (no kubectl kustomize here: no kubectl -k).
#
# The binary is kept in the build cache outside the clone (tools/build-cache.sh), keyed by its version and
# this script, and hard-linked into .cache/kustomize-<version>/kustomize. `--check` exits 0 when it is built
# (and links it). About a minute on 2 cores with a cold Go build cache.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=tools/build-cache.sh
. "$root/tools/build-cache.sh"
version=v5.8.1
key="$(build_key "$0")"
store="$build_cache_root/kustomize/kustomize-$version-$key"
built() {
  [[ -x "$store/kustomize" ]] || return 1
  link_outputs "$store" "$root/.cache/kustomize-$version"
}
if [[ "${1:-}" == "--check" ]]; then
  built
  exit
fi
if built; then
  echo "kustomize $version already built: $store"
  exit 0
fi
command -v go >/dev/null || { echo "build-kustomize: Go is required" >&2; exit 1; }
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-mod=mod ${CSI_BUILD_GOFLAGS:-}"
rm -rf "$store.new"
mkdir -p "$store.new"
start=$(date +%s)
GOBIN="$store.new" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kustomize/kustomize/v5@$version"
echo "kustomize $version: $(( $(date +%s) - start )) s, $(du -m "$store.new/kustomize" | cut -f1) MB, $(nproc) cores, $(go version | cut -d' ' -f3)" \
  | tee "$store.new/build.txt"
rm -rf "$store"
mv -T "$store.new" "$store"
built
