#!/usr/bin/env bash
# Make the execution environment's build context (ansible-builder create: offline, no container engine):
# build the collection tarball, put it beside execution-environment/execution-environment.yml as
# glusterfs-heketi.tar.gz, and write the context (Containerfile, _build/) into DIR.
#
#   tools/ee-context.sh [DIR]        (default: execution-environment/context)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
ee="$root/execution-environment"
context="${1:-$ee/context}"
bin="$root/.venv/bin"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$bin/ansible-galaxy" collection build --force --output-path "$out" "$root" >/dev/null
mv "$out"/glusterfs-heketi-*.tar.gz "$ee/glusterfs-heketi.tar.gz"
"$bin/ansible-builder" create -f "$ee/execution-environment.yml" --context "$context" --output-filename Containerfile
echo "build context: $context"
