#!/usr/bin/env bash
# The CSI node plugin, before and after issue 20, side by side on one container lab (csi/test/lab/bench_test.go):
# FUSE client processes and their memory for 1, 10 and 30 pods of one volume (one mount per pod, as before
# staging, against NodeStageVolume once and a bind per pod), and what a writer through a pod's target sees while
# the node plugin is killed and started again (--mounter=container, the model before, against --mounter=host).
# Builds the driver's image first (make csi-image). Prints Markdown tables; asserts nothing.
#   bench/csi_node.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=tools/build-cache.sh
. "$root/tools/build-cache.sh"
# CSI_IMAGE: the image tag to build and run (make csi-image's default otherwise).
export CSI_IMAGE="${CSI_IMAGE:-glusterfs-heketi/heketi-csi:dev}"
make -s -C "$root" csi-image CSI_IMAGE="$CSI_IMAGE"
cd "$root/csi"
HEKETI_CSI_BENCH=1 GOTOOLCHAIN=auto GOFLAGS=-mod=mod CGO_ENABLED=0 \
  go test -tags lab -count=1 -v -run TestNodeBench -timeout 25m ./test/lab/ | grep -E '^(\||[A-Z])'
