#!/usr/bin/env bash
# Build the real kube-apiserver from the k8s.io/kubernetes Go module, once, for the storageclass tests.
#
# No kube-apiserver binary can be downloaded here, but the Go module proxy serves k8s.io/kubernetes and
# its staging modules (k8s.io/api, k8s.io/apimachinery, ...). k8s.io/kubernetes' own go.mod points the
# staging modules at ./staging/src/k8s.io/*, which a dependency cannot use, so this script follows the
# procedure the Kubernetes project documents for using k8s.io/kubernetes as a dependency
# (kubernetes/kubernetes#79384, "Using k8s.io/kubernetes as a library"): a throw-away module requires
# k8s.io/kubernetes vX and carries one `replace k8s.io/<staging> => k8s.io/<staging> v0.<minor>.<patch>`
# for every staging module named in that go.mod, plus the other replace pins of that go.mod (older
# releases pin their whole dependency graph that way). Then `go build k8s.io/kubernetes/cmd/kube-apiserver`.
#
# Versions: KUBE_VERSIONS (default "v1.25.15 v1.37.2": the in-tree-glusterfs era and the newest release the
# proxy serves). v1.25.15, not v1.25.16: the proxy here refuses the v0.25.16 zips of staging modules the
# apiserver imports ("k8s.io/cluster-bootstrap@v0.25.16: reading
# <the Go module proxy>/k8s.io/cluster-bootstrap/@v/v0.25.16.zip: 403 Forbidden / This module version is
# not available"; likewise controller-manager, kube-controller-manager, kube-proxy), and serves all of v0.25.15.
# Binaries are kept in the build cache outside the clone (tools/build-cache.sh), keyed by the version and this
# script, and hard-linked into .cache/kube/<version>/bin; a version whose binaries are in the cache is only
# linked. The build time and the peak memory of every build are printed and written to build-<kind>.txt beside
# them (kind: cmds, or e2e for --e2e).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
versions="${KUBE_VERSIONS:-v1.25.15 v1.37.2}"
# The commands each version needs, built in one `go build` (one compile of the packages they share):
# kube-controller-manager, kube-scheduler and the kubelet beside the apiserver, for every version (the kubelet
# and the scheduler run the pods of the tests' Kubernetes node, tools/kube/node.py). Up to 1.25 the in-tree glusterfs
# provisioner runs inside it; from 1.26 the CSI tests need its persistent-volume binder (only it binds a
# claim to the PV csi-provisioner made, and reclaims a released PV) and the PVC/PV protection controllers.
components() {
  echo kube-apiserver kube-controller-manager kube-scheduler kubelet
}
# shellcheck source=tools/build-cache.sh
. "$root/tools/build-cache.sh"
# --e2e: build Kubernetes' storage e2e suite instead (e2e.test, `go test -c k8s.io/kubernetes/test/e2e`), for
# KUBE_E2E_VERSIONS (default v1.37.2), in a throw-away module like the commands', after them: it reuses the
# packages their build compiled (tools/background-builds.sh runs it as the build "e2e", once "kube" is done).
kind=cmds
if [[ "${1:-}" == "--e2e" ]]; then
  kind=e2e
  versions="${KUBE_E2E_VERSIONS:-v1.37.2}"
  shift
fi
if [[ "$kind" == e2e ]]; then components() { echo e2e.test; }; fi
key="$(build_key "$0")"
store() { echo "$build_cache_root/kube/$1-$kind-$key"; }
# built VERSION: its binaries are in the cache; they are (re)linked into the clone.
built() {
  local c
  for c in $(components "$1"); do [[ -x "$(store "$1")/bin/$c" ]] || return 1; done
  link_outputs "$(store "$1")" "$root/.cache/kube/$1"
}
# --check: exit 0 when every version is built already (and linked into the clone), 1 otherwise; builds nothing.
if [[ "${1:-}" == "--check" ]]; then
  for version in $versions; do
    built "$version" || exit 1
  done
  exit 0
fi
command -v go >/dev/null || { echo "build-kube-apiserver: Go is required" >&2; exit 1; }
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-mod=mod ${KUBE_BUILD_GOFLAGS:-}"

workdirs=()
cleanup() {
  local d
  for d in "${workdirs[@]}"; do chmod -R u+w "$d" 2>/dev/null; rm -rf "$d"; done
}
trap cleanup EXIT

build_one() {
  local version="$1" dest work modfile minor staging_ver c
  local -a cmds pkgs
  read -ra cmds <<<"$(components "$version")"
  if built "$version"; then
    echo "${cmds[*]} $version already built in $(store "$version")"
    return 0
  fi
  dest="$(store "$version").new"
  rm -rf "$dest"
  mkdir -p "$dest/bin"
  work="$(mktemp -d)"
  workdirs+=("$work")
  modfile="$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [[ -f "$modfile" ]] || { echo "build-kube-apiserver: the Go module proxy did not serve k8s.io/kubernetes@$version" >&2; return 1; }
  minor="${version#v1.}"
  staging_ver="v0.$minor"
  # The checksum database (reached through the proxy) answers 404 for some staging versions the proxy
  # serves, e.g. "verifying module: k8s.io/component-helpers@v0.25.15: reading
  # <the Go module proxy>/sumdb/sum.golang.org/lookup/k8s.io/component-helpers@v0.25.15: 404 Not Found"
  # (also cloud-provider, cluster-bootstrap, kubelet, legacy-cloud-providers, mount-utils,
  # pod-security-admission). Those staging modules alone skip the checksum database; they still come
  # from the Go module proxy over TLS. Every other module is verified as usual.
  local nosum
  nosum="$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._/-]*\) => ./staging/src/k8s\.io/.*$#\1#p' "$modfile" | paste -sd, -)"
  export GONOSUMDB="$nosum"
  {
    echo "module kubebuild.local/kube-apiserver"
    echo
    sed -n 's/^go \([0-9.]*\)$/go \1/p' "$modfile"
    echo
    echo "require k8s.io/kubernetes $version"
    echo
    echo "replace ("
    # Staging modules: ./staging/src/k8s.io/X -> k8s.io/X v0.<minor>.<patch>.
    sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._/-]*\) => ./staging/src/k8s\.io/.*$#\t\1 => \1 '"$staging_ver"'#p' "$modfile"
    # Every other replace pin of the release (older releases pin their whole graph that way).
    sed -n '/^replace (/,/^)/p' "$modfile" | grep -v -e '^replace (' -e '^)' -e './staging/' || true
    echo ")"
  } >"$work/go.mod"
  cat >"$work/tools.go" <<'EOF'
//go:build tools

package tools
EOF
  local ldflags pkg
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*}"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$work/out"
  local start end
  start="$(date +%s)"
  if [[ "$kind" == e2e ]]; then
    (
      cd "$work"
      go get "k8s.io/kubernetes/test/e2e@$version"
      /usr/bin/time -v -o "$work/time.txt" \
        go test -c -trimpath -ldflags "$ldflags" -o "$work/out/e2e.test" k8s.io/kubernetes/test/e2e
    )
  else
    for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
    (
      cd "$work"
      for c in "${pkgs[@]}"; do go get "$c@$version"; done
      /usr/bin/time -v -o "$work/time.txt" \
        go build -trimpath -ldflags "$ldflags" -o "$work/out/" "${pkgs[@]}"
    )
  fi
  end="$(date +%s)"
  for c in "${cmds[@]}"; do mv "$work/out/$c" "$dest/bin/$c"; done
  {
    echo "version: $version (${cmds[*]})"
    echo "go: $(go version)"
    echo "seconds: $((end - start))"
    echo "cores: $(nproc)"
    grep -E 'Maximum resident set size|Elapsed' "$work/time.txt" || true
  } | tee "$dest/build-$kind.txt"
  [[ "$kind" == e2e ]] || for c in "${cmds[@]}"; do "$dest/bin/$c" --version; done
  # Into the cache in one step: a build killed part-way leaves no half store.
  rm -rf "$(store "$version")"
  mv -T "$dest" "$(store "$version")"
  built "$version"
}

for v in $versions; do
  build_one "$v"
done
