# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The seed's steps 5-8 on Kubernetes 1.25, as users run them, with pods on real kubelets.

- The StorageClass comes from playbooks/storageclass.yml (the in-tree kubernetes.io/glusterfs provisioner on 1.25).
- A claim (ReadWriteMany) gets its volume from the real Heketi through the real kube-controller-manager. Heketi
  runs with the mock executor (it cannot make bricks here: its thin LVs need device-mapper, which this kernel
  lacks), its topology naming three real glusterd containers by address (tests/integration/glusterlab.py).
- STAND-IN for Heketi's brick creation: the test creates, on those glusterd containers, the GlusterFS volume
  Heketi recorded (same name, replica count and GID; bricks on tmpfs). Everything else is real.
- Two nodes (tools/kube/node.py: kubelet v1.25.15 + containerd each), so ReadWriteMany is proven across nodes: a
  pod on node-1 writes as a non-root user (the volume's GID, which the kubelet adds to the pod's groups) and keeps
  running while a pod on node-2 reads the file back; the kubelet's in-tree glusterfs plugin mounts the volume
  with the host's FUSE client for each.
- Pods deleted: no GlusterFS mount is left on either node. Claim deleted: the PV is gone, and Heketi's volume.
"""
from __future__ import annotations

import secrets
import time
import uuid

import pytest
from glusterlab import BrickStandIn, StorageLab
from heketi_server import HeketiServer
from kubenode import cluster, create, delete, pod, wait_gone, wait_pod
from images import BUSYBOX_IMAGE
from kubetest import OLD, REPO_ROOT, get, run_play, sc_path

NS = "default"
BOUND_TIMEOUT = 120


def topology(addresses: list[str]) -> dict:
    """Heketi's topology: one node per storage container, named by its address, in zones 1-3."""
    return {"clusters": [{"block": False, "nodes": [
        {"node": {"hostnames": {"manage": [address], "storage": [address]}, "zone": i + 1},
         "devices": ["/dev/sdb", "/dev/sdc"]} for i, address in enumerate(addresses)]}]}


@pytest.fixture(scope="module")
def intree(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("pods-intree")
    storage = StorageLab(prefix="hd-intree")
    heketi = lab = None
    try:
        storage.start()
        heketi = HeketiServer(workdir / "heketi").start()
        heketi.load(topology(storage.addresses))
        lab = cluster(OLD, workdir, nodes=2)
        names = {"storageclass_name": "glusterfs-" + uuid.uuid4().hex[:8],
                 "storageclass_secret_name": "heketi-" + uuid.uuid4().hex[:8]}
        result = run_play(lab.api, heketi, names)
        assert result.rc == 0, result
        yield {"api": lab.api, "lab": lab, "heketi": heketi, "storage": storage, "names": names}
    finally:
        left = lab.stop() if lab else []
        if heketi:
            heketi.kill()
        storage.stop()
    assert left == [], "the nodes left on the host: %s" % left


def claim(name: str, storageclass: str, size: str = "1Gi") -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"storageClassName": storageclass, "accessModes": ["ReadWriteMany"],
                     "resources": {"requests": {"storage": size}}}}


def wait_bound(api, name: str) -> dict:
    deadline = time.monotonic() + BOUND_TIMEOUT
    while time.monotonic() < deadline:
        pvc = get(api, "/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (NS, name))
        if pvc["status"].get("phase") == "Bound":
            return pvc
        time.sleep(0.5)
    pytest.fail("claim %s not Bound within %ss" % (name, BOUND_TIMEOUT), pytrace=False)


def glusterfs_mounts(node) -> list[str]:
    return [line for line in node.mounts() if " - fuse.glusterfs " in line]


def wait_unmounted(nodes, timeout: float = 90) -> None:
    """The kubelet unmounts a deleted pod's volumes after the pod object is gone: wait for it."""
    deadline = time.monotonic() + timeout
    while any(glusterfs_mounts(node) for node in nodes):
        if time.monotonic() > deadline:
            pytest.fail("GlusterFS mounts outlived their pods: %s"
                        % [line for node in nodes for line in glusterfs_mounts(node)], pytrace=False)
        time.sleep(1)


def test_pods_write_and_read_a_claim_across_nodes_then_the_claim_is_deleted(intree):
    api, lab, heketi, storage = intree["api"], intree["lab"], intree["heketi"], intree["storage"]
    storageclass = get(api, sc_path(intree["names"]["storageclass_name"]))
    assert storageclass["provisioner"] == "kubernetes.io/glusterfs"

    name = "data-" + uuid.uuid4().hex[:6]
    create(api, "/api/v1/namespaces/%s/persistentvolumeclaims" % NS, claim(name, storageclass["metadata"]["name"]))
    pvc = wait_bound(api, name)
    pv = get(api, "/api/v1/persistentvolumes/" + pvc["spec"]["volumeName"])
    volume_id = BrickStandIn.volume_id(pv)
    gid = int(pv["metadata"]["annotations"]["pv.beta.kubernetes.io/gid"])
    assert heketi.get("/volumes/" + volume_id)["name"] == pv["spec"]["glusterfs"]["path"]

    # STAND-IN for Heketi's brick creation: the volume Heketi recorded, on the real glusterd containers.
    BrickStandIn(api, heketi, storage).create_for(pv)

    token = secrets.token_hex(8)
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": name}}]
    mounts = [{"name": "data", "mountPath": "/data"}]
    on = {"node-1": {"nodeSelector": {"kubernetes.io/hostname": "node-1"}},
          "node-2": {"nodeSelector": {"kubernetes.io/hostname": "node-2"}}}
    create(api, "/api/v1/namespaces/%s/pods" % NS, pod(
        "writer", "echo %s > /data/hello && id -G && touch /data/written && sleep 3600" % token, volumes, mounts,
        restart="Always", extra=on["node-1"]))
    wait_pod(api, NS, "writer", ("Running",), node=lab.nodes[0])
    node1, node2 = lab.nodes
    assert node1.exec(NS, "writer", ["cat", "/data/hello"]).stdout.strip() == token
    assert str(gid) in node1.pod_log(NS, "writer").split()  # the volume's GID among the pod's groups
    assert glusterfs_mounts(node1), "no GlusterFS mount on node-1"

    create(api, "/api/v1/namespaces/%s/pods" % NS, pod(
        "reader", "cat /data/hello && stat -c '%u %g %a' /data/hello", volumes, mounts, extra=on["node-2"]))
    wait_pod(api, NS, "reader", ("Succeeded",), node=node2)
    lines = node2.pod_log(NS, "reader").splitlines()
    assert lines[0] == token
    assert lines[1].split()[0] == "1000"  # written by the non-root user of the writer pod
    placed = get(api, "/api/v1/namespaces/%s/pods/reader" % NS)["spec"]["nodeName"]
    assert placed == "node-2"

    for pod_name in ("writer", "reader"):
        delete(api, "/api/v1/namespaces/%s/pods/%s" % (NS, pod_name))
    wait_unmounted(lab.nodes)

    delete(api, "/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (NS, name))
    wait_gone(api, "/api/v1/persistentvolumes/" + pv["metadata"]["name"])  # reclaim policy Delete
    assert heketi.api("GET", "/volumes/" + volume_id)[0] == 404, "Heketi still holds the claim's volume"


# -- playbooks/smoke.yml, whole, pods included -------------------------------------------------------------
def smoke(intree, extra: dict | None = None, names: dict | None = None):
    heketi = intree["heketi"]
    variables = {"smoke_storageclass": (names or intree["names"])["storageclass_name"],
                 "smoke_image": BUSYBOX_IMAGE, "smoke_heketi_url": heketi.url, "smoke_heketi_key": heketi.admin_key}
    variables.update(extra or {})
    return run_play(intree["api"], heketi, names or intree["names"], variables,
                    playbook=REPO_ROOT / "playbooks" / "smoke.yml")


def smoke_claims(api) -> list:
    return [c for c in get(api, "/api/v1/namespaces/default/persistentvolumeclaims?labelSelector="
                                "app.kubernetes.io%2Fname%3Dglusterfs-smoke")["items"]
            if not c["metadata"].get("deletionTimestamp")]


def test_smoke_playbook_runs_whole_with_pods(intree):
    # STAND-IN for Heketi's brick creation, beside the playbook: each new PV's volume made on the glusterd containers.
    stand_in = BrickStandIn(intree["api"], intree["heketi"], intree["storage"]).start()
    try:
        result = smoke(intree)
    finally:
        stand_in.stop()
    assert stand_in.errors == []
    assert result.rc == 0, result
    [report] = [res for name, res in result.tasks if name == "Report each step with its time"]
    assert [line.split(":")[0] for line in report["msg"]] == [
        "PVC created", "PVC Bound", "pod write on node-1", "pod read on node-2", "PVC deleted", "PV gone",
        "Heketi volume gone"], report["msg"]
    assert len(stand_in.created) == 1
    assert smoke_claims(intree["api"]) == []
    wait_unmounted(intree["lab"].nodes)


def test_smoke_playbook_failure_names_the_step_and_the_pods_last_event(intree):
    """No stand-in this time: Heketi records a volume that glusterd does not serve, so the writer pod cannot
    mount it. The play stops at the pod's wait and quotes the kubelet's FailedMount event; pods and claim go."""
    result = smoke(intree, {"smoke_timeout": 25})
    assert result.rc != 0
    message = "\n".join(result.failures)
    assert 'Smoke test failed at "Wait until the smoke pod has ended, write"' in message, message
    assert "-write: Warning FailedMount: " in message, message
    assert smoke_claims(intree["api"]) == []


def test_smoke_playbook_refuses_a_claim_too_small_for_the_volume_type(intree):
    names = {"storageclass_name": "glusterfs-" + uuid.uuid4().hex[:8],
             "storageclass_secret_name": intree["names"]["storageclass_secret_name"]}
    result = run_play(intree["api"], intree["heketi"], names, {"storageclass_volumetype": "disperse:4:2"})
    assert result.rc == 0, result
    refused = smoke(intree, {"smoke_size": "1Gi"}, names=names)
    assert refused.rc != 0
    message = "\n".join(refused.failures)
    assert "smoke_size 1Gi refused: the volume type disperse:4:2 of StorageClass %s needs at least 4Gi" % (
        names["storageclass_name"]) in message, message
    assert smoke_claims(intree["api"]) == []
