#!/usr/bin/env bash
# Build the real Heketi server and heketi-cli from the Go module proxy, once, for the tests.
#
# The collection deploys Heketi 10.4.1 (the last release). The Go module proxy reachable here refuses
# github.com/heketi/heketi/v10@v10.4.1 and v10.4.0 ("403 This module version is not available"), so the
# tests build v10.3.0+incompatible, the newest version it serves, with the same REST API, JWT auth and
# topology-load code. v10.3.0 predates Go modules (glide), so tools/heketi-build/go.mod pins its
# dependencies to versions the proxy serves, at the API levels glide.lock names (client-go 0.17).
# The binaries are cached in .cache/heketi/<version>/bin; a rerun with them present does nothing.
set -euo pipefail
version="${HEKETI_BUILD_VERSION:-v10.3.0+incompatible}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${HEKETI_BIN_DIR:-$root/.cache/heketi/bin}"
if [[ -x "$dest/heketi" && -x "$dest/heketi-cli" ]]; then
  echo "heketi already built in $dest: $("$dest/heketi" --version)"
  exit 0
fi
command -v go >/dev/null || { echo "build-heketi: Go is required" >&2; exit 1; }
export GOPATH="${GOPATH_CACHE:-$root/.cache/go}" GOFLAGS="-mod=mod" CGO_ENABLED=0 GOTOOLCHAIN=local
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
src="$(go mod download -json "github.com/heketi/heketi@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -d "$src" ]] || { echo "build-heketi: the Go module proxy did not serve github.com/heketi/heketi@$version" >&2; exit 1; }
cp -r "$src/." "$work/"
chmod -R u+w "$work"
cp "$root/tools/heketi-build/go.mod" "$root/tools/heketi-build/go.sum" "$work/"
plain="${version#v}"; plain="${plain%+incompatible}"
mkdir -p "$dest"
(cd "$work" && go build -trimpath -ldflags "-s -w -X main.HEKETI_VERSION=$plain" -o "$dest/heketi.new" .)
(cd "$work" && go build -trimpath -ldflags "-s -w -X main.HEKETI_CLI_VERSION=$plain" -o "$dest/heketi-cli.new" ./client/cli/go)
mv "$dest/heketi.new" "$dest/heketi"
mv "$dest/heketi-cli.new" "$dest/heketi-cli"
"$dest/heketi" --version
"$dest/heketi-cli" --version
