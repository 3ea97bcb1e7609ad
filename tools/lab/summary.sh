#!/usr/bin/env bash
# Print what the lab runs after `make lab`: containers, disks, glusterd and the trusted pool on each
# storage node, and Heketi's topology on node1 when Heketi is installed there (per node: zone, state, devices
# with their state, size and free space). Read-only.
# Usage: tools/lab/summary.sh [NAME]   (default ghlab)
set -uo pipefail
name="${1:-ghlab}"
here="$(cd "$(dirname "$0")" && pwd)"

"$here/lab" status --name "$name"
state="$(cd "$here/../.." && pwd)/.cache/lab/$name/state"
[[ -f "$state" ]] || exit 0

# Heketi's topology as a person reads it: per cluster, each node (manage name, zone, state) and each device
# (path, state, size, free), sizes in GiB. Runs in the container's python3 on `heketi-cli topology info --json`.
TOPOLOGY_TABLE='
import json, sys
text = sys.stdin.read()
try:
    topology = json.loads(text)
except ValueError:
    print("  " + text.strip().replace("\n", "\n  "))
    sys.exit(0)
gib = lambda kib: "%.1f GiB" % (int(kib or 0) / 1048576.0)
clusters = topology.get("clusters") or []
if not clusters:
    print("  no cluster: the topology is not loaded")
for cluster in clusters:
    print("  cluster %s: %d node(s), %d volume(s)" % (cluster["id"][:8], len(cluster.get("nodes") or []),
                                                   len(cluster.get("volumes") or [])))
    print("    %-10s %-5s %-8s %-10s %-8s %10s %10s" % ("node", "zone", "state", "device", "state", "size", "free"))
    for node in sorted(cluster.get("nodes") or [], key=lambda n: n["hostnames"]["manage"][0]):
        name = node["hostnames"]["manage"][0]
        devices = sorted(node.get("devices") or [], key=lambda d: d["name"]) or [None]
        for index, dev in enumerate(devices):
            head = (name, str(node.get("zone")), node.get("state", "")) if index == 0 else ("", "", "")
            if dev is None:
                print("    %-10s %-5s %-8s (no device)" % head)
                continue
            storage = dev.get("storage") or {}
            print("    %-10s %-5s %-8s %-10s %-8s %10s %10s" % (head + (dev["name"], dev.get("state", ""),
                  gib(storage.get("total")), gib(storage.get("free")))))
'

mapfile -t nodes < <(awk '$1 == "container" && $2 ~ /-node[0-9]+$/ {print $2}' "$state")
for c in "${nodes[@]}"; do
  echo "== $c"
  docker exec "$c" bash -c '
    printf "  glusterd: %s/%s\n" "$(systemctl is-active glusterd 2>/dev/null)" "$(systemctl is-enabled glusterd 2>/dev/null)"
    for d in /dev/sdf /dev/sdg; do
      printf "  %s: %s\n" "$d" "$( [ -b "$d" ] && echo "block device" || echo missing)"
    done
    if command -v pvs >/dev/null; then pvs --noheadings -o pv_name,vg_name 2>/dev/null | sed "s/^ */  pv: /"; fi' || true
done
if [[ ${#nodes[@]} -gt 0 ]]; then
  echo "== trusted pool (from ${nodes[0]})"
  docker exec -e LC_ALL=C "${nodes[0]}" gluster --mode=script pool list 2>&1 | sed 's/^/  /' || true
  echo "== heketi (on ${nodes[0]})"
  docker exec "${nodes[0]}" bash -c '
    if ! systemctl cat heketi >/dev/null 2>&1; then echo "  not installed"; exit 0; fi
    printf "  service: %s\n" "$(systemctl is-active heketi)"
    if [ -r /etc/heketi/heketi-cli.env ] && command -v heketi-cli >/dev/null; then
      set -a; . /etc/heketi/heketi-cli.env; set +a
      heketi-cli topology info --json 2>&1 | python3 -c "$1"
    fi' _ "$TOPOLOGY_TABLE" || true
fi

cat <<NEXT
== next
  In a new shell, put the tools on PATH first (ansible-playbook, ansible-doc, heketi-cli is in the container):
    . .venv/bin/activate
  heketi-cli on node1, the key read from the root-only env file (nothing to retype):
    docker exec -it $name-node1 bash -c 'set -a; . /etc/heketi/heketi-cli.env; set +a; heketi-cli topology info'
  Kubernetes: the manifests are in .cache/lab/$name/storageclass (README.txt there says how to apply them;
    make lab-down removes them with the lab), or
    make lab KUBECONFIG=/path/to/kubeconfig    applies the Secret and the StorageClass to that cluster.
  Volumes cannot be created in this lab (its kernel has no device-mapper); on real hosts:
    ansible localhost -m glusterfs.heketi.heketi_volume -a 'name=smoke size=1'   (HEKETI_CLI_* set)
  Remove the lab: make lab-down
NEXT
