# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/storageclass.yml against REAL Kubernetes API servers and a REAL Heketi server.

kube-apiserver v1.25.15 (the in-tree glusterfs era) and v1.37.2 (the newest release) are built from the
k8s.io/kubernetes Go module by tools/build-kube-apiserver.sh and run with Debian's etcd on loopback
(tools/kube/kubelab.py); Heketi is the real server with the mock executor (conftest heketi_server).
Every check reads the objects back from the API server, not from the play's output.
"""
from __future__ import annotations

import base64
import uuid

import pytest
import yaml
from kubetest import NEW, OLD, get, run_play, sc_path, secret_path

# The Secret's namespace when not set (issue 9: not "default").
SECRET_NS = "glusterfs-heketi"


@pytest.fixture
def heketi(heketi_server):
    """The real Heketi server with one cluster, as after a topology load."""
    heketi_server.cluster_id = heketi_server.call("POST", "/clusters", {"file": True, "block": False})["id"]
    return heketi_server


@pytest.fixture
def names():
    suffix = uuid.uuid4().hex[:8]
    return {"storageclass_name": "glusterfs-" + suffix, "storageclass_secret_name": "heketi-" + suffix,
            "storageclass_glusterfile_name": "glusterfile-" + suffix}


def assert_secret(kube_server, namespace, name, secret_type, heketi):
    secret = get(kube_server, secret_path(namespace, name))
    assert secret is not None, "Secret %s/%s missing" % (namespace, name)
    assert secret["type"] == secret_type
    assert base64.b64decode(secret["data"]["key"]).decode() == heketi.admin_key
    return secret


# -- in-tree provisioner, Kubernetes 1.25 ------------------------------------------------------------
def test_intree_on_125_creates_secret_and_class_then_is_idempotent(kube, heketi, names):
    server = kube(OLD)
    assert server.server_version() == OLD
    first = run_play(server, heketi, names)
    assert first.rc == 0, first
    assert first.changed >= 2

    # The key came from heketi.json on the "Heketi host" (not given as a variable).
    assert_secret(server, SECRET_NS, names["storageclass_secret_name"], "kubernetes.io/glusterfs", heketi)
    assert get(server, secret_path("default", names["storageclass_secret_name"])) is None
    sc = get(server, sc_path(names["storageclass_name"]))
    assert sc["provisioner"] == "kubernetes.io/glusterfs"
    assert sc["parameters"] == {
        "resturl": heketi.url, "restuser": "admin", "secretNamespace": SECRET_NS,
        "secretName": names["storageclass_secret_name"], "clusterid": heketi.cluster_id,
        "volumetype": "replicate:3", "gidMin": "40000", "gidMax": "50000"}
    assert sc["reclaimPolicy"] == "Delete"
    assert sc["allowVolumeExpansion"] is True
    assert sc["volumeBindingMode"] == "Immediate"
    assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "false"

    second = run_play(server, heketi, names)
    assert second.rc == 0, second
    assert second.changed == 0, second.changed_tasks()
    assert get(server, sc_path(names["storageclass_name"]))["metadata"]["uid"] == sc["metadata"]["uid"]

    # A mutable field is updated in place: the default-class annotation and allowVolumeExpansion.
    third = run_play(server, heketi, names, {"storageclass_default": True,
                                             "storageclass_allow_volume_expansion": False})
    assert third.rc == 0, third
    assert third.changed == 1, third.changed_tasks()
    sc3 = get(server, sc_path(names["storageclass_name"]))
    assert sc3["metadata"]["uid"] == sc["metadata"]["uid"]
    assert sc3["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert sc3["allowVolumeExpansion"] is False


def test_changed_parameter_is_refused_listing_differences_then_recreated_when_allowed(kube, heketi, names):
    server = kube(OLD)
    assert run_play(server, heketi, names).rc == 0
    before = get(server, sc_path(names["storageclass_name"]))
    secret_before = get(server, secret_path(SECRET_NS, names["storageclass_secret_name"]))

    # The premise: the API server itself refuses to change parameters in place.
    status, body = server.request("PUT", sc_path(names["storageclass_name"]), dict(
        before, parameters=dict(before["parameters"], volumetype="replicate:2")))
    assert status == 422, (status, body)

    changed = {"storageclass_volumetype": "replicate:2", "storageclass_reclaim_policy": "Retain"}
    refused = run_play(server, heketi, names, changed)
    assert refused.rc != 0
    message = "\n".join(refused.failures)
    assert "parameters.volumetype: 'replicate:3' -> 'replicate:2'" in message, message
    assert "reclaimPolicy: 'Delete' -> 'Retain'" in message, message
    assert "storageclass_recreate" in message
    assert refused.changed == 0
    after = get(server, sc_path(names["storageclass_name"]))
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["parameters"] == before["parameters"]
    secret_after = get(server, secret_path(SECRET_NS, names["storageclass_secret_name"]))
    assert secret_after["metadata"]["resourceVersion"] == secret_before["metadata"]["resourceVersion"]

    recreated = run_play(server, heketi, names, dict(changed, storageclass_recreate=True))
    assert recreated.rc == 0, recreated
    new = get(server, sc_path(names["storageclass_name"]))
    assert new["metadata"]["uid"] != before["metadata"]["uid"]
    assert new["parameters"]["volumetype"] == "replicate:2"
    assert new["reclaimPolicy"] == "Retain"

    again = run_play(server, heketi, names, dict(changed, storageclass_recreate=True))
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()
    assert get(server, sc_path(names["storageclass_name"]))["metadata"]["uid"] == new["metadata"]["uid"]


def test_moving_from_intree_to_glusterfile_needs_permission(kube, heketi, names):
    """Preparing a 1.25 cluster for 1.26: provisioner and Secret type both change, and neither can in place."""
    server = kube(OLD)
    assert run_play(server, heketi, names).rc == 0
    before = get(server, sc_path(names["storageclass_name"]))
    extra = {"storageclass_provisioner": "glusterfile"}
    refused = run_play(server, heketi, names, extra)
    assert refused.rc != 0
    message = "\n".join(refused.failures)
    assert "provisioner: 'kubernetes.io/glusterfs' -> 'gluster.org/glusterfile'" in message, message
    assert "parameters.secretName: '%s' -> (unset)" % names["storageclass_secret_name"] in message, message
    assert "parameters.restsecretname: (unset) -> '%s'" % names["storageclass_secret_name"] in message, message
    assert ("Secret %s/%s type: 'kubernetes.io/glusterfs' -> 'gluster.org/glusterfile'"
            % (SECRET_NS, names["storageclass_secret_name"])) in message, message
    assert refused.changed == 0
    assert get(server, sc_path(names["storageclass_name"]))["metadata"]["uid"] == before["metadata"]["uid"]
    assert get(server, "/apis/apps/v1/namespaces/kube-system/deployments/"
               + names["storageclass_glusterfile_name"]) is None

    moved = run_play(server, heketi, names, dict(extra, storageclass_recreate=True))
    assert moved.rc == 0, moved
    assert_secret(server, SECRET_NS, names["storageclass_secret_name"], "gluster.org/glusterfile", heketi)
    assert get(server, sc_path(names["storageclass_name"]))["provisioner"] == "gluster.org/glusterfile"
    assert get(server, "/apis/apps/v1/namespaces/kube-system/deployments/"
               + names["storageclass_glusterfile_name"]) is not None
    again = run_play(server, heketi, names, dict(extra, storageclass_recreate=True))
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()


# -- Kubernetes 1.26 and later ------------------------------------------------------------------------
@pytest.mark.parametrize("provisioner", ["auto", "intree", "glusterfile"])
def test_new_kubernetes_refuses_every_glusterfs_source_before_any_change(kube, heketi, names, provisioner):
    """From 1.26 no kubelet mounts a glusterfs: volume source, so in-tree and glusterfile are both refused."""
    server = kube(NEW)
    assert server.server_version() == NEW
    namespace = "gluster-" + names["storageclass_name"][-8:]
    result = run_play(server, heketi, names, {"storageclass_provisioner": provisioner,
                                              "storageclass_secret_namespace": namespace,
                                              "storageclass_glusterfile_namespace": namespace})
    assert result.rc != 0
    message = "\n".join(result.failures)
    assert "removed in 1.26" in message and NEW in message, message
    assert "storageclass_provisioner=csi" in message, message
    if provisioner == "glusterfile":
        assert "gluster.org/glusterfile provisioner writes PVs with the in-tree glusterfs volume source" in message, message
        assert "no volume plugin matched" in message, message
    else:
        assert "no in-tree GlusterFS provisioner" in message, message
    assert result.changed == 0
    assert get(server, sc_path(names["storageclass_name"])) is None
    assert get(server, "/api/v1/namespaces/" + namespace) is None
    assert get(server, secret_path(SECRET_NS, names["storageclass_secret_name"])) is None
    assert get(server, "/apis/rbac.authorization.k8s.io/v1/clusterroles/%s-runner"
               % names["storageclass_glusterfile_name"]) is None


def can(server, namespace: str, sa: str, verb: str, resource: str, target_ns: str, name: str = "") -> bool:
    """Ask the API server's RBAC authorizer (SubjectAccessReview) whether service account NAMESPACE/SA may
    VERB RESOURCE NAME in TARGET_NS."""
    status, review = server.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": "system:serviceaccount:%s:%s" % (namespace, sa),
                 "groups": ["system:serviceaccounts", "system:serviceaccounts:" + namespace],
                 "resourceAttributes": {"verb": verb, "resource": resource, "namespace": target_ns,
                                        "name": name}}})
    assert status == 201, (status, review)
    return review["status"]["allowed"]


def test_glusterfile_provisioner_creates_its_objects_below_126(kube, heketi, names):
    server = kube(OLD)
    namespace = "gluster-" + names["storageclass_name"][-8:]
    extra = {"storageclass_provisioner": "glusterfile", "storageclass_glusterfile_namespace": namespace,
             "storageclass_volumenameprefix": "k8s"}
    first = run_play(server, heketi, names, extra)
    assert first.rc == 0, first

    pname, sname = names["storageclass_glusterfile_name"], names["storageclass_secret_name"]
    assert get(server, "/api/v1/namespaces/" + namespace) is not None
    assert get(server, "/api/v1/namespaces/" + SECRET_NS) is not None
    assert_secret(server, SECRET_NS, sname, "gluster.org/glusterfile", heketi)
    assert get(server, "/api/v1/namespaces/%s/serviceaccounts/%s" % (namespace, pname)) is not None
    role = get(server, "/apis/rbac.authorization.k8s.io/v1/clusterroles/%s-runner" % pname)
    assert any("persistentvolumes" in rule["resources"] and "create" in rule["verbs"] for rule in role["rules"])
    assert not any("secrets" in rule["resources"] for rule in role["rules"]), role["rules"]
    binding = get(server, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/%s-runner" % pname)
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": pname, "namespace": namespace}]
    secret_role = get(server, "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/roles/%s-secret" % (SECRET_NS, pname))
    assert secret_role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": [sname],
                                     "verbs": ["get"]}]
    # What the service account may do, as the API server's RBAC authorizer answers it.
    assert can(server, namespace, pname, "get", "secrets", SECRET_NS, sname)
    assert not can(server, namespace, pname, "get", "secrets", SECRET_NS, "some-other-secret")
    assert not can(server, namespace, pname, "list", "secrets", SECRET_NS)
    assert not can(server, namespace, pname, "get", "secrets", "default", sname)
    assert not can(server, namespace, pname, "get", "secrets", namespace, "default-token")
    assert can(server, namespace, pname, "create", "persistentvolumes", "")
    dep = get(server, "/apis/apps/v1/namespaces/%s/deployments/%s" % (namespace, pname))
    pod = dep["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == pname
    assert "@sha256:" in pod["containers"][0]["image"]
    assert {"name": "PROVISIONER_NAME", "value": "gluster.org/glusterfile"} in pod["containers"][0]["env"]

    sc = get(server, sc_path(names["storageclass_name"]))
    assert sc["provisioner"] == "gluster.org/glusterfile"
    assert sc["parameters"] == {
        "resturl": heketi.url, "restuser": "admin", "restsecretnamespace": SECRET_NS,
        "restsecretname": sname, "clusterid": heketi.cluster_id,
        "volumetype": "replicate:3", "gidMin": "40000", "gidMax": "50000", "volumenameprefix": "k8s"}

    second = run_play(server, heketi, names, extra)
    assert second.rc == 0, second
    assert second.changed == 0, second.changed_tasks()


# -- connection from the K8S_AUTH_* environment (AWX), client-certificate context ------------------------
def test_k8s_auth_environment_as_injected_by_awx(kube, heketi, names):
    server = kube(OLD)
    env = {"K8S_AUTH_HOST": server.url, "K8S_AUTH_API_KEY": server.token,
           "K8S_AUTH_SSL_CA_CERT": str(server.ca_file), "K8S_AUTH_VERIFY_SSL": "true"}
    result = run_play(server, heketi, names, {"storageclass_provisioner": "glusterfile"}, env=env, auth="env")
    assert result.rc == 0, result
    assert server.token not in result.stdout
    assert get(server, sc_path(names["storageclass_name"]))["provisioner"] == "gluster.org/glusterfile"

    # Without any credentials the play fails; it does not fall back to anything else.
    denied = run_play(server, heketi, names, {"storageclass_provisioner": "glusterfile"},
                      env={"K8S_AUTH_HOST": server.url, "K8S_AUTH_SSL_CA_CERT": str(server.ca_file)}, auth="env")
    assert denied.rc != 0


def test_client_certificate_context(kube, heketi, names):
    server = kube(OLD)
    result = run_play(server, heketi, names, {"storageclass_context": "kubelab-cert"})
    assert result.rc == 0, result
    assert get(server, sc_path(names["storageclass_name"]))["provisioner"] == "kubernetes.io/glusterfs"


# -- bad input stops before anything is changed --------------------------------------------------------
@pytest.mark.parametrize("extra, fragment", [
    ({"storageclass_volumetype": "replica3"}, "storageclass_volumetype: StorageClass parameter volumetype='replica3'"),
    ({"storageclass_gidmin": 60000}, "storageclass_gidmin: StorageClass parameter gidMin='60000': greater than gidMax 50000"),
    ({"storageclass_heketi_url": "heketi:8080"}, "storageclass_heketi_url 'heketi:8080'"),
    ({"storageclass_clusterid": "not-an-id"},
     "storageclass_clusterid: StorageClass parameter clusterid='not-an-id': 'not-an-id' is not a Heketi cluster id"),
])
def test_bad_variable_is_named_and_nothing_changes(kube, heketi, names, extra, fragment):
    server = kube(OLD)
    result = run_play(server, heketi, names, extra)
    assert result.rc != 0
    assert fragment in "\n".join(result.failures), result.failures
    assert get(server, sc_path(names["storageclass_name"])) is None
    assert get(server, secret_path(SECRET_NS, names["storageclass_secret_name"])) is None


def test_heketi_without_cluster_stops_before_any_change(kube, heketi_server, names):
    server = kube(OLD)
    result = run_play(server, heketi_server, names)
    assert result.rc != 0
    assert "holds no cluster" in "\n".join(result.failures), result.failures
    assert get(server, secret_path(SECRET_NS, names["storageclass_secret_name"])) is None
    assert get(server, sc_path(names["storageclass_name"])) is None


# -- no cluster: render the manifests (what `make lab` does without a kubeconfig) -----------------------
def test_render_only_reads_key_and_clusterid_from_heketi_and_touches_no_cluster(heketi, names, tmp_path):
    out = tmp_path / "artifacts"
    result = run_play(None, heketi, names, {"storageclass_render_only": True, "storageclass_render_dir": str(out)})
    assert result.rc == 0, result
    assert not any(name.startswith(("Read the Kubernetes", "Read the existing")) and not res.get("skipped")
                   for name, res in result.tasks)
    # One file per variant, its documents in apply order (kubectl apply -f <variant>/).
    assert sorted(p.name for p in (out / "intree").iterdir()) == ["manifests.yaml"]
    assert sorted(p.name for p in (out / "glusterfile").iterdir()) == ["manifests.yaml"]
    intree_text = (out / "intree" / "manifests.yaml").read_text()
    intree = [doc for doc in yaml.safe_load_all(intree_text) if doc]
    glusterfile = [doc for doc in yaml.safe_load_all((out / "glusterfile" / "manifests.yaml").read_text()) if doc]
    sc_name = names["storageclass_name"]
    assert [(d["kind"], d["metadata"]["name"]) for d in intree] == [
        ("Namespace", SECRET_NS), ("Secret", names["storageclass_secret_name"]), ("StorageClass", sc_name)]
    assert len(glusterfile) == 9 and (glusterfile[8]["kind"], glusterfile[8]["metadata"]["name"]) == ("StorageClass", sc_name)
    # The real cluster id read from Heketi (on the "Heketi host", over loopback) and the key from heketi.json.
    assert intree[2]["parameters"]["clusterid"] == heketi.cluster_id
    assert 'clusterid: "%s"' % heketi.cluster_id in intree_text
    assert base64.b64decode(intree[1]["data"]["key"]).decode() == heketi.admin_key
    readme = (out / "README.txt").read_text()
    assert "kubectl apply -f %s/intree/" % out in readme and "kubectl apply -f %s/glusterfile/" % out in readme
    assert heketi.admin_key not in readme
