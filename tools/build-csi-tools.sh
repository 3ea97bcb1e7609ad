#!/usr/bin/env bash
# Build the upstream CSI tools the driver's tests run, once, from the Go module proxy:
#   csi-sanity       github.com/kubernetes-csi/csi-test/v5            v5.6.0  (go install)
#   csi-resizer      github.com/kubernetes-csi/external-resizer/v2    v2.3.0  (go install)
#   csi-provisioner  github.com/kubernetes-csi/external-provisioner/v6 v6.4.0
# `go install .../cmd/csi-provisioner@v6.4.0` is refused ("The go.mod file for the module providing
# named packages contains one or more replace directives"), so the module is downloaded and
# ./cmd/csi-provisioner is built inside a writable copy of it, as the main module (the way
# tools/build-kube-apiserver.sh builds the apiserver). The node-driver-registrar is refused by the proxy
# (403) and there is no kubelet here to register with: it is not built.
#
# Binaries are kept in the build cache outside the clone (tools/build-cache.sh), keyed by the tool's version
# and this script, and hard-linked into .cache/csi/<tool>-<version>/<tool>; a tool in the cache is only linked.
# Build times are printed and written to build.txt beside each. `--check` exits 0 when all are built (and
# links them).
# CSI_BUILD_GOFLAGS adds go flags (tools/run-tests.sh passes -p=1 when the kube build runs beside it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=tools/build-cache.sh
. "$root/tools/build-cache.sh"
key="$(build_key "$0")"
tools=(
  "csi-sanity v5.6.0 github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity"
  "csi-resizer v2.3.0 github.com/kubernetes-csi/external-resizer/v2/cmd/csi-resizer"
  "csi-provisioner v6.4.0 github.com/kubernetes-csi/external-provisioner/v6/cmd/csi-provisioner"
)
store() { echo "$build_cache_root/csi/$1-$2-$key"; }
# built NAME VERSION: the tool is in the cache; it is (re)linked into the clone.
built() {
  [[ -x "$(store "$1" "$2")/$1" ]] || return 1
  link_outputs "$(store "$1" "$2")" "$root/.cache/csi/$1-$2"
}
if [[ "${1:-}" == "--check" ]]; then
  for t in "${tools[@]}"; do
    read -r name version _ <<<"$t"
    built "$name" "$version" || exit 1
  done
  exit 0
fi
command -v go >/dev/null || { echo "build-csi-tools: Go is required" >&2; exit 1; }
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-mod=mod ${CSI_BUILD_GOFLAGS:-}"
work=""
trap '[[ -n "$work" ]] && { chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"; }' EXIT

for t in "${tools[@]}"; do
  read -r name version pkg <<<"$t"
  if built "$name" "$version"; then
    echo "$name $version already built: $(store "$name" "$version")"
    continue
  fi
  dest="$(store "$name" "$version").new/$name"
  rm -rf "$(dirname "$dest")"
  mkdir -p "$(dirname "$dest")"
  start=$(date +%s)
  ldflags="-s -w -X main.version=$version"
  if [[ "$name" == csi-provisioner ]]; then
    module="${pkg%/cmd/*}"
    src="$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [[ -d "$src" ]] || { echo "build-csi-tools: the Go module proxy did not serve $module@$version" >&2; exit 1; }
    work="$(mktemp -d)"
    cp -r "$src/." "$work/"
    chmod -R u+w "$work"
    (cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$dest" "./cmd/$name")
    chmod -R u+w "$work"; rm -rf "$work"; work=""
  else
    GOBIN="$(dirname "$dest")" go install -trimpath -ldflags "$ldflags" "$pkg@$version"
  fi
  line="$name $version: $(( $(date +%s) - start )) s, $(du -m "$dest" | cut -f1) MB, $(nproc) cores, $(go version | cut -d' ' -f3)"
  echo "$line" | tee "$(dirname "$dest")/build.txt"
  # Into the cache in one step: a build killed part-way leaves no half store.
  rm -rf "$(store "$name" "$version")"
  mv -T "$(dirname "$dest")" "$(store "$name" "$version")"
  built "$name" "$version"
done
