# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CSI driver's deployment: the kustomize base csi/deploy and the glusterfs.heketi.csi_driver role that
applies it.

- The role's settings, applied in Python (lookup csi_driver_manifests), give exactly what the REAL kustomize
  (v5.8.1, tools/build-kustomize.sh) builds from the same overlay; the role applied to the REAL kube-apiserver
  1.37 creates those objects (read back), and a rerun changes nothing.
- The base's objects pass the API server's own validation (server-side dry-run) on 1.25 and 1.37, and its Pod
  Security admission admits pods made from the controller and node templates in the namespace csi/deploy
  labels (privileged), refuses the node pod under baseline (so the label is needed) and admits the controller's
  pod under restricted.
- Uninstall (playbooks/uninstall.yml) leaves no object with the collection's labels (issue 24, defect 1: on
  the main branch before this change it left the Secret and every object of the CSI driver).
"""
from __future__ import annotations

import copy
import shutil
import subprocess
import sys
import urllib.parse
import uuid
from pathlib import Path

import pytest
import yaml

from kubetest import NEW, OLD, get, run_play
# The fixture of the real Heketi with one cluster.
from test_storageclass import heketi  # noqa: F401  pylint: disable=unused-import

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "plugins" / "lookup"))
sys.path.insert(0, str(REPO_ROOT / "tools" / "kube"))

import csi_driver_manifests as manifests  # noqa: E402
from kubelab import KubeAPIServer  # noqa: E402

BASE = REPO_ROOT / "csi" / "deploy"
KUSTOMIZE = REPO_ROOT / ".cache" / "kustomize-v5.8.1" / "kustomize"
IMAGE = "registry.example.test/storage/heketi-csi@sha256:" + "ab" * 32
LABEL = "app.kubernetes.io/managed-by=glusterfs.heketi"
UNINSTALL = REPO_ROOT / "playbooks" / "uninstall.yml"


def kustomize() -> Path:
    if not KUSTOMIZE.exists():
        subprocess.run([str(REPO_ROOT / "tools" / "build-kustomize.sh"), "--check"], check=False)
    if not KUSTOMIZE.exists():
        pytest.fail("kustomize is not built: tools/build-kustomize.sh (make kustomize)", pytrace=False)
    return KUSTOMIZE


def kustomize_build(overlay: dict, tmp_path: Path) -> list[dict]:
    """The real `kustomize build` of the overlay, over a copy of the base (referenced as ../base)."""
    work = tmp_path / ("kustomize-" + uuid.uuid4().hex[:6])
    shutil.copytree(BASE, work / "base")
    (work / "overlay").mkdir()
    (work / "overlay" / "kustomization.yaml").write_text(yaml.safe_dump(dict(overlay, resources=["../base"])))
    proc = subprocess.run([str(kustomize()), "build", str(work / "overlay")], capture_output=True, text=True,
                          check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def by_key(objects: list[dict]) -> dict:
    return {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in objects}


def settings(suffix: str, **extra) -> dict:
    out = {"namespace": "csi-" + suffix, "driver_name": suffix + ".heketi.csi.glusterfs",
           "kubelet_dir": "/srv/kubelet-" + suffix, "image_pull_policy": "Never",
           "images": {"glusterfs-heketi/heketi-csi": IMAGE,
                      "registry.k8s.io/sig-storage/csi-provisioner": "mirror.example.test/csi-provisioner:v6.4.0"},
           "node_args": ["--host-process=kubelet"], "create_namespace": True}
    out.update(extra)
    return out


def role_vars(s: dict) -> dict:
    """The csi_driver role's variables for these settings (and the storageclass role's, for the play)."""
    return {"storageclass_provisioner": "csi", "csi_driver_image": s["images"]["glusterfs-heketi/heketi-csi"],
            "csi_driver_provisioner_image": s["images"]["registry.k8s.io/sig-storage/csi-provisioner"],
            "csi_driver_namespace": s["namespace"], "csi_driver_name": s["driver_name"],
            "csi_driver_kubelet_dir": s["kubelet_dir"], "csi_driver_image_pull_policy": s["image_pull_policy"],
            "csi_driver_node_extra_args": s["node_args"], "csi_driver_create_namespace": s["create_namespace"],
            "storageclass_name": "glusterfs-" + s["namespace"], "storageclass_secret_name": "heketi-" + s["namespace"]}


def subset(expected, actual, where="") -> list[str]:
    """Where actual (read back from the API server, with its defaults) lacks or differs from expected."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return ["%s: %r is not a mapping" % (where, actual)]
        return [d for k, v in expected.items() for d in (
            subset(v, actual[k], where + "." + k) if k in actual else ["%s.%s: missing" % (where, k)])]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return ["%s: %r != %r" % (where, actual, expected)]
        return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in subset(e, a, "%s[%d]" % (where, i))]
    # Quantities come back normalised (16Mi stays 16Mi; 10m stays 10m): compare as text.
    return [] if expected == actual or str(expected) == str(actual) else ["%s: %r != %r" % (where, actual, expected)]


def api_path(obj: dict) -> str:
    group_version = obj["apiVersion"]
    prefix = "/api/" + group_version if "/" not in group_version else "/apis/" + group_version
    plural = {"Namespace": "namespaces", "CSIDriver": "csidrivers", "ServiceAccount": "serviceaccounts",
              "ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings", "Role": "roles",
              "RoleBinding": "rolebindings", "Deployment": "deployments", "DaemonSet": "daemonsets",
              "Pod": "pods"}[obj["kind"]]
    ns = obj["metadata"].get("namespace")
    return prefix + ("/namespaces/%s/" % ns if ns else "/") + plural


# -- the role's Python against the real kustomize (no cluster) -----------------------------------------------
@pytest.mark.parametrize("extra", [
    {},
    # The defaults: no patch but the images; the namespace as the base's.
    {"namespace": "heketi-csi", "driver_name": "heketi.csi.glusterfs", "kubelet_dir": "/var/lib/kubelet",
     "image_pull_policy": "", "node_args": [], "images": {"glusterfs-heketi/heketi-csi": "registry.example.test/h:1.0"}},
    # A namespace managed elsewhere: no Namespace object.
    {"create_namespace": False},
], ids=["every-setting", "defaults", "no-namespace"])
def test_role_settings_build_what_kustomize_builds(tmp_path, extra):
    s = settings(uuid.uuid4().hex[:6], **extra)
    built = manifests.build(str(BASE), **s)
    ours = by_key(built["objects"])
    theirs = by_key(kustomize_build(built["overlay"], tmp_path))
    assert sorted(ours) == sorted(theirs)
    for key, obj in theirs.items():
        assert ours[key] == obj, key
    kinds = {k[0] for k in ours}
    assert ("Namespace" in kinds) is s["create_namespace"]
    assert {"CSIDriver", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment",
            "DaemonSet"} <= kinds


def test_base_validates_against_the_125_126_and_137_schemas():
    kv = pytest.importorskip("kubernetes_validate")
    for doc in manifests.build(str(BASE), images={"glusterfs-heketi/heketi-csi": IMAGE})["objects"]:
        for schema in ("1.25", "1.26", "1.37"):
            try:
                kv.validate(doc, schema, strict=True)
            except kv.ValidationError as err:
                pytest.fail("%s %s is invalid for Kubernetes %s: %s" % (doc["kind"], doc["metadata"]["name"], schema, err))


# -- on the real API server ----------------------------------------------------------------------------------
def test_role_on_137_creates_what_kustomize_builds_then_changes_nothing(kube, heketi, tmp_path):
    server = kube(NEW)
    s = settings(uuid.uuid4().hex[:6])
    expected = kustomize_build(manifests.build(str(BASE), **s)["overlay"], tmp_path)
    first = run_play(server, heketi, {}, role_vars(s))
    assert first.rc == 0, first
    for obj in expected:
        live = get(server, api_path(obj) + "/" + obj["metadata"]["name"])
        assert live is not None, (obj["kind"], obj["metadata"]["name"])
        assert subset(obj, live) == [], (obj["kind"], obj["metadata"]["name"])
    ds = get(server, "/apis/apps/v1/namespaces/%s/daemonsets/heketi-csi-node" % s["namespace"])
    assert ds["spec"]["template"]["spec"]["containers"][0]["args"][-1] == "--host-process=kubelet"
    assert ds["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Never"
    second = run_play(server, heketi, {}, role_vars(s))
    assert second.rc == 0, second
    assert second.changed == 0, second.changed_tasks()


def _pod(template_owner: dict, name: str, namespace: str) -> dict:
    template = copy.deepcopy(template_owner["spec"]["template"])
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": template["metadata"]["labels"]},
            "spec": template["spec"]}


def _create(server, obj: dict, dry_run: bool = False) -> tuple[int, dict]:
    path = api_path(obj) + ("?dryRun=All" if dry_run else "")
    return server.request("POST", path, obj)


def _namespace(server, name: str, level: str | None) -> None:
    labels = {"pod-security.kubernetes.io/enforce": level} if level else {}
    status, body = _create(server, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
    assert status == 201, body
    # No kube-controller-manager beside 1.37: the default ServiceAccount is made here.
    for account in ("default", "heketi-csi-controller"):
        status, body = _create(server, {"apiVersion": "v1", "kind": "ServiceAccount",
                                        "metadata": {"name": account, "namespace": name}})
        assert status in (201, 409), body


@pytest.mark.parametrize("version", [OLD, NEW])
def test_objects_pass_server_side_validation_and_pod_security(kube, version):
    server = kube(version)
    suffix = uuid.uuid4().hex[:6]
    s = settings(suffix, driver_name="dry-%s.heketi.csi.glusterfs" % suffix)
    objects = manifests.build(str(BASE), **s)["objects"]
    namespace = next(o for o in objects if o["kind"] == "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    status, body = _create(server, namespace)
    assert status == 201, body
    # No kube-controller-manager beside 1.37: the namespace's default ServiceAccount is made here.
    _create(server, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": s["namespace"]}})
    try:
        # Every object: the API server's validation and admission, nothing stored. (The ServiceAccount for real:
        # the pods below name it.)
        for obj in objects:
            if obj["kind"] == "Namespace":
                continue
            if obj["kind"] in ("ClusterRole", "ClusterRoleBinding"):  # the shared server may hold the role's
                obj = dict(obj, metadata=dict(obj["metadata"], name=obj["metadata"]["name"] + "-" + suffix))
            status, body = _create(server, obj, dry_run=obj["kind"] != "ServiceAccount")
            assert status == 201, (version, obj["kind"], obj["metadata"]["name"], body)
        controller = next(o for o in objects if o["kind"] == "Deployment")
        node = next(o for o in objects if o["kind"] == "DaemonSet")
        # The level the namespace declares admits both pods.
        for owner, name in ((controller, "controller"), (node, "node")):
            status, body = _create(server, _pod(owner, name, s["namespace"]), dry_run=True)
            assert status == 201, (version, name, body)
        # baseline refuses the node pod (privileged, hostPID, hostPath): the privileged label is needed.
        _namespace(server, "psa-baseline-" + suffix, "baseline")
        status, body = _create(server, _pod(node, "node", "psa-baseline-" + suffix), dry_run=True)
        assert status == 403, (version, body)
        message = body.get("message", "")
        assert "violates PodSecurity" in message and "hostPID" in message and "privileged" in message, message
        # restricted admits the controller's pod: it needs no more.
        _namespace(server, "psa-restricted-" + suffix, "restricted")
        status, body = _create(server, _pod(controller, "controller", "psa-restricted-" + suffix), dry_run=True)
        assert status == 201, (version, body)
    finally:
        for name in (s["namespace"], "psa-baseline-" + suffix, "psa-restricted-" + suffix):
            server.request("DELETE", "/api/v1/namespaces/" + name)


# -- uninstall ----------------------------------------------------------------------------------------------
LABELLED = ["/api/v1/namespaces", "/api/v1/secrets", "/api/v1/serviceaccounts", "/apis/apps/v1/deployments",
            "/apis/apps/v1/daemonsets", "/apis/rbac.authorization.k8s.io/v1/roles",
            "/apis/rbac.authorization.k8s.io/v1/rolebindings", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "/apis/storage.k8s.io/v1/csidrivers",
            "/apis/storage.k8s.io/v1/storageclasses"]


def labelled(server) -> list[str]:
    """Every object with the collection's label (a namespace being deleted counts as gone: without
    kube-controller-manager, 1.37 here, no namespace controller finishes the deletion)."""
    out = []
    for path in LABELLED:
        body = get(server, path + "?labelSelector=" + urllib.parse.quote(LABEL))
        for item in body["items"]:
            if path.endswith("/namespaces") and item["metadata"].get("deletionTimestamp"):
                continue
            out.append("%s %s/%s" % (path.rsplit("/", 1)[1], item["metadata"].get("namespace", ""),
                                     item["metadata"]["name"]))
    return sorted(out)


def test_uninstall_leaves_no_object_with_the_collections_labels(heketi, tmp_path):
    # An API server of its own: "no labelled object" is then a statement about the whole cluster.
    try:
        server = KubeAPIServer(NEW, tmp_path / "kube").start()
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)
    try:
        s = settings("uninstall")
        v = role_vars(s)
        installed = run_play(server, heketi, {}, v)
        assert installed.rc == 0, installed
        before = labelled(server)
        # The driver's objects, the Secret and the class (and the Secret's Role) are all labelled.
        for kind in ("namespaces", "csidrivers", "clusterroles", "clusterrolebindings", "serviceaccounts",
                     "deployments", "daemonsets", "roles", "rolebindings", "secrets", "storageclasses"):
            assert any(item.startswith(kind + " ") for item in before), (kind, before)
        removed = run_play(server, heketi, {}, dict(v, heketi_maintenance_uninstall_kubernetes=True),
                           playbook=UNINSTALL)
        assert removed.rc == 0, removed
        assert labelled(server) == []
        again = run_play(server, heketi, {}, dict(v, heketi_maintenance_uninstall_kubernetes=True),
                         playbook=UNINSTALL)
        assert again.rc == 0, again
    finally:
        server.stop()
