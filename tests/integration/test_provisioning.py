# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dynamic provisioning, end to end: a PVC gets its volume from Heketi through the REAL kube-controller-manager.

Kubernetes v1.25.15 (kube-apiserver + kube-controller-manager, both built from the k8s.io/kubernetes Go module;
tools/kube/kubelab.py) runs the in-tree kubernetes.io/glusterfs provisioner inside its persistent-volume
controller; Heketi is the real server with the mock executor, holding 3 nodes in 3 zones whose storage
hostnames are documentation addresses (192.0.2.0/24): the plugin writes them into Endpoints, which must be
non-loopback IPs. Nothing ever connects to them (the mock executor runs no command, and no kubelet runs).
The StorageClass comes from playbooks/storageclass.yml as users run it. Every check reads the objects back
from the API server and from Heketi.
"""
from __future__ import annotations

import base64
import functools
import re
import time
import urllib.parse
import uuid

import pytest
import kubetest
from kubetest import OLD, REPO_ROOT, get, run_play, sc_path, secret_path

SECRET_NS = "glusterfs-heketi"
BOUND_TIMEOUT = 90  # seconds; ~1 s on an idle machine, the machine here is shared
GID_ANN = "pv.beta.kubernetes.io/gid"
VOLID_ANN = "gluster.kubernetes.io/heketi-volume-id"
# What the in-tree plugin puts in the PVC's event whatever Heketi answered (it keeps Heketi's text for its log).
HIDDEN = "failed to create volume: failed to create volume: see kube-controller-manager.log for details"


def topology(first: int, zones=(1, 2, 3)) -> dict:
    """One cluster: a node per zone, storage (and manage) hostname 192.0.2.<first + i>, two devices each."""
    nodes = [{"node": {"hostnames": {"manage": ["192.0.2.%d" % (first + i)], "storage": ["192.0.2.%d" % (first + i)]},
                       "zone": zone},
              "devices": ["/dev/sdf", "/dev/sdg"]} for i, zone in enumerate(zones)]
    return {"clusters": [{"nodes": nodes, "block": False}]}


def load(heketi, first: int) -> str:
    """Load one more cluster (every node and device add is waited for); return its id."""
    before = set(heketi.get("/clusters")["clusters"])
    heketi.load(topology(first))
    [cluster_id] = set(heketi.get("/clusters")["clusters"]) - before
    info = heketi.get("/clusters/" + cluster_id)
    assert len(info["nodes"]) == 3
    for node_id in info["nodes"]:
        assert len(heketi.get("/nodes/" + node_id)["devices"]) == 2
    return cluster_id


@pytest.fixture
def heketi(make_heketi_server):
    server = make_heketi_server(name="heketi")
    server.cluster_id = load(server, 1)
    return server


@pytest.fixture
def k8s(kube):
    server = kube(OLD)
    assert server.controller_manager is not None
    return server


@pytest.fixture
def names():
    suffix = uuid.uuid4().hex[:8]
    return {"storageclass_name": "glusterfs-" + suffix, "storageclass_secret_name": "heketi-" + suffix}


@pytest.fixture
def namespace(k8s):
    name = "pvc-" + uuid.uuid4().hex[:8]
    status, body = k8s.request("POST", "/api/v1/namespaces",
                               {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert status == 201, body
    return name


def apply_class(k8s, heketi, names, extra=None):
    result = run_play(k8s, heketi, names, extra)
    assert result.rc == 0, result
    return get(k8s, sc_path(names["storageclass_name"]))


# Claims bind in about a second here: poll often, and wait as long as a shared machine needs.
wait_for = functools.partial(kubetest.wait_for, timeout=BOUND_TIMEOUT, interval=0.1)


def pvc_path(namespace: str, name: str = "") -> str:
    return "/api/v1/namespaces/%s/persistentvolumeclaims%s" % (namespace, "/" + name if name else "")


def create_pvc(k8s, namespace: str, name: str, storageclass: str, size: str = "1Gi") -> dict:
    status, body = k8s.request("POST", pvc_path(namespace), {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
        "spec": {"storageClassName": storageclass, "accessModes": ["ReadWriteMany"],
                 "resources": {"requests": {"storage": size}}}})
    assert status == 201, body
    return body


def wait_bound(k8s, namespace: str, name: str) -> dict:
    def bound():
        pvc = get(k8s, pvc_path(namespace, name))
        return pvc if pvc["status"].get("phase") == "Bound" else None
    return wait_for("PVC %s/%s Bound" % (namespace, name), bound)


def events(k8s, namespace: str, name: str) -> list[dict]:
    selector = urllib.parse.quote("involvedObject.name=%s" % name)
    return get(k8s, "/api/v1/namespaces/%s/events?fieldSelector=%s" % (namespace, selector))["items"]


def heketi_volume(heketi, volume_id: str):
    status, body = heketi.api("GET", "/volumes/" + volume_id)
    if status == 404:
        return None
    assert status == 200, (status, body)
    return body


def delete(k8s, path: str) -> None:
    status, body = k8s.request("DELETE", path)
    assert status in (200, 202), (path, status, body)


def gone(k8s, path: str) -> bool:
    return get(k8s, path) is None


def provisioned(k8s, heketi, namespace: str, pvc_name: str) -> tuple[dict, dict, dict]:
    """(pvc, pv, heketi volume) of a Bound claim, read back from both servers."""
    pvc = wait_bound(k8s, namespace, pvc_name)
    pv = get(k8s, "/api/v1/persistentvolumes/" + pvc["spec"]["volumeName"])
    volume = heketi_volume(heketi, pv["metadata"]["annotations"][VOLID_ANN])
    assert volume is not None, "the PV names Heketi volume %s, which Heketi does not hold" % (
        pv["metadata"]["annotations"][VOLID_ANN])
    return pvc, pv, volume


# -- a claim becomes Bound to a Heketi volume made as the class says ------------------------------------
def test_pvc_is_bound_to_a_heketi_volume_made_as_the_class_says(k8s, heketi, names, namespace):
    sc = apply_class(k8s, heketi, names, {"storageclass_volumenameprefix": "k8s", "storageclass_gidmin": 41000,
                                          "storageclass_gidmax": 41999})
    assert sc["parameters"]["secretNamespace"] == SECRET_NS
    created = create_pvc(k8s, namespace, "data", names["storageclass_name"])
    pvc, pv, volume = provisioned(k8s, heketi, namespace, "data")

    # The PV: dynamically provisioned for this claim by the in-tree plugin, with the class's policy.
    assert pvc["metadata"]["uid"] == created["metadata"]["uid"]
    assert pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
    assert pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == "kubernetes.io/glusterfs"
    assert pv["spec"]["storageClassName"] == names["storageclass_name"]
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert pv["spec"]["accessModes"] == ["ReadWriteMany"]
    assert pv["spec"]["capacity"]["storage"] == "1Gi"
    assert pvc["status"]["capacity"]["storage"] == "1Gi"

    # Its glusterfs source names the Heketi volume, which Heketi made as the class asks.
    source = pv["spec"]["glusterfs"]
    endpoints_name = "glusterfs-dynamic-" + pvc["metadata"]["uid"]
    assert source == {"endpoints": endpoints_name, "endpointsNamespace": namespace, "path": volume["name"]}
    assert volume["size"] == 1
    assert volume["durability"]["type"] == "replicate"
    assert volume["durability"]["replicate"]["replica"] == 3
    assert volume["cluster"] == heketi.cluster_id
    assert re.fullmatch(r"k8s_%s_data_[0-9a-f-]{36}" % namespace, volume["name"]), volume["name"]
    # GID: the PV's annotation, what Heketi was told, inside gidMin..gidMax.
    gid = int(pv["metadata"]["annotations"][GID_ANN])
    assert 41000 <= gid <= 41999
    assert volume["gid"] == gid
    # replica 3 over 3 zones: one brick on each node.
    bricks = volume["bricks"]
    assert len(bricks) == 3 and len({b["node"] for b in bricks}) == 3

    # The Endpoints and Service the plugin creates in the claim's namespace: Heketi's storage hostnames.
    endpoints = get(k8s, "/api/v1/namespaces/%s/endpoints/%s" % (namespace, endpoints_name))
    assert endpoints is not None
    [subset] = endpoints["subsets"]
    assert sorted(a["ip"] for a in subset["addresses"]) == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    assert subset["ports"] == [{"port": 1, "protocol": "TCP"}]
    service = get(k8s, "/api/v1/namespaces/%s/services/%s" % (namespace, endpoints_name))
    assert service is not None and "selector" not in service["spec"]
    assert "ProvisioningSucceeded" in {e["reason"] for e in events(k8s, namespace, "data")}
    # Heketi's key reached the controller manager's log neither (it runs at -v 4).
    assert heketi.admin_key not in k8s.log_text("kube-controller-manager")


def test_gid_range_of_the_class_is_honoured(k8s, heketi, names, namespace):
    """gidMin..gidMax of two GIDs: two claims get them, a third one stays Pending (range full)."""
    apply_class(k8s, heketi, names, {"storageclass_gidmin": 42000, "storageclass_gidmax": 42001})
    for name in ("one", "two"):
        create_pvc(k8s, namespace, name, names["storageclass_name"])
    gids = sorted(int(provisioned(k8s, heketi, namespace, name)[1]["metadata"]["annotations"][GID_ANN])
                  for name in ("one", "two"))
    assert gids == [42000, 42001]
    create_pvc(k8s, namespace, "three", names["storageclass_name"])
    failed = wait_for("ProvisioningFailed event of the third claim", lambda: [
        e for e in events(k8s, namespace, "three") if e["reason"] == "ProvisioningFailed"])
    assert "failed to reserve GID from table: range full" in failed[0]["message"], failed[0]["message"]
    assert get(k8s, pvc_path(namespace, "three"))["status"]["phase"] == "Pending"
    assert len(heketi.get("/volumes")["volumes"]) == 2


# -- expansion ---------------------------------------------------------------------------------------
def test_expanding_the_pvc_expands_the_heketi_volume_and_the_pv(k8s, heketi, names, namespace):
    apply_class(k8s, heketi, names)
    create_pvc(k8s, namespace, "grow", names["storageclass_name"])
    pvc, pv, volume = provisioned(k8s, heketi, namespace, "grow")
    assert volume["size"] == 1
    pvc["spec"]["resources"]["requests"]["storage"] = "2Gi"
    status, body = k8s.request("PUT", pvc_path(namespace, "grow"), pvc)
    assert status == 200, body

    wait_for("Heketi volume at 2 GiB", lambda: heketi_volume(heketi, volume["id"])["size"] == 2)
    wait_for("PV at 2Gi", lambda: get(k8s, "/api/v1/persistentvolumes/" + pv["metadata"]["name"])
             ["spec"]["capacity"]["storage"] == "2Gi")
    wait_for("PVC status at 2Gi", lambda: get(k8s, pvc_path(namespace, "grow"))
             ["status"].get("capacity", {}).get("storage") == "2Gi")
    after = heketi_volume(heketi, volume["id"])
    assert after["name"] == volume["name"] and after["durability"]["replicate"]["replica"] == 3
    assert len(after["bricks"]) == 6  # Heketi grows a replicate:3 volume by a second brick set


# -- deletion: reclaimPolicy Delete and Retain ----------------------------------------------------------
def test_deleting_the_pvc_deletes_pv_and_heketi_volume_with_reclaim_delete(k8s, heketi, names, namespace):
    apply_class(k8s, heketi, names)
    create_pvc(k8s, namespace, "temp", names["storageclass_name"])
    pvc, pv, volume = provisioned(k8s, heketi, namespace, "temp")
    endpoints_name = pv["spec"]["glusterfs"]["endpoints"]
    delete(k8s, pvc_path(namespace, "temp"))

    wait_for("PVC gone", lambda: gone(k8s, pvc_path(namespace, "temp")))
    wait_for("PV gone", lambda: gone(k8s, "/api/v1/persistentvolumes/" + pv["metadata"]["name"]))
    wait_for("Heketi volume gone", lambda: heketi_volume(heketi, volume["id"]) is None)
    assert volume["id"] not in heketi.get("/volumes")["volumes"]
    assert ("DELETE", "/volumes/" + volume["id"], 202) in heketi.requests()
    wait_for("Service gone", lambda: gone(k8s, "/api/v1/namespaces/%s/services/%s" % (namespace, endpoints_name)))


def test_reclaim_retain_keeps_the_heketi_volume(k8s, heketi, names, namespace):
    apply_class(k8s, heketi, names, {"storageclass_reclaim_policy": "Retain"})
    create_pvc(k8s, namespace, "keep", names["storageclass_name"])
    pvc, pv, volume = provisioned(k8s, heketi, namespace, "keep")
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    delete(k8s, pvc_path(namespace, "keep"))

    wait_for("PVC gone", lambda: gone(k8s, pvc_path(namespace, "keep")))
    pv_path = "/api/v1/persistentvolumes/" + pv["metadata"]["name"]
    wait_for("PV Released", lambda: get(k8s, pv_path)["status"]["phase"] == "Released")
    time.sleep(3)  # give a wrong Delete the time it would need (it takes ~1 s here)
    assert get(k8s, pv_path)["status"]["phase"] == "Released"
    kept = heketi_volume(heketi, volume["id"])
    assert kept is not None and kept["name"] == pv["spec"]["glusterfs"]["path"]
    assert not [r for r in heketi.requests() if r[0] == "DELETE"]
    delete(k8s, pv_path)  # what an administrator does with a retained volume, after keeping the data
    heketi.call("DELETE", "/volumes/" + volume["id"])


# -- a wrong key: Pending, and the README says what to do ----------------------------------------------
def test_wrong_key_leaves_the_pvc_pending_with_the_event_the_readme_maps(k8s, heketi, names, namespace):
    apply_class(k8s, heketi, names)
    path = secret_path(SECRET_NS, names["storageclass_secret_name"])
    secret = get(k8s, path)
    secret["data"]["key"] = base64.b64encode(b"not-the-heketi-admin-key").decode()
    status, body = k8s.request("PUT", path, secret)  # as when Heketi's key was rotated and the Secret not
    assert status == 200, body
    mark = heketi.mark()
    created = create_pvc(k8s, namespace, "denied", names["storageclass_name"])

    failed = wait_for("ProvisioningFailed event", lambda: [
        e for e in events(k8s, namespace, "denied") if e["reason"] == "ProvisioningFailed"])
    message = failed[0]["message"]
    assert HIDDEN in message, message
    assert get(k8s, pvc_path(namespace, "denied"))["status"]["phase"] == "Pending"
    # Heketi refused it: 401 on the volume create, and no volume exists.
    assert ("POST", "/volumes", 401) in heketi.requests_since(mark)
    assert heketi.get("/volumes")["volumes"] == []
    # The controller manager's log holds Heketi's own answer (the event hides it on purpose).
    log = k8s.log_text("kube-controller-manager")
    assert "failed to create volume: Invalid JWT token: signature is invalid" in log, log[-3000:]
    # The README's troubleshooting table maps exactly that event and that log line to the fix.
    readme = (REPO_ROOT / "README.md").read_text()
    row = [line for line in readme.splitlines() if line.startswith("|") and "see kube-controller-manager.log" in line]
    assert row and "signature is invalid" in row[0] and "storageclass" in row[0], row
    # The fix the row names: rerun playbooks/storageclass.yml, which writes Heketi's key back into the
    # Secret; the Pending claim is retried by the controller and becomes Bound, nobody recreates it.
    assert "rerun `ansible-playbook playbooks/storageclass.yml`" in row[0], row
    assert run_play(k8s, heketi, names).rc == 0
    assert base64.b64decode(get(k8s, path)["data"]["key"]).decode() == heketi.admin_key
    pvc, _pv, volume = provisioned(k8s, heketi, namespace, "denied")
    assert pvc["metadata"]["uid"] == created["metadata"]["uid"]  # the same claim, retried
    assert volume["size"] == 1


# -- clusterid, with two clusters in Heketi ------------------------------------------------------------
def test_clusterid_picks_the_heketi_cluster_the_volume_lands_in(k8s, heketi, names, namespace):
    second = load(heketi, 11)  # storage hostnames 192.0.2.11-13
    clusters = sorted(heketi.get("/clusters")["clusters"])
    assert sorted([heketi.cluster_id, second]) == clusters
    # Without storageclass_clusterid the class names every cluster Heketi holds.
    everyone = apply_class(k8s, heketi, names)
    assert everyone["parameters"]["clusterid"] == ",".join(clusters)
    for index, cluster_id in enumerate(clusters):
        class_names = {"storageclass_name": "%s-%d" % (names["storageclass_name"], index),
                       "storageclass_secret_name": names["storageclass_secret_name"]}
        sc = apply_class(k8s, heketi, class_names, {"storageclass_clusterid": cluster_id})
        assert sc["parameters"]["clusterid"] == cluster_id
        create_pvc(k8s, namespace, "in-%d" % index, class_names["storageclass_name"])
    for index, cluster_id in enumerate(clusters):
        pvc, pv, volume = provisioned(k8s, heketi, namespace, "in-%d" % index)
        assert volume["cluster"] == cluster_id
        node_ips = sorted(heketi.get("/nodes/" + n)["hostnames"]["storage"][0]
                          for n in heketi.get("/clusters/" + cluster_id)["nodes"])
        endpoints = get(k8s, "/api/v1/namespaces/%s/endpoints/%s" % (namespace, pv["spec"]["glusterfs"]["endpoints"]))
        assert sorted(a["ip"] for a in endpoints["subsets"][0]["addresses"]) == node_ips
        assert {heketi.get("/devices/" + b["device"])["id"] for b in volume["bricks"]} <= {
            d["id"] for n in heketi.get("/clusters/" + cluster_id)["nodes"] for d in heketi.get("/nodes/" + n)["devices"]}


# -- the smoke playbook, as far as it can go without a kubelet -------------------------------------------
def test_smoke_playbook_runs_to_bound_and_cleans_up(k8s, heketi, names):
    apply_class(k8s, heketi, names)
    result = run_play(k8s, heketi, names, {
        "smoke_storageclass": names["storageclass_name"], "smoke_pods": False,
        "smoke_heketi_url": heketi.url, "smoke_heketi_key": heketi.admin_key,
    }, playbook=REPO_ROOT / "playbooks" / "smoke.yml")
    assert result.rc == 0, result
    report = [res for name, res in result.tasks if name == "Report each step with its time"]
    assert report, [task[0] for task in result.tasks]
    lines = report[0]["msg"]
    assert [line.split(":")[0] for line in lines] == [
        "PVC created", "PVC Bound", "PVC deleted", "PV gone", "Heketi volume gone"], lines
    assert all(re.fullmatch(r"[A-Za-z ]+: \d+\.\d s", line) for line in lines), lines
    # Read back: no smoke claim is left, and Heketi created one volume and deleted it again.
    claims = get(k8s, pvc_path("default") + "?labelSelector=app.kubernetes.io%2Fname%3Dglusterfs-smoke")["items"]
    assert claims == []
    assert heketi.get("/volumes")["volumes"] == []
    assert [r[0] for r in heketi.writes() if r[1].startswith("/volumes")] == ["POST", "DELETE"]


def test_smoke_playbook_failing_part_way_removes_its_claim(k8s, heketi, names):
    """A class whose provisioning cannot succeed (no such cluster): the claim never binds; the play stops
    naming the step, and the claim it created is gone."""
    apply_class(k8s, heketi, names, {"storageclass_clusterid": "f" * 32})
    result = run_play(k8s, heketi, names, {
        "smoke_storageclass": names["storageclass_name"], "smoke_pods": False, "smoke_timeout": 5,
        "smoke_heketi_url": heketi.url, "smoke_heketi_key": heketi.admin_key,
    }, playbook=REPO_ROOT / "playbooks" / "smoke.yml")
    assert result.rc != 0
    message = "\n".join(result.failures)
    assert 'Smoke test failed at "Wait until the PVC is Bound"' in message, message
    assert "README's troubleshooting table" in message
    claims = get(k8s, pvc_path("default") + "?labelSelector=app.kubernetes.io%2Fname%3Dglusterfs-smoke")["items"]
    assert [c for c in claims if not c["metadata"].get("deletionTimestamp")] == []
    assert heketi.get("/volumes")["volumes"] == []
