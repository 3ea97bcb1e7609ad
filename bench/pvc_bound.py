# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: time from PVC creation to Bound through the real kube-controller-manager, and what of it is Heketi.

One run starts kube-apiserver + kube-controller-manager v1.25.15 (tools/kube/kubelab.py) and a real Heketi
server (mock executor; 3 nodes in 3 zones, storage hostnames 192.0.2.1-3, two devices each), applies
playbooks/storageclass.yml, then, side by side and alternating:

- "pvc": create a 1 GiB RWX PVC and poll it (every 10 ms) until Bound;
- "heketi": create a 1 GiB replicate:3 volume straight through Heketi's API (POST /volumes, poll the queue
  every 10 ms, as the plugin's client does at its own pace) - the Heketi share of the PVC's time.

It prints each sample, the medians, and the ratio pvc / heketi: what Kubernetes adds (the PV controller's
queue, the Endpoints/Service, the PV and the binding). A script, not a test: nothing asserts a time.

    .venv/bin/python bench/pvc_bound.py              # 10 of each
    .venv/bin/python bench/pvc_bound.py --count 20
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))
sys.path.insert(0, str(REPO_ROOT / "tools" / "kube"))

from heketi_server import HeketiServer  # noqa: E402
from kubelab import KubeAPIServer  # noqa: E402

VERSION = "v1.25.15"
POLL = 0.01


def topology() -> dict:
    return {"clusters": [{"block": False, "nodes": [
        {"node": {"hostnames": {"manage": ["192.0.2.%d" % i], "storage": ["192.0.2.%d" % i]}, "zone": i},
         "devices": ["/dev/sdf", "/dev/sdg"]} for i in (1, 2, 3)]}]}


def apply_storageclass(kube: KubeAPIServer, heketi: HeketiServer, workdir: Path) -> None:
    variables = {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "storageclass_kubeconfig": str(kube.kubeconfig), "storageclass_context": "kubelab",
        "storageclass_heketi_host": "localhost", "storageclass_heketi_url": heketi.url, "heketi_port": heketi.port,
        "storageclass_heketi_config_file": str(heketi.config_path), "storageclass_heketi_become": False,
        "storageclass_name": "bench",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_AUTH_", "HEKETI_", "KUBECONFIG"))}
    env.update(HOME=str(workdir), ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), NO_PROXY="127.0.0.1",
               ANSIBLE_LOCAL_TEMP=str(workdir / "ansible-tmp"))
    proc = subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,",
                           str(REPO_ROOT / "playbooks" / "storageclass.yml"), "-e", json.dumps(variables)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False, timeout=600)
    if proc.returncode != 0:
        raise SystemExit("playbooks/storageclass.yml failed:\n" + proc.stdout[-3000:])


def pvc_to_bound(kube: KubeAPIServer, name: str, timeout: float = 120) -> float:
    path = "/api/v1/namespaces/default/persistentvolumeclaims"
    start = time.perf_counter()
    status, body = kube.request("POST", path, {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
        "spec": {"storageClassName": "bench", "accessModes": ["ReadWriteMany"],
                 "resources": {"requests": {"storage": "1Gi"}}}})
    if status != 201:
        raise SystemExit("PVC create: %s %s" % (status, body))
    while time.perf_counter() - start < timeout:
        status, body = kube.request("GET", path + "/" + name)
        if status == 200 and body["status"].get("phase") == "Bound":
            return time.perf_counter() - start
        time.sleep(POLL)
    raise SystemExit("PVC %s not Bound within %ss" % (name, timeout))


def heketi_create(heketi: HeketiServer) -> float:
    start = time.perf_counter()
    status, payload = heketi.api("POST", "/volumes", {"size": 1, "durability": {
        "type": "replicate", "replicate": {"replica": 3}}})
    if status != 202:
        raise SystemExit("POST /volumes: %s %s" % (status, payload))
    while True:
        status, body = heketi.api("GET", payload["location"])
        if status == 303:
            return time.perf_counter() - start
        if status != 200:
            raise SystemExit("volume create failed: %s %s" % (status, body))
        time.sleep(POLL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pvc-bound-") as tmp:
        workdir = Path(tmp)
        kube = KubeAPIServer(VERSION, workdir / "kube", controller_manager=True)
        heketi = HeketiServer(workdir / "heketi")
        try:
            t0 = time.perf_counter()
            kube.start()
            started = time.perf_counter() - t0
            heketi.start()
            heketi.load(topology())
            apply_storageclass(kube, heketi, workdir)
            pvc, direct = [], []
            for i in range(args.count):
                pvc.append(pvc_to_bound(kube, "bench-%02d" % i))
                direct.append(heketi_create(heketi))
                print("sample %2d: PVC created -> Bound %6.3f s | Heketi volume create alone %6.3f s"
                      % (i + 1, pvc[-1], direct[-1]), flush=True)
        finally:
            kube.stop()
            heketi.kill()
    med_pvc, med_direct = statistics.median(pvc), statistics.median(direct)
    print()
    print("date: %s UTC; host: %s, %d cores, load average %s" % (
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"), platform.machine(),
        os.cpu_count(), " ".join("%.1f" % x for x in os.getloadavg())))
    print("kube-apiserver + kube-controller-manager %s started (certificates, etcd, both ready) in %.1f s"
          % (VERSION, started))
    print("| measure (n=%d) | median | min | max |" % args.count)
    print("|---|---|---|---|")
    print("| PVC created -> Bound | %.3f s | %.3f s | %.3f s |" % (med_pvc, min(pvc), max(pvc)))
    print("| Heketi volume create alone (same volume) | %.3f s | %.3f s | %.3f s |"
          % (med_direct, min(direct), max(direct)))
    print("ratio PVC->Bound / Heketi alone (medians): %.2f" % (med_pvc / med_direct))
    return 0


if __name__ == "__main__":
    sys.exit(main())
