#!/usr/bin/env bash
# The ansible-core 2.16 lane, kept lean: ansible-test sanity, the unit tests, --syntax-check of every
# playbook, and one Debian converge of glusterfs_server on a one-node lab with its idempotence check.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 1
venv="$root/.venv-core216"
[[ -x "$venv/bin/ansible-playbook" ]] || tools/venv.sh core216 || exit 1
export ANSIBLE_COLLECTIONS_PATH="$root/collections" ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
"$venv/bin/ansible" --version | sed -n 1p
lab=core216
rc=0
step() { echo "--- core216: $*"; }

step "ansible-test sanity"
ANSIBLE_TEST_BIN="$venv/bin/ansible-test" tools/ansible-test.sh sanity || rc=1

step "unit tests"
"$venv/bin/pytest" -q tests/unit || rc=1

step "syntax check of every playbook"
for playbook in site.yml playbooks/*.yml; do
  "$venv/bin/ansible-playbook" --syntax-check -i inventories/local "$playbook" >/dev/null || { echo "syntax check failed: $playbook"; rc=1; }
done

step "converge glusterfs_server on Debian, twice"
trap 'tools/lab/lab down --name "$lab" >/dev/null 2>&1' EXIT
if inventory="$(tools/lab/lab up --name "$lab" --nodes 1)"; then
  converge() { "$venv/bin/ansible-playbook" -i "$inventory" playbooks/glusterfs_servers.yml; }
  if converge && second="$(converge)"; then
    echo "$second" | tail -4
    # Idempotence: the second run's recap must show changed=0 on every host.
    if echo "$second" | grep -E '^\S+\s+: ok=' | grep -vq 'changed=0'; then
      echo "idempotence failed on ansible-core 2.16: the second converge changed something"; rc=1
    fi
  else
    rc=1
  fi
else
  rc=1
fi
exit "$rc"
