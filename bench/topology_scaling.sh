#!/usr/bin/env bash
# The topology stage at 4 and at 8 storage nodes, on one 8-node container lab reached over ssh.
# GlusterFS and Heketi are converged on all 8 nodes first (not timed); then, alternating so both sizes
# see the same machine load, ROUNDS times each:
#   preflight  playbooks/topology.yml --tags topology_preflight (topology model, device facts from every
#              node, ssh reach check from the Heketi host, device verdict; nothing loaded)
#   stage      playbooks/topology.yml (the whole stage; the first 8-node run loads the topology, not
#              timed, so every timed run is the idempotent reload)
# An inventory of 4 uses node1..4 of the same lab. Both are run with this tree ("new") and with the
# topology stage of BENCH_BASE (default main, from `git archive`: "base"; its device checks are a
# serial delegate loop), side by side in the same rounds. Prints the medians and the ratio 8/4.
# The 8 containers exist only for this script: the lab is removed at the end (also on failure).
#   bench/topology_scaling.sh        (BENCH_LAB_NAME, default ghtopobench; BENCH_ROUNDS, default 3)
set -euo pipefail
# shellcheck source=bench/lab_bench.sh
. "$(dirname "$0")/lab_bench.sh"
bench_setup ghtopobench
rounds="${BENCH_ROUNDS:-3}"
base_ref="${BENCH_BASE:-main}"

lab_inventory="$(tools/lab/lab up --name "$name" --nodes 8 2>/dev/null | tail -n 1)"
export ANSIBLE_NOCOLOR=1

# The lab's own inventory (ssh, 8 storage nodes) and a copy of it with node5..8 left out.
python3 - "$lab_inventory" "$work/inv4.yml" <<'PY'
import sys, yaml
data = yaml.safe_load(open(sys.argv[1]))
hosts = data["all"]["children"]["glusterfs_servers"]["hosts"]
for n in range(5, 9):
    hosts.pop("node%d" % n)
yaml.safe_dump(data, open(sys.argv[2], "w"))
PY
cat >"$work/vars.json" <<JSON
{"heketi_binaries_src": "$root/.cache/heketi/bin", "topology_devices": ["/dev/sdf", "/dev/sdg"],
 "topology_manage": "{{ inventory_hostname }}"}
JSON

mkdir "$work/base"
git archive "$base_ref" | tar -x -C "$work/base"
declare -A tree=([new]="$root" [base]="$work/base")

play() {  # play TREE LOG INVENTORY PLAYBOOK [ARGS...]: prints the wall time in seconds
  local dir="${tree[$1]}" log="$2" inv="$3" pb="$4"
  shift 4
  (cd "$dir" && ANSIBLE_CONFIG="$dir/ansible.cfg" timed "$log" ansible-playbook "$pb" -i "$inv" -e "@$work/vars.json" "$@")
}

setup=$(play new "$work/setup.log" "$lab_inventory" site.yml --tags glusterfs_servers,heketi)
load=$(play new "$work/load.log" "$lab_inventory" playbooks/topology.yml)
declare -A times=()
for ((r = 1; r <= rounds; r++)); do
  for t in new base; do
    for n in 4 8; do
      inv="$lab_inventory"; [[ $n -eq 4 ]] && inv="$work/inv4.yml"
      times[$t.pre$n]+="$(play "$t" "$work/$t.pre$n.$r.log" "$inv" playbooks/topology.yml --tags topology_preflight) "
      times[$t.stage$n]+="$(play "$t" "$work/$t.stage$n.$r.log" "$inv" playbooks/topology.yml) "
    done
  done
done
# (Every timed stage run rewrites /etc/heketi/topology.json, since the 4- and 8-node runs alternate; the
# load itself changes nothing in Heketi: all 8 nodes are there from the untimed first load.)

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "topology stage on lab $name over ssh, $(nproc) CPUs, 2 devices per node, $rounds rounds alternating 4 and 8"
echo "not timed: GlusterFS + Heketi on 8 nodes ${setup} s, first load of 8 nodes ${load} s"
for t in new base; do
  for part in pre stage; do
    m4=$(median <<<"${times[$t.${part}4]}"); m8=$(median <<<"${times[$t.${part}8]}")
    label="$t ($([[ $t == new ]] && echo this tree || echo "$base_ref")), preflight"
    [[ $part == stage ]] && label="${label%, preflight}, whole stage (reload)"
    printf '%-40s 4 nodes: %6.2f s [%s]  8 nodes: %6.2f s [%s]  ratio 8/4: %.2f\n' "$label" "$m4" \
      "${times[$t.${part}4]% }" "$m8" "${times[$t.${part}8]% }" "$(awk -v a="$m8" -v b="$m4" 'BEGIN { print a / b }')"
  done
done
