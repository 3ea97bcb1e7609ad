#!/usr/bin/env bash
# The GlusterFS collector's cost per run on a storage node (issue 22): CPU seconds (user+system, with its gluster
# children) and peak resident memory of one run, at 1, 10 and 50 replica-3 volumes, each volume on 64 MiB tmpfs
# bricks made directly in GlusterFS (gluster volume create ... force; the lab cannot create LVM thin volumes).
# Brick multiplexing on (cluster.brick-multiplex), so that 150 bricks are a few processes per node. Runs on a kept
# monitoring lab (node1..node3 in one pool, the collector installed):
#   MONITORING_KEEP_LAB=1 MONITORING_LAB_NAME=ghmonbench .venv/bin/pytest -q tests/integration/test_monitoring_lab.py -k deployed
#   bench/monitoring_collector.sh ghmonbench        (then: tools/lab/lab down --name ghmonbench)
# Prints one row per volume count (every volume of the pool, the lab's own included; start on a lab without bench*
# volumes): median of BENCH_ROUNDS runs (default 3) on node1, and the ratio to the first row. node1 reads the
# self-heal backlog of the volumes the hash gives it (about a third here), as each node does under its timer.
set -euo pipefail
lab="$1"
rounds="${BENCH_ROUNDS:-3}"
on() { local node="$1"; shift; docker exec "$lab-node$node" sh -c "$*"; }
for n in 1 2 3; do
  on "$n" "mountpoint -q /bricks || { mkdir -p /bricks && mount -t tmpfs -o size=4g tmpfs /bricks; }"
done
on 1 "gluster --mode=script volume set all cluster.brick-multiplex on >/dev/null"
measure='import resource, subprocess, sys, time
t = time.time()
subprocess.run(sys.argv[1:], check=True, stderr=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f %d %.3f" % (r.ru_utime + r.ru_stime, r.ru_maxrss, time.time() - t))'
have=0
echo "| volumes | CPU s per run | peak RSS MiB | wall s | CPU ratio to 1 volume |"
echo "|---:|---:|---:|---:|---:|"
base=""
for want in 1 10 50; do
  while ((have < want)); do
    have=$((have + 1))
    v="bench$have"
    for n in 1 2 3; do on "$n" "mkdir -p /bricks/$v"; done
    on 1 "gluster volume info $v >/dev/null 2>&1 || { gluster --mode=script volume create $v replica 3 node1:/bricks/$v node2:/bricks/$v node3:/bricks/$v force >/dev/null && gluster --mode=script volume start $v >/dev/null; }"
  done
  rows=()
  for _ in $(seq 1 "$rounds"); do
    rows+=("$(docker exec "$lab-node1" python3 -c "$measure" python3 \
      /usr/local/lib/glusterfs-metrics/glusterfs_metrics_collector.py --output /tmp/bench.prom)")
  done
  median="$(printf '%s\n' "${rows[@]}" | sort -n | sed -n "$(((rounds + 1) / 2))p")"
  read -r cpu rss wall <<<"$median"
  volumes="$(docker exec "$lab-node1" grep -c '^glusterfs_volume_started' /tmp/bench.prom)"
  base="${base:-$cpu}"
  awk -v v="$volumes" -v c="$cpu" -v r="$rss" -v w="$wall" -v b="$base" \
    'BEGIN { printf "| %d | %.3f | %.1f | %.2f | %.1f× |\n", v, c, r / 1024, w, c / b }'
done
