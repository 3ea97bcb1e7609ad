#!/usr/bin/env bash
# Create .venv with the pinned controller toolchain (requirements.txt), or with `tools/venv.sh core216`
# .venv-core216 for the ansible-core 2.16 lane (requirements-core216.txt), and expose this checkout as
# the collection glusterfs.heketi (a symlink under .cache/collections) so FQCNs resolve to the working tree.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lane="${1:-}"
venv="$root/.venv${lane:+-$lane}"
requirements="$root/requirements${lane:+-$lane}.txt"
[[ -f "$requirements" ]] || { echo "venv: no $requirements for lane '$lane'" >&2; exit 2; }
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -r "$requirements"
  echo "$want" > "$stamp"
fi
link_dir="$root/.cache/collections/ansible_collections/glusterfs"
mkdir -p "$link_dir"
ln -sfn "$root" "$link_dir/heketi"
echo "venv ready: $venv ($("$venv/bin/ansible" --version | sed -n 1p))"
