#!/usr/bin/env bash
# govulncheck on the CSI driver (csi/), offline: the Go vulnerability database is built from the
# golang.org/x/vulndb module of the Go module proxy (its data/osv entries, indexed by the module's own
# cmd/indexdb), since the database's web host cannot be reached here. Tools and database live in the build cache
# outside the clone (tools/build-cache.sh), keyed by the vulndb version below; bump it to check against newer
# entries. Exit 0 when govulncheck finds no vulnerability the driver's code reaches.
#   tools/csi-vulncheck.sh [VULNDB_VERSION]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=tools/build-cache.sh
. "$root/tools/build-cache.sh"
vulndb="${1:-v0.0.0-20261105234957-e22db6528018}"
govulncheck_version=v1.10.0
dest="$build_cache_root/govulncheck/$govulncheck_version-$vulndb"
export GOFLAGS=-mod=mod CGO_ENABLED=0
if [[ ! -x "$dest/bin/govulncheck" || ! -f "$dest/db/index/db.json" ]]; then
  rm -rf "$dest.new"
  mkdir -p "$dest.new/bin"
  GOTOOLCHAIN=local GOBIN="$dest.new/bin" go install "golang.org/x/vuln/cmd/govulncheck@$govulncheck_version"
  GOTOOLCHAIN=local GOBIN="$dest.new/bin" go install "golang.org/x/vulndb/cmd/indexdb@$vulndb"
  src="$(GOTOOLCHAIN=local go mod download -json "golang.org/x/vulndb@$vulndb" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  "$dest.new/bin/indexdb" -vulns "$src/data/osv" -out "$dest.new/db"
  rm -rf "$dest" && mv "$dest.new" "$dest"
fi
# The module's toolchain line (GOTOOLCHAIN=auto) decides the standard library govulncheck checks.
cd "$root/csi" && GOTOOLCHAIN=auto "$dest/bin/govulncheck" -db "file://$dest/db" ./...
