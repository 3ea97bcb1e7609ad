# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The seed's last steps on Kubernetes 1.37 through the CSI driver, deployed as the collection deploys it.

- playbooks/storageclass.yml with storageclass_provisioner=csi (the csi_driver role applies csi/deploy: the
  controller Deployment with csi-provisioner and csi-resizer, the node DaemonSet that registers itself with the
  kubelet, the CSIDriver), then the class. Images made here and imported on every node: the driver's
  (make csi-image), csi-provisioner and csi-resizer from the binaries tools/build-csi-tools.sh builds.
- Two real nodes (tools/kube/node.py, kubelet v1.37.2): the DaemonSet's pod on each registers the driver
  (CSINode), the kubelet stages and publishes with its own paths, the node plugin mounts in the node's namespaces
  (hostPID, --mounter=host).
- STAND-IN for a cluster network (no kube-proxy here, the API server listens on 127.0.0.1 only): the controller
  Deployment runs with hostNetwork and KUBERNETES_SERVICE_HOST=127.0.0.1, its health port on 127.0.0.1. Nothing
  else of the manifests is changed.
- STAND-IN for Heketi's brick creation (glusterlab.BrickStandIn): Heketi runs with the mock executor; the
  volume it records (and each brick set its expansion adds) is made on three real glusterd containers.
- A non-root pod on node-1 writes (the volume's GID, annotated on the PV by the driver), a pod on node-2 reads it
  back; the claim expanded from 1Gi to 2Gi shows the new size in `df` inside the running pod; pods and claim
  deleted: no GlusterFS mount is left on either node and Heketi no longer holds the volume.
"""
from __future__ import annotations

import contextlib
import secrets
import subprocess
import uuid
from pathlib import Path

import pytest
from csi_driver import csi_tool
from glusterlab import BrickStandIn, StorageLab
from heketi_server import HeketiServer
from images import binary_image, docker_image
from kubelab import free_port
from kubenode import cluster, create, delete, events, pod, wait_gone, wait_pod
from kubetest import NEW, REPO_ROOT, get, run_play, wait_for
from node import remove_cgroup
from test_pods_intree import claim, topology, wait_unmounted

NS = "default"
DRIVER_IMAGE = "glusterfs-heketi/heketi-csi:dev"
SIDECARS = {"csi-provisioner": "registry.k8s.io/sig-storage/csi-provisioner:v6.4.0",
            "csi-resizer": "registry.k8s.io/sig-storage/csi-resizer:v2.3.0"}
CSI_NS = "heketi-csi"


def driver_pods(csi) -> str:
    """The driver's pods: phase, container states, last events, the node plugin's log (for a failure's text)."""
    api, out = csi["api"], []
    for item in get(api, "/api/v1/namespaces/%s/pods" % CSI_NS)["items"]:
        name, node_name = item["metadata"]["name"], item["spec"].get("nodeName")
        out.append("%s on %s: %s %s" % (name, node_name, item["status"].get("phase"),
                                        [c.get("state") for c in item["status"].get("containerStatuses", [])]))
        out += ["  " + e for e in events(api, CSI_NS, "Pod", name)[-4:]]
        for node in csi["lab"].nodes:
            if node.name == node_name:
                out.append("  log: " + node.pod_log(CSI_NS, name)[-1500:])
    return "\n".join(out)


def cluster_network_stand_in(api) -> None:
    """STAND-IN for a cluster network (see the module's text): the controller reaches the API server on loopback."""
    path = "/apis/apps/v1/namespaces/%s/deployments/heketi-csi-controller" % CSI_NS
    dep = get(api, path)
    spec = dep["spec"]["template"]["spec"]
    spec["hostNetwork"] = True
    port = str(api.port)
    health = free_port()
    for container in spec["containers"]:
        env = [e for e in container.get("env", []) if not e["name"].startswith("KUBERNETES_SERVICE_")]
        container["env"] = env + [{"name": "KUBERNETES_SERVICE_HOST", "value": "127.0.0.1"},
                                  {"name": "KUBERNETES_SERVICE_PORT", "value": port}]
        if container["name"] == "heketi-csi":
            container["args"] = [a for a in container["args"] if not a.startswith(("--health-address",
                                                                                  "--metrics-address"))]
            container["args"] += ["--health-address=127.0.0.1:%d" % health, "--metrics-address=127.0.0.1:%d" % health]
            container["ports"] = [{"name": "healthz", "containerPort": health, "protocol": "TCP"}]
            for probe in ("livenessProbe", "readinessProbe"):
                if probe in container:
                    container[probe]["httpGet"]["host"] = "127.0.0.1"
    status, body = api.request("PUT", path, dep)
    assert status == 200, (status, body)


@contextlib.contextmanager
def csi_cluster(workdir: Path, nodes: int = 2):
    """Storage containers, Heketi, Kubernetes 1.37 with NODES nodes, the driver deployed by the collection's
    playbook with the images made here, the stand-ins running; everything removed at the end."""
    image = subprocess.run(["make", "-s", "csi-image"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert image.returncode == 0, image.stdout[-3000:] + image.stderr[-3000:]
    archives = [docker_image(workdir / "images", DRIVER_IMAGE)]
    archives += [binary_image(workdir / "images", ref, csi_tool(name)) for name, ref in SIDECARS.items()]
    storage = StorageLab(prefix="hd-csipods")
    heketi = lab = stand_in = None
    try:
        storage.start()
        heketi = HeketiServer(workdir / "heketi").start()
        heketi.load(topology(storage.addresses))
        lab = cluster(NEW, workdir, nodes=nodes)
        for node in lab.nodes:
            for name, archive in archives:
                node.import_image(name, archive)
        suffix = uuid.uuid4().hex[:8]
        names = {"storageclass_name": "glusterfs-csi-" + suffix, "storageclass_secret_name": "heketi-csi-" + suffix}
        result = run_play(lab.api, heketi, names, {
            "storageclass_provisioner": "csi", "storageclass_csi_image": DRIVER_IMAGE,
            "csi_driver_image_pull_policy": "Never", "storageclass_csi_namespace": CSI_NS})
        assert result.rc == 0, result
        cluster_network_stand_in(lab.api)
        stand_in = BrickStandIn(lab.api, heketi, storage).start()
        yield {"api": lab.api, "lab": lab, "heketi": heketi, "storage": storage, "names": names,
               "stand_in": stand_in}
    finally:
        if stand_in:
            stand_in.stop()
        left = lab.stop() if lab else []
        if heketi:
            heketi.kill()
        storage.stop()
        # The node plugin's FUSE cgroup (its --fuse-cgroup default: no systemd in the node's namespace), if it
        # made one and it is empty now.
        remove_cgroup("heketi-csi-fuse", timeout=5)
    assert left == [], "the nodes left on the host: %s" % left


@pytest.fixture(scope="module")
def csi(tmp_path_factory):
    with csi_cluster(tmp_path_factory.mktemp("pods-csi")) as deployed:
        yield deployed


def test_driver_registers_with_every_kubelet(csi):
    api, lab = csi["api"], csi["lab"]

    def registered():
        drivers = []
        for node in lab.nodes:
            csinode = get(api, "/apis/storage.k8s.io/v1/csinodes/" + node.name) or {}
            drivers.append([d["name"] for d in (csinode.get("spec") or {}).get("drivers") or []])
        return drivers if all("heketi.csi.glusterfs" in d for d in drivers) else None
    wait_for("the driver registered on both nodes (CSINode)", registered, explain=lambda: driver_pods(csi))

    def controller_ready():
        dep = get(api, "/apis/apps/v1/namespaces/%s/deployments/heketi-csi-controller" % CSI_NS)
        return dep.get("status", {}).get("readyReplicas") == 1
    wait_for("the controller Deployment ready", controller_ready, explain=lambda: driver_pods(csi))


def test_pods_write_read_expand_and_delete(csi):
    api, lab, heketi, stand_in = csi["api"], csi["lab"], csi["heketi"], csi["stand_in"]
    node1, node2 = lab.nodes
    name = "data-" + uuid.uuid4().hex[:6]
    create(api, "/api/v1/namespaces/%s/persistentvolumeclaims" % NS, claim(name, csi["names"]["storageclass_name"]))

    def bound():
        pvc = get(api, "/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (NS, name))
        return pvc if pvc["status"].get("phase") == "Bound" else None

    pvc = wait_for("claim %s Bound" % name, bound)
    pv = get(api, "/api/v1/persistentvolumes/" + pvc["spec"]["volumeName"])
    volume_id = pv["spec"]["csi"]["volumeHandle"]
    wait_for("the stand-in's GlusterFS volume", lambda: volume_id in stand_in.created, 60)
    # The driver's controller annotates the PV with the volume's GID; the kubelet adds it to the pods' groups.
    wait_for("the PV's GID annotation", lambda: "pv.beta.kubernetes.io/gid" in (get(
        api, "/api/v1/persistentvolumes/" + pv["metadata"]["name"])["metadata"].get("annotations") or {}), 60)

    token = secrets.token_hex(8)
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": name}}]
    mounts = [{"name": "data", "mountPath": "/data"}]
    create(api, "/api/v1/namespaces/%s/pods" % NS, pod(
        "writer", "echo %s > /data/hello && sleep 3600" % token, volumes, mounts, restart="Always",
        extra={"nodeSelector": {"kubernetes.io/hostname": "node-1"}}))
    wait_pod(api, NS, "writer", ("Running",), node=node1)
    assert node1.exec(NS, "writer", ["cat", "/data/hello"]).stdout.strip() == token
    create(api, "/api/v1/namespaces/%s/pods" % NS, pod(
        "reader", "cat /data/hello", volumes, mounts, extra={"nodeSelector": {"kubernetes.io/hostname": "node-2"}}))
    wait_pod(api, NS, "reader", ("Succeeded",), node=node2)
    assert node2.pod_log(NS, "reader").strip() == token

    def df_kib() -> int:
        return int(node1.exec(NS, "writer", ["df", "-kP", "/data"]).stdout.splitlines()[-1].split()[1])
    before = df_kib()
    assert 0.9 * 2**20 <= before <= 1.1 * 2**20, before  # 1 GiB
    claim_path = "/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (NS, name)
    grown = get(api, claim_path)
    grown["spec"]["resources"]["requests"]["storage"] = "2Gi"
    status, body = api.request("PUT", claim_path, grown)
    assert status == 200, body
    wait_for("the claim's capacity 2Gi", lambda: get(api, "/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (
        NS, name))["status"].get("capacity", {}).get("storage") == "2Gi")
    assert heketi.get("/volumes/" + volume_id)["size"] == 2

    def grown():
        kib = df_kib()
        return kib if kib > 1.5 * 2**20 else None

    after = wait_for("df inside the pod showing the new size", grown, 60)
    assert after >= 1.9 * 2**20, after

    for pod_name in ("writer", "reader"):
        delete(api, "/api/v1/namespaces/%s/pods/%s" % (NS, pod_name))
    wait_unmounted(lab.nodes)
    delete(api, "/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (NS, name))
    wait_gone(api, "/api/v1/persistentvolumes/" + pv["metadata"]["name"])
    assert heketi.api("GET", "/volumes/" + volume_id)[0] == 404, "Heketi still holds the claim's volume"
    assert stand_in.errors == []
