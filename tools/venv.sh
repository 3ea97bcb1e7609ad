#!/usr/bin/env bash
# Create .venv with the pinned controller toolchain, and expose this checkout as the collection
# glusterfs.heketi (a symlink under .cache/collections) so FQCNs resolve to the working tree.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$root/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -r "$root/requirements.txt"
  echo "$want" > "$stamp"
fi
link_dir="$root/.cache/collections/ansible_collections/glusterfs"
mkdir -p "$link_dir"
ln -sfn "$root" "$link_dir/heketi"
echo "venv ready: $venv ($("$venv/bin/ansible" --version | head -1))"
