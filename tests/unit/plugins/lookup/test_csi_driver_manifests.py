# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.csi_driver_manifests: csi/deploy with a site's settings, as kustomize would apply them.
(The comparison with the real kustomize build: tests/integration/test_csi_driver_role.py.)"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleLookupError

from ansible_collections.glusterfs.heketi.plugins.lookup import csi_driver_manifests as m

BASE = Path(m.__file__).resolve().parents[2] / "csi" / "deploy"


def _files():
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    return [doc for name in kustomization["resources"] for doc in yaml.safe_load_all((BASE / name).read_text()) if doc]


def _one(objects, kind):
    return next(o for o in objects if o["kind"] == kind)


def test_no_setting_gives_the_base_files_unchanged():
    built = m.build(str(BASE))
    assert built["objects"] == _files()
    assert "patches" not in built["overlay"] and "images" not in built["overlay"]


def test_namespace_moves_namespaced_objects_renames_the_namespace_and_follows_service_account_subjects():
    objects = m.build(str(BASE), namespace="storage-csi")["objects"]
    assert _one(objects, "Namespace")["metadata"]["name"] == "storage-csi"
    for obj in objects:
        if obj["kind"] in ("Namespace", "CSIDriver", "ClusterRole", "ClusterRoleBinding"):
            assert "namespace" not in obj["metadata"], obj["kind"]
        else:
            assert obj["metadata"]["namespace"] == "storage-csi", obj["kind"]
        for subject in obj.get("subjects", []):
            assert subject["namespace"] == "storage-csi", obj["kind"]


def test_kubelet_dir_and_driver_name_are_replaced_everywhere():
    objects = m.build(str(BASE), kubelet_dir="/var/snap/microk8s/common/var/lib/kubelet/", driver_name="gluster.example.org")["objects"]
    text = json.dumps(objects)
    assert "heketi.csi.glusterfs" not in text
    assert text.count("/var/snap/microk8s/common/var/lib/kubelet/plugins") == 3  # two hostPaths, the registration path
    assert '"/var/lib/kubelet' not in text and "=/var/lib/kubelet" not in text
    assert _one(objects, "CSIDriver")["metadata"]["name"] == "gluster.example.org"
    assert "--drivername=gluster.example.org" in _one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]


def test_images_pull_policy_node_args_and_no_namespace():
    digest = "sha256:" + "0" * 64
    built = m.build(str(BASE), create_namespace=False, image_pull_policy="Never", node_args=["--host-process=kubelet"],
                    images={"glusterfs-heketi/heketi-csi": "registry.example.test/csi/heketi-csi@" + digest,
                            "registry.k8s.io/sig-storage/csi-resizer": "registry.example.test/mirror/csi-resizer"})
    objects = built["objects"]
    assert "Namespace" not in [o["kind"] for o in objects]
    controller = {c["name"]: c for c in _one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]}
    assert controller["heketi-csi"]["image"] == "registry.example.test/csi/heketi-csi@" + digest
    assert controller["csi-resizer"]["image"] == "registry.example.test/mirror/csi-resizer:v2.3.0"  # the base's tag kept
    assert controller["csi-provisioner"]["image"] == "registry.k8s.io/sig-storage/csi-provisioner:v6.4.0"
    assert {c["imagePullPolicy"] for c in controller.values()} == {"Never"}
    node = _one(objects, "DaemonSet")["spec"]["template"]["spec"]["containers"][0]
    assert node["args"][-1] == "--host-process=kubelet" and node["image"] == controller["heketi-csi"]["image"]
    # The overlay says the same in kustomize's words: patch bodies are text, as kustomize's patches take them.
    assert all(isinstance(p["patch"], str) for p in built["overlay"]["patches"])
    assert {"name": "glusterfs-heketi/heketi-csi", "newName": "registry.example.test/csi/heketi-csi", "digest": digest} \
        in built["overlay"]["images"]


@pytest.mark.parametrize("ref", ["", "registry.example.test/x y:1", "registry.example.test/x:tag with space", "x:1@sha256:zz"])
def test_a_bad_image_reference_is_refused_naming_it(ref):
    with pytest.raises(AnsibleLookupError, match="is not an image reference"):
        m.build(str(BASE), images={"glusterfs-heketi/heketi-csi": ref})


def test_a_missing_base_is_named():
    with pytest.raises(AnsibleLookupError, match="cannot read the kustomize base in /nonexistent"):
        m.build("/nonexistent")
