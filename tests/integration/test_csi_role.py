# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/storageclass.yml with storageclass_provisioner=csi (the csi_driver role, then the storageclass
role) against the REAL kube-apiserver 1.37 and the REAL Heketi server: every object exists with the right
fields (read back from the API server), a rerun changes nothing, an empty image is refused before any
change, and the rendered manifests validate strictly against the 1.26 and 1.37 schemas. (The sidecars
running on these objects, as the role's ServiceAccount: test_csi_sidecars.py; the csi_driver role against
kustomize, Pod Security and uninstall: test_csi_driver_role.py.)
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

try:  # the Kubernetes helpers moved to kubetest.py on the provisioning branch
    from kubetest import get, run_play, sc_path, secret_path  # noqa: F401
except ImportError:
    from test_storageclass import get, kube, run_play, sc_path, secret_path  # noqa: F401  pylint: disable=unused-import
# The fixture of the real Heketi with one cluster.
from test_storageclass import heketi  # noqa: F401  pylint: disable=unused-import

REPO_ROOT = Path(__file__).resolve().parents[2]
VERSION = "v1.37.2"
IMAGE = "registry.example.test/glusterfs/heketi-csi:test"


def csi_vars(suffix: str, **extra) -> dict:
    """Role variables for one CSI deployment; names unique per test (the API server is shared)."""
    out = {"storageclass_provisioner": "csi", "storageclass_csi_image": IMAGE,
           "storageclass_name": "glusterfs-csi-" + suffix, "storageclass_secret_name": "heketi-csi-" + suffix,
           "storageclass_secret_namespace": "glusterfs-heketi", "storageclass_csi_namespace": "heketi-csi-" + suffix,
           "storageclass_csi_name": "heketi-csi-" + suffix, "storageclass_csi_driver_name": suffix + ".heketi.csi.glusterfs",
           "storageclass_glusterfile_name": "unused-" + suffix}
    out.update(extra)
    return out


@pytest.fixture
def suffix():
    return uuid.uuid4().hex[:8]


def test_csi_objects_on_137_then_idempotent(kube, heketi, suffix):
    server = kube(VERSION)
    v = csi_vars(suffix)
    ns, name, driver = v["storageclass_csi_namespace"], v["storageclass_csi_name"], v["storageclass_csi_driver_name"]
    first = run_play(server, heketi, {}, v)
    assert first.rc == 0, first
    csidriver = get(server, "/apis/storage.k8s.io/v1/csidrivers/" + driver)
    assert csidriver["spec"]["attachRequired"] is False
    assert csidriver["spec"]["podInfoOnMount"] is False
    assert csidriver["spec"]["fsGroupPolicy"] == "None"
    assert csidriver["spec"]["volumeLifecycleModes"] == ["Persistent"]

    secret = get(server, secret_path("glusterfs-heketi", v["storageclass_secret_name"]))
    assert secret["type"] == "Opaque"
    data = {k: base64.b64decode(val).decode() for k, val in secret["data"].items()}
    assert data == {"key": heketi.admin_key, "user": "admin", "resturl": heketi.url}

    sc = get(server, sc_path(v["storageclass_name"]))
    assert sc["provisioner"] == driver
    assert sc["allowVolumeExpansion"] is True
    assert sc["parameters"] == {
        "resturl": heketi.url, "restuser": "admin", "clusterid": heketi.cluster_id, "volumetype": "replicate:3",
        "gidMin": "40000", "gidMax": "50000",
        "csi.storage.k8s.io/provisioner-secret-name": v["storageclass_secret_name"],
        "csi.storage.k8s.io/provisioner-secret-namespace": "glusterfs-heketi",
        "csi.storage.k8s.io/controller-expand-secret-name": v["storageclass_secret_name"],
        "csi.storage.k8s.io/controller-expand-secret-namespace": "glusterfs-heketi"}

    # The driver's objects come from csi/deploy through the csi_driver role (test_csi_driver_role.py compares them
    # with kustomize's build); their names are the base's, in the namespace chosen.
    dep = get(server, "/apis/apps/v1/namespaces/%s/deployments/heketi-csi-controller" % ns)
    pod = dep["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    assert set(containers) == {"heketi-csi", "csi-provisioner", "csi-resizer"}
    assert containers["heketi-csi"]["image"] == IMAGE
    assert "--mode=controller" in containers["heketi-csi"]["args"]
    assert "--drivername=" + driver in containers["heketi-csi"]["args"]
    assert containers["csi-provisioner"]["image"] == "registry.k8s.io/sig-storage/csi-provisioner:v6.4.0"
    assert containers["csi-resizer"]["image"] == "registry.k8s.io/sig-storage/csi-resizer:v2.3.0"
    assert pod["serviceAccountName"] == "heketi-csi-controller"
    assert pod["priorityClassName"] == "system-cluster-critical"
    # The key is in no flag and no environment variable of any pod spec.
    assert heketi.admin_key not in json.dumps(dep)
    # Non-root, read-only, no capabilities, RuntimeDefault seccomp.
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for c in pod["containers"]:
        assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                        "capabilities": {"drop": ["ALL"]}}, c["name"]
        assert c["resources"]["requests"]
    assert containers["heketi-csi"]["livenessProbe"]["httpGet"]["path"] == "/healthz"

    ds = get(server, "/apis/apps/v1/namespaces/%s/daemonsets/heketi-csi-node" % ns)
    npod = ds["spec"]["template"]["spec"]
    ncont = {c["name"]: c for c in npod["containers"]}
    # The driver registers itself with the kubelet: no node-driver-registrar.
    assert set(ncont) == {"heketi-csi"}
    assert ncont["heketi-csi"]["securityContext"]["privileged"] is True
    assert ncont["heketi-csi"]["securityContext"]["readOnlyRootFilesystem"] is True
    assert npod["hostPID"] is True and not npod.get("hostNetwork")
    assert npod["priorityClassName"] == "system-node-critical"
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    args = ncont["heketi-csi"]["args"]
    assert "--registration-dir=/registration" in args
    assert "--kubelet-registration-path=/var/lib/kubelet/plugins/%s/csi.sock" % driver in args
    assert {v["name"]: v["hostPath"]["path"] for v in npod["volumes"] if "hostPath" in v} == {
        "plugin-dir": "/var/lib/kubelet/plugins/" + driver, "registration-dir": "/var/lib/kubelet/plugins_registry"}
    assert npod["automountServiceAccountToken"] is False
    assert heketi.admin_key not in json.dumps(ds)
    namespace = get(server, "/api/v1/namespaces/" + ns)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"

    # Minimal RBAC: the Heketi Secret is readable by name only, from its namespace only (the storageclass role's
    # Role, bound to the csi_driver role's ServiceAccount); the PVs may be patched (the GID annotation).
    role = get(server, "/apis/rbac.authorization.k8s.io/v1/namespaces/glusterfs-heketi/roles/heketi-csi-secret")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"],
                              "resourceNames": [v["storageclass_secret_name"]], "verbs": ["get"]}]
    binding = get(server, "/apis/rbac.authorization.k8s.io/v1/namespaces/glusterfs-heketi/rolebindings/heketi-csi-secret")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "heketi-csi-controller", "namespace": ns}]
    crole = get(server, "/apis/rbac.authorization.k8s.io/v1/clusterroles/heketi-csi-controller")
    assert not any("secrets" in r["resources"] for r in crole["rules"])
    assert any("persistentvolumes" in r["resources"] and "patch" in r["verbs"] for r in crole["rules"])

    second = run_play(server, heketi, {}, v)
    assert second.rc == 0, second
    assert second.changed == 0, second.changed_tasks()
    assert get(server, sc_path(v["storageclass_name"]))["metadata"]["uid"] == sc["metadata"]["uid"]


def test_csi_without_image_is_refused_before_any_change(kube, heketi, suffix):
    server = kube(VERSION)
    v = csi_vars(suffix, storageclass_csi_image="")
    result = run_play(server, heketi, {}, v)
    assert result.rc != 0
    assert any("csi_driver_image is empty" in m for m in result.failures), result.failures
    assert result.changed == 0
    assert get(server, sc_path(v["storageclass_name"])) is None
    assert get(server, secret_path("glusterfs-heketi", v["storageclass_secret_name"])) is None
    assert get(server, "/apis/storage.k8s.io/v1/csidrivers/" + v["storageclass_csi_driver_name"]) is None
    assert get(server, "/api/v1/namespaces/" + v["storageclass_csi_namespace"]) is None


def test_changed_csidriver_is_refused_then_recreated_when_allowed(kube, heketi, suffix):
    server = kube(VERSION)
    v = csi_vars(suffix)
    driver = v["storageclass_csi_driver_name"]
    # A CSIDriver of that name made by hand, with attach required.
    status, body = server.request("POST", "/apis/storage.k8s.io/v1/csidrivers", {
        "apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": {"name": driver},
        "spec": {"attachRequired": True}})
    assert status == 201, body
    refused = run_play(server, heketi, {}, v)
    assert refused.rc != 0 and refused.changed == 0
    assert any("spec.attachRequired: true -> false" in m for m in refused.failures), refused.failures
    assert get(server, sc_path(v["storageclass_name"])) is None
    recreated = run_play(server, heketi, {}, dict(v, storageclass_recreate=True))
    assert recreated.rc == 0, recreated
    assert get(server, "/apis/storage.k8s.io/v1/csidrivers/" + driver)["spec"]["attachRequired"] is False


def _render(out, **extra):
    extra = dict({"storageclass_render_only": True, "storageclass_render_dir": str(out),
                  "storageclass_heketi_admin_key": "render-key", "storageclass_clusterid": "0" * 32,
                  "storageclass_heketi_url": "http://heketi.storage.example:8080",
                  "ansible_python_interpreter": sys.executable}, **extra)
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), str(REPO_ROOT / "playbooks" / "storageclass.yml"),
                           "-e", json.dumps(extra)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)


def test_switching_to_csi_removes_the_variants_rendered_before(tmp_path):
    out = tmp_path / "artifacts"
    first = _render(out)  # auto: the in-tree and the glusterfile variants, each with the Secret
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    assert (out / "intree" / "manifests.yaml").is_file() and (out / "glusterfile" / "manifests.yaml").is_file()
    (out / "glusterfile" / "notes.txt").write_text("the operator's own file")
    csi = _render(out, storageclass_provisioner="csi", storageclass_csi_image=IMAGE)
    assert csi.returncode == 0, csi.stdout[-4000:] + csi.stderr[-4000:]
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", "csi", "glusterfile"]
    assert sorted(p.name for p in (out / "glusterfile").iterdir()) == ["notes.txt"]  # only the role's file went
    assert "render-key" not in csi.stdout + csi.stderr


def test_rendered_csi_manifests_validate_for_126_and_137(tmp_path):
    kv = pytest.importorskip("kubernetes_validate")
    out = tmp_path / "artifacts"
    proc = _render(out, storageclass_provisioner="csi", storageclass_csi_image=IMAGE, storageclass_csi_namespace="heketi-csi",
                   storageclass_secret_namespace="glusterfs-heketi")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "render-key" not in proc.stdout + proc.stderr
    files = sorted((out / "csi").iterdir())
    assert [p.name for p in files] == ["manifests.yaml"]  # one file, its documents in apply order
    docs = [doc for doc in yaml.safe_load_all(files[0].read_text()) if doc]
    kinds = [doc["kind"] for doc in docs]
    # The driver itself is csi/deploy's (kubectl apply -k, README.txt says so); here what this role owns.
    assert kinds == ["Namespace", "Secret", "Role", "RoleBinding", "StorageClass"], kinds
    assert "kubectl apply -k csi/deploy" in (out / "README.txt").read_text()
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"
    for doc in docs:
        for schema in ("1.26", "1.37"):
            try:
                kv.validate(doc, schema, strict=True)
            except kv.ValidationError as err:
                pytest.fail("%s %s is invalid for Kubernetes %s: %s" % (doc["kind"], doc["metadata"]["name"], schema, err))
