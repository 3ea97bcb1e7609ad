#!/usr/bin/env bash
# Run `ansible-test ARGS...` (e.g. `sanity`, `units`) on this collection, offline-safe.
#
# ansible-test needs the collection at a physical path .../ansible_collections/glusterfs/heketi (symlinks
# fail), so what git tracks (plus untracked, unignored files) is copied into a temporary tree first.
# With --venv it bootstraps pip from a get-pip script on Ansible's CI file host, which cannot be reached
# here: a stand-in in ~/.ansible/test/cache bootstraps pip with ensurepip and installs from PyPI instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
python_version="${ANSIBLE_TEST_PYTHON:-3.11}"
ansible_test="${ANSIBLE_TEST_BIN:-$venv/bin/ansible-test}"
# Outside the checkout: inside it, ansible-test would list files with the checkout's git and see
# none of the copy (.cache is ignored). Every run lays out a tree of its own (and removes it at the end):
# two lanes run this at the same time (the sanity stage and the 2.16 lane), and a shared tree was once replaced
# under a running ansible-test. ANSIBLE_TEST_TREE names a tree the caller owns (kept).
if [[ -n "${ANSIBLE_TEST_TREE:-}" ]]; then
  base="$ANSIBLE_TEST_TREE"
else
  base="$(mktemp -d "${TMPDIR:-/tmp}/glusterfs-heketi-ansible-test.XXXXXX")"
  trap 'rm -rf "$base"' EXIT
fi
tree="$base/ansible_collections/glusterfs/heketi"

# ansible-test keeps its sanity virtual environments in ~/.ansible/test/venv, and removes one it finds without
# its marker as "partially created": two ansible-test runs of different ansible-core versions can create one
# (the tests without requirements share a name) at the same time, and one removes the other's. So each
# ansible-core version gets a home of its own for ansible-test, in the build cache (kept, so the environments stay
# warm from run to run), with the user's pip settings linked in.
if [[ -z "${ANSIBLE_TEST_PREPARED:-}" && -z "${ANSIBLE_TEST_PREPARE_ONLY:-}" ]]; then
  # shellcheck source=tools/build-cache.sh
  . "$root/tools/build-cache.sh"
  core_version="$("$(dirname "$ansible_test")/python" -c 'import ansible.release; print(ansible.release.__version__)')"
  test_home="$build_cache_root/ansible-test-home/$core_version"
  mkdir -p "$test_home/.config" "$test_home/.cache" "$HOME/.cache/pip"
  for link in .config/pip .pip .cache/pip; do
    [[ -e "$HOME/$link" && ! -e "$test_home/$link" ]] && ln -s "$HOME/$link" "$test_home/$link"
  done
  export HOME="$test_home"
fi

# The pip version ansible-test bootstraps is named in its own data; write a stand-in for it (atomically:
# the other lane may be reading it).
pip_version="$("$(dirname "$ansible_test")/python" -c '
import pathlib, re, ansible_test
src = (pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
m = re.search(r"default_packages = dict\(\s*pip=.([0-9.]+).", src)
print(m.group(1) if m else "")')"
if [[ -n "$pip_version" ]]; then
  stand_in="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  mkdir -p "$(dirname "$stand_in")"
  cat > "$stand_in.$$" <<'PY'
"""Stand-in for get-pip.py: bootstrap pip with ensurepip, then install what ansible-test asked for."""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)
PY
  mv -f "$stand_in.$$" "$stand_in"
fi

# ANSIBLE_TEST_PREPARED=1: the tree is laid out already (tools/newest-core-lane.sh, in its container).
if [[ -n "${ANSIBLE_TEST_PREPARED:-}" ]]; then
  cd "$tree"
  exec "$ansible_test" "$@" --venv --python "$python_version" --color no
fi
mkdir -p "$tree"
# Without the committed self link collections/ansible_collections/glusterfs/heketi (a directory symlink
# back to the root: the copy is the collection itself here).
(cd "$root" && git ls-files -z -co --exclude-standard | grep -zv '^collections/ansible_collections/' \
  | tar --null -T - -cf - | tar -xf - -C "$tree")
# ANSIBLE_TEST_PREPARE_ONLY=1: lay out the tree and stop (tools/newest-core-lane.sh runs it in a container).
[[ -z "${ANSIBLE_TEST_PREPARE_ONLY:-}" ]] || exit 0
cd "$tree"
"$ansible_test" "$@" --venv --python "$python_version" --color no
