#!/usr/bin/env bash
# Build the real Heketi server and heketi-cli from the Go module proxy, once, for the tests.
#
# The collection deploys Heketi 10.4.1 (the last release). The Go module proxy reachable here refuses
# github.com/heketi/heketi/v10@v10.4.1 and v10.4.0 ("403 This module version is not available"), so the
# tests build v10.3.0+incompatible, the newest version it serves, with the same REST API, JWT auth and
# topology-load code. v10.3.0 predates Go modules (glide), so tools/heketi-build/go.mod pins its
# dependencies to versions the proxy serves, at the API levels glide.lock names (client-go 0.17).
# The binaries are kept in the build cache outside the clone (tools/build-cache.sh), keyed by the version
# and this script with its go.mod/go.sum, and hard-linked into .cache/heketi/bin; a rerun with them present
# only links them.
set -euo pipefail
version="${HEKETI_BUILD_VERSION:-v10.3.0+incompatible}"
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=tools/build-cache.sh
. "$root/tools/build-cache.sh"
dest="${HEKETI_BIN_DIR:-$root/.cache/heketi/bin}"
store="$build_cache_root/heketi/$version-$(build_key "$0" "$root/tools/heketi-build/go.mod" "$root/tools/heketi-build/go.sum")/bin"
if [[ -x "$store/heketi" && -x "$store/heketi-cli" ]]; then
  link_outputs "$store" "$dest"
  echo "heketi already built in $store: $("$dest/heketi" --version)"
  exit 0
fi
command -v go >/dev/null || { echo "build-heketi: Go is required" >&2; exit 1; }
export GOFLAGS="-mod=mod" CGO_ENABLED=0 GOTOOLCHAIN=local
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
src="$(go mod download -json "github.com/heketi/heketi@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -d "$src" ]] || { echo "build-heketi: the Go module proxy did not serve github.com/heketi/heketi@$version" >&2; exit 1; }
cp -r "$src/." "$work/"
chmod -R u+w "$work"
cp "$root/tools/heketi-build/go.mod" "$root/tools/heketi-build/go.sum" "$work/"
plain="${version#v}"; plain="${plain%+incompatible}"
mkdir -p "$work/out"
(cd "$work" && go build -trimpath -ldflags "-s -w -X main.HEKETI_VERSION=$plain" -o "$work/out/heketi" .)
(cd "$work" && go build -trimpath -ldflags "-s -w -X main.HEKETI_CLI_VERSION=$plain" -o "$work/out/heketi-cli" ./client/cli/go)
# Into the cache in one step: a build killed part-way leaves no half store.
mkdir -p "$(dirname "$store")"
rm -rf "$store.new" "$store" && mv "$work/out" "$store.new" && mv -T "$store.new" "$store"
link_outputs "$store" "$dest"
"$dest/heketi" --version
"$dest/heketi-cli" --version
