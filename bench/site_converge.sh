#!/usr/bin/env bash
# Wall time of the first converge of site.yml on a fresh container lab (4 storage nodes with
# /dev/sdf and /dev/sdg, Heketi on node1, one client), and of the idempotent rerun right after it.
# Prints both times, their ratio, the time per role (ansible.posix.profile_roles) and the slowest tasks
# (ansible.posix.profile_tasks), and fails when the rerun is not changed=0. The lab is removed at the end;
# BENCH_KEEP_LOGS=DIR keeps both runs' logs there.
#   bench/site_converge.sh            (lab name: BENCH_LAB_NAME, default ghbench)
set -euo pipefail
# shellcheck source=bench/lab_bench.sh
. "$(dirname "$0")/lab_bench.sh"
bench_setup ghbench

tools/lab/lab up --name "$name" --nodes 4 --client >/dev/null
export LAB_NAME="$name" ANSIBLE_NOCOLOR=1 ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_roles,ansible.posix.profile_tasks

run() { timed "$1" ansible-playbook site.yml -i inventories/local; }

first=$(run "$work/first.log")
rerun=$(run "$work/rerun.log")
grep -E '^node[0-9]+ +:' "$work/rerun.log" | grep -v 'changed=0' && { echo "rerun was not idempotent" >&2; exit 1; }

echo "site.yml on lab $name (4 storage nodes x 2 devices, Heketi ssh executor; Ansible over ssh with pipelining), $(nproc) CPUs"
echo "first converge: ${first} s"
echo "idempotent rerun: ${rerun} s (changed=0 on every host)"
awk -v a="$first" -v b="$rerun" 'BEGIN { printf "ratio rerun/first: %.2f (first/rerun: %.2f)\n", b / a, a / b }'
roles() { sed -n '/^=\{10,\}/,$p' "$1" | grep -E ' -+ [0-9.]+s$' | grep -v ' : ' | grep -v '^Gathering Facts' | sed 's/^/  /'; }
echo "time per role, first converge:"
roles "$work/first.log"
echo "time per role, rerun:"
roles "$work/rerun.log"
echo "tasks run, first converge / rerun: $(grep -c '^TASK' "$work/first.log") / $(grep -c '^TASK' "$work/rerun.log")"
echo "slowest tasks, rerun (ansible.posix.profile_tasks):"
grep -E ' : .* -+ [0-9.]+s$' "$work/rerun.log" | head -25 | sed 's/^/  /'
if [[ -n "${BENCH_KEEP_LOGS:-}" ]]; then cp "$work/first.log" "$work/rerun.log" "$BENCH_KEEP_LOGS"/; fi
