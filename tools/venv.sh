#!/usr/bin/env bash
# Create .venv with the pinned controller toolchain (test-requirements.txt), or with `tools/venv.sh core216`
# .venv-core216 for the ansible-core 2.16 lane (test-requirements-core216.txt). The checkout is the
# collection glusterfs.heketi through the committed link collections/ansible_collections/glusterfs/heketi.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lane="${1:-}"
venv="$root/.venv${lane:+-$lane}"
requirements="$root/test-requirements${lane:+-$lane}.txt"
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
echo "venv ready: $venv ($("$venv/bin/ansible" --version | sed -n 1p))"
