# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: PVC creation to a pod Running with a file written into the volume, beside PVC creation to Bound.

One run starts three glusterd containers (tests/integration/glusterlab.py), a real Heketi server (mock executor,
its topology naming the containers by address), Kubernetes v1.25.15 (kube-apiserver, kube-controller-manager with
the in-tree glusterfs provisioner, kube-scheduler) and one real node (tools/kube/node.py: kubelet + containerd),
applies playbooks/storageclass.yml, then for each sample:

- creates a 1 GiB RWX claim and polls it (every 10 ms) until Bound: "bound";
- makes the volume Heketi recorded on the glusterd containers (the STAND-IN for Heketi's brick creation, which a
  real Heketi does before the claim is Bound): "stand-in", timed alone and left out of the pod figure;
- creates a pod (non-root, the busybox image) that mounts the claim, writes a file and prints "written", and
  polls the kubelet's log of it (every 10 ms) until that line: "pod" = creation of the claim to the file written,
  less the stand-in's time;
- deletes pod and claim and waits until the PV is gone.

With --csi the same on Kubernetes v1.37.2 through the CSI driver as the collection deploys it
(tests/integration/test_pods_csi.py's set-up: csi/deploy applied by playbooks/storageclass.yml, images made here),
on one node; the pod is created once the driver has annotated the PV with the volume's GID (counted).

It prints each sample, the medians and the ratio pod / bound (what the kubelet's mount and the pod's start add).
A script, not a test: nothing asserts a time.

    .venv/bin/python bench/pvc_pod.py              # 10 samples, in-tree on 1.25
    .venv/bin/python bench/pvc_pod.py --csi --count 3
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))
sys.path.insert(0, str(REPO_ROOT / "tools" / "kube"))

from glusterlab import BrickStandIn, StorageLab  # noqa: E402
from heketi_server import HeketiServer  # noqa: E402
from images import BUSYBOX_IMAGE  # noqa: E402
from kubenode import cluster, pod, wait_gone  # noqa: E402
from kubetest import NEW, OLD, run_play  # noqa: E402
from test_pods_csi import csi_cluster  # noqa: E402
from test_pods_intree import claim, topology  # noqa: E402

POLL = 0.01
NS = "default"


def sample(api, node, heketi, stand_in, storageclass: str, i: int) -> tuple[float, float, float]:
    name = "bench-%d-%d" % (os.getpid(), i)
    start = time.perf_counter()
    status, body = api.request("POST", "/api/v1/namespaces/%s/persistentvolumeclaims" % NS, claim(name, storageclass))
    assert status == 201, body
    path = "/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (NS, name)
    while True:
        pvc = api.request("GET", path)[1]
        if pvc["status"].get("phase") == "Bound":
            break
        if time.perf_counter() - start > 120:
            raise SystemExit("claim %s not Bound in 120 s" % name)
        time.sleep(POLL)
    bound = time.perf_counter() - start
    pv = api.request("GET", "/api/v1/persistentvolumes/" + pvc["spec"]["volumeName"])[1]
    t0 = time.perf_counter()
    stand_in.create_for(pv)
    standin = time.perf_counter() - t0
    while "pv.beta.kubernetes.io/gid" not in (api.request("GET", "/api/v1/persistentvolumes/" + pv["metadata"]["name"])[
            1]["metadata"].get("annotations") or {}):  # the CSI driver annotates it after Bound
        time.sleep(POLL)
    manifest = pod(name, "echo x > /data/f && echo written && sleep 3600", restart="Always", image=BUSYBOX_IMAGE,
                   volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": name}}],
                   mounts=[{"name": "data", "mountPath": "/data"}])
    status, body = api.request("POST", "/api/v1/namespaces/%s/pods" % NS, manifest)
    assert status == 201, body
    while "written" not in node.pod_log(NS, name):
        if time.perf_counter() - start > 300:
            raise SystemExit("pod %s wrote nothing in 300 s:\n%s" % (name, node.logs()))
        time.sleep(POLL)
    written = time.perf_counter() - start - standin
    api.request("DELETE", "/api/v1/namespaces/%s/pods/%s" % (NS, name))
    wait_gone(api, "/api/v1/namespaces/%s/pods/%s" % (NS, name))
    api.request("DELETE", path)
    wait_gone(api, "/api/v1/persistentvolumes/" + pv["metadata"]["name"])
    return bound, standin, written


def report(i: int, bound: float, standin: float, written: float) -> tuple[float, float, float]:
    print("sample %2d: PVC created -> Bound %7.3f s | -> pod Running, file written %7.3f s"
          " | stand-in (not counted) %6.3f s" % (i + 1, bound, written, standin), flush=True)
    return bound, standin, written


def summary(rows: list, version: str, count: int) -> None:
    med = [statistics.median(col) for col in zip(*rows)]
    print("median:    PVC created -> Bound %7.3f s | -> pod Running, file written %7.3f s | ratio pod/bound "
          "%.1fx | stand-in %6.3f s" % (med[0], med[2], med[2] / med[0], med[1]))
    print(json.dumps({"when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                      "kubernetes": version, "samples": count, "host": platform.node(),
                      "load": os.getloadavg()[0], "median_bound_s": round(med[0], 3),
                      "median_pod_written_s": round(med[2], 3), "median_stand_in_s": round(med[1], 3)}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--csi", action="store_true", help="Kubernetes 1.37 and the CSI driver")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-pvc-pod-"))
    if args.csi:
        with csi_cluster(workdir, nodes=1) as deployed:
            deployed["stand_in"].stop()  # this script makes each volume itself, timed apart
            stand_in = BrickStandIn(deployed["api"], deployed["heketi"], deployed["storage"])
            rows = [report(i, *sample(deployed["api"], deployed["lab"].node, deployed["heketi"], stand_in,
                                      deployed["names"]["storageclass_name"], i)) for i in range(args.count)]
            summary(rows, NEW, args.count)
        return 0
    storage = StorageLab(prefix="hd-benchpod").start()
    heketi = HeketiServer(workdir / "heketi").start()
    lab = None
    try:
        heketi.load(topology(storage.addresses))
        lab = cluster(OLD, workdir)
        names = {"storageclass_name": "bench", "storageclass_secret_name": "heketi-bench"}
        result = run_play(lab.api, heketi, names)
        if result.rc != 0:
            raise SystemExit("playbooks/storageclass.yml failed: %s" % result)
        stand_in = BrickStandIn(lab.api, heketi, storage)
        rows = [report(i, *sample(lab.api, lab.node, heketi, stand_in, "bench", i)) for i in range(args.count)]
        summary(rows, OLD, args.count)
    finally:
        if lab:
            lab.stop()
        heketi.kill()
        storage.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
