# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The upstream sidecars with the driver, against a REAL API server and the REAL Heketi server.

kube-apiserver and kube-controller-manager v1.37.2 (tools/build-kube-apiserver.sh, run by
tools/kube/kubelab.py), csi-provisioner v6.4.0 and csi-resizer v2.3.0
(tools/build-csi-tools.sh) run out of cluster (--kubeconfig, --csi-address on the driver's socket) on
the objects the storageclass role created, as the role's ServiceAccount (a TokenRequest token, so the
role's RBAC is what is tested, leader election in its namespace included, as in its Deployment); the
driver's controller talks to Heketi (mock executor). Every check reads the API server and Heketi, never
the play or the driver's own answer. No kubelet runs here, so no pod
mounts the volume: the node service is proven by test_csi_mount.py.
"""
from __future__ import annotations

import base64
import json
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest

from csi_driver import CSITOPOLOGY, DRIVER_NAME, Daemon, DriverProcess, csi_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tools" / "kube"))

from kubelab import KubeAPIServer  # noqa: E402
from test_csi_role import csi_vars, run_play  # noqa: E402

VERSION = "v1.37.2"
NS = "glusterfs-heketi"
CSI_NS = "heketi-csi"
CLASS = "glusterfs-csi"
PREFIX = "k8s"


def wait_for(what: str, check, timeout: float = 60.0, procs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        for proc in procs:
            proc.check_alive()
        time.sleep(0.25)
    logs = "\n".join("--- %s:\n%s" % (p.name, p.log_text()[-3000:]) for p in procs)
    raise AssertionError("timed out waiting for %s\n%s" % (what, logs))


def api(kube, method, path, body=None, ok=(200, 201)):
    status, payload = kube.request(method, path, body)
    assert status in ok, (method, path, status, payload)
    return payload


def sa_kubeconfig(kube, namespace: str, account: str, path: Path) -> Path:
    """A kubeconfig with a token of the ServiceAccount (TokenRequest API): the sidecars act as the role's
    ServiceAccount, so its RBAC is what is tested, not the lab's admin rights."""
    answer = api(kube, "POST", "/api/v1/namespaces/%s/serviceaccounts/%s/token" % (namespace, account), {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}})
    config = json.loads(Path(kube.kubeconfig).read_text())
    config["users"] = [{"name": account, "user": {"token": answer["status"]["token"]}}]
    token = path.with_suffix(".token")
    token.write_text(answer["status"]["token"])
    os.chmod(token, 0o600)
    config["contexts"] = [{"name": account, "context": {"cluster": "kubelab", "user": account}}]
    config["current-context"] = account
    path.write_text(json.dumps(config))
    os.chmod(path, 0o600)
    return path


@pytest.fixture
def lab(heketi_server, tmp_path):
    heketi_server.load(CSITOPOLOGY)
    try:
        kube = KubeAPIServer(VERSION, tmp_path / "kube", controller_manager=True).start()
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)
    procs = []
    try:
        # The objects come from the storageclass role (csi): Secret, StorageClass, CSIDriver, RBAC, ...
        play = run_play(kube, heketi_server, {}, csi_vars(
            "sidecars", storageclass_name=CLASS, storageclass_secret_name="heketi-csi",
            storageclass_secret_namespace=NS, storageclass_csi_namespace=CSI_NS, storageclass_csi_name="heketi-csi",
            storageclass_csi_driver_name=DRIVER_NAME, storageclass_volumenameprefix=PREFIX))
        assert play.rc == 0, play
        kubeconfig = sa_kubeconfig(kube, CSI_NS, "heketi-csi-controller", tmp_path / "sa.kubeconfig")
        # The URL comes from the Secret, as in the role's Deployment; the driver reaches the API as the controller's
        # ServiceAccount (the GID annotation of its PVs), as in its pod.
        driver = DriverProcess(tmp_path / "driver", "controller", [
            "--kube-api", kube.url, "--kube-token-file", str(kubeconfig.with_suffix(".token")),
            "--kube-ca-file", str(kube.ca_file)]).start()
        procs.append(driver)
        sock = str(driver.socket)
        common = ["--kubeconfig", str(kubeconfig), "--csi-address", sock, "--leader-election",
                  "--leader-election-namespace", CSI_NS, "--v=4"]
        # --timeout 3s: a CreateVolume that Heketi keeps waiting is given up and retried by the sidecar.
        procs.append(Daemon(tmp_path / "sidecars", "csi-provisioner", [
            str(csi_tool("csi-provisioner"))] + common + ["--timeout=3s", "--retry-interval-start=1s",
                                                          "--retry-interval-max=2s"]).start())
        procs.append(Daemon(tmp_path / "sidecars", "csi-resizer", [
            str(csi_tool("csi-resizer"))] + common + ["--timeout=10s"]).start())
        yield kube, heketi_server, driver, procs
    finally:
        for proc in reversed(procs):
            proc.stop()
        kube.stop()


def make_claim(kube, name, size="1Gi"):
    return api(kube, "POST", "/api/v1/namespaces/default/persistentvolumeclaims", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": CLASS,
                 "resources": {"requests": {"storage": size}}}})


def claim(kube, name):
    return api(kube, "GET", "/api/v1/namespaces/default/persistentvolumeclaims/" + name)


def bound(kube, name, procs):
    return wait_for("claim %s Bound" % name, lambda: claim(kube, name)["status"].get("phase") == "Bound" and
                    claim(kube, name), 90, procs)


def heketi_volumes(server):
    return [server.get("/volumes/" + vid) for vid in server.get("/volumes")["volumes"]]


def test_claim_lifecycle_through_the_sidecars(lab):
    kube, server, driver, procs = lab
    name = "data-" + uuid.uuid4().hex[:6]
    uid = make_claim(kube, name)["metadata"]["uid"]
    pvc = bound(kube, name, procs)
    pv = api(kube, "GET", "/api/v1/persistentvolumes/" + pvc["spec"]["volumeName"])
    csi = pv["spec"]["csi"]
    vols = heketi_volumes(server)
    assert len(vols) == 1, vols
    vol = vols[0]
    # The PV names the driver and the Heketi volume: handle = Heketi id, attributes = its mount source.
    assert csi["driver"] == DRIVER_NAME
    assert csi["volumeHandle"] == vol["id"]
    assert vol["name"] == "%s_pvc-%s" % (PREFIX, uid)
    assert csi["volumeAttributes"]["volume"] == vol["name"]
    assert csi["volumeAttributes"]["server"] in vol["mount"]["glusterfs"]["hosts"]
    assert vol["size"] == 1 and pv["spec"]["capacity"]["storage"] == "1Gi"
    assert vol["durability"]["replicate"]["replica"] == 3
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    # Item 8: the volume's GID (gidMin/gidMax; Heketi makes the brick roots root:<gid> 2775) is annotated on the
    # PV, from which the kubelet adds it to the groups of every pod using it (as in-tree).
    assert vol["gid"] and csi["volumeAttributes"]["gid"] == str(vol["gid"])
    wait_for("the PV's GID annotation", lambda: api(kube, "GET", "/api/v1/persistentvolumes/" + pv["metadata"]["name"])
             ["metadata"].get("annotations", {}).get("pv.beta.kubernetes.io/gid") == str(vol["gid"]), 30, procs)
    assert pvc["status"]["capacity"]["storage"] == "1Gi"

    # Expansion: csi-resizer -> ControllerExpandVolume -> POST /volumes/{id}/expand.
    current = claim(kube, name)
    current["spec"]["resources"]["requests"]["storage"] = "3Gi"
    api(kube, "PUT", "/api/v1/namespaces/default/persistentvolumeclaims/" + name, current)
    wait_for("the Heketi volume at 3 GiB", lambda: server.get("/volumes/" + vol["id"])["size"] == 3, 90, procs)
    wait_for("the PV at 3Gi", lambda: api(kube, "GET", "/api/v1/persistentvolumes/" + pv["metadata"]["name"])
             ["spec"]["capacity"]["storage"] == "3Gi", 60, procs)
    wait_for("the claim's capacity at 3Gi",
             lambda: claim(kube, name)["status"].get("capacity", {}).get("storage") == "3Gi", 60, procs)

    # Deletion: the binder releases the PV, csi-provisioner calls DeleteVolume -> DELETE /volumes/{id}.
    api(kube, "DELETE", "/api/v1/namespaces/default/persistentvolumeclaims/" + name)
    wait_for("the Heketi volume deleted", lambda: server.get("/volumes")["volumes"] == [], 90, procs)
    wait_for("the PV deleted", lambda: kube.request("GET", "/api/v1/persistentvolumes/" + pv["metadata"]["name"])[0]
             == 404, 60, procs)
    assert server.admin_key not in driver.log_text()
    for proc in procs:
        assert server.admin_key not in proc.log_text(), proc.name


def test_a_retried_create_never_makes_a_second_volume(lab):
    kube, server, driver, procs = lab
    name = "retry-" + uuid.uuid4().hex[:6]
    server.proc.send_signal(signal.SIGSTOP)  # Heketi accepts connections and answers nothing
    try:
        uid = make_claim(kube, name)["metadata"]["uid"]
        # The sidecar gives up after its 3 s timeout and retries; the driver answers the retries
        # Aborted while the first CreateVolume still waits on Heketi.
        wait_for("a CreateVolume retried while the first waits on Heketi",
                 lambda: "Aborted" in driver.log_text() and "DeadlineExceeded" in driver.log_text(), 60, procs)
    finally:
        server.proc.send_signal(signal.SIGCONT)
    pvc = bound(kube, name, procs)
    named = [v for v in heketi_volumes(server) if v["name"] == "%s_pvc-%s" % (PREFIX, uid)]
    assert len(named) == 1, named
    pv = api(kube, "GET", "/api/v1/persistentvolumes/" + pvc["spec"]["volumeName"])
    assert pv["spec"]["csi"]["volumeHandle"] == named[0]["id"]
    assert len(heketi_volumes(server)) == 1


def test_a_wrong_key_never_leaves_the_controller_dead(lab):
    """Issue 20, item 7: a Secret with a wrong key, a claim, csi-provisioner restarted, the Secret fixed: the claim
    is Bound, and the driver was never touched (and item 8's Low part: a Secret without key first, UNAVAILABLE,
    its claim Bound once the Secret is fixed). Before the fix Probe reused the last key a request carried, so the
    restarted csi-provisioner exited at start-up (Probe failed) until the driver itself restarted."""
    kube, server, driver, procs = lab
    path = "/api/v1/namespaces/%s/secrets/heketi-csi" % NS

    def set_key(encoded: str) -> None:
        secret = api(kube, "GET", path)
        secret["data"]["key"] = encoded
        api(kube, "PUT", path, secret)

    good = api(kube, "GET", path)["data"]["key"]
    # Item 8 (Low): a Secret without key is UNAVAILABLE (retried), no longer INVALID_ARGUMENT.
    secret = api(kube, "GET", path)
    del secret["data"]["key"]
    api(kube, "PUT", path, secret)
    nokey = "nokey-" + uuid.uuid4().hex[:6]
    make_claim(kube, nokey)
    wait_for("CreateVolume answered UNAVAILABLE for the Secret without key",
             lambda: 'CreateVolume: rpc error: code = Unavailable desc = the CSI Secret has no "key"' in driver.log_text(),
             60, procs)
    set_key(base64.b64encode(b"not-the-key").decode())
    name = "badkey-" + uuid.uuid4().hex[:6]
    make_claim(kube, name)
    wait_for("CreateVolume refused with the wrong key",
             lambda: "CreateVolume: rpc error: code = Unauthenticated" in driver.log_text(), 60, procs)
    provisioner = next(p for p in procs if p.name == "csi-provisioner")
    provisioner.stop()
    started = len(provisioner.log_text())
    provisioner.start()
    # The restarted sidecar probes the driver first (it exits when Probe fails), then takes the lease.
    wait_for("the restarted csi-provisioner past its Probe",
             lambda: "successfully acquired lease" in provisioner.log_text()[started:].lower(), 60, procs)
    pid = driver.proc.pid
    set_key(good)
    fixed = time.monotonic()
    bound(kube, nokey, procs)
    # Recorded, not asserted: the sidecar's own back-off (--retry-interval-max, 2 s here) sets it.
    print("the Secret fixed -> claim %s Bound in %.1f s" % (nokey, time.monotonic() - fixed))
    pvc = bound(kube, name, procs)
    assert driver.proc.pid == pid and driver.proc.poll() is None
    handles = {api(kube, "GET", "/api/v1/persistentvolumes/" + claim(kube, c)["spec"]["volumeName"])["spec"]["csi"]
               ["volumeHandle"] for c in (name, nokey)}
    assert {v["id"] for v in heketi_volumes(server)} == handles and len(handles) == 2
