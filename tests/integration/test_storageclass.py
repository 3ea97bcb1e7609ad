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
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tools" / "kube"))

from kubelab import KubeAPIServer  # noqa: E402

OLD, NEW = "v1.25.15", "v1.37.2"
PLAYBOOK = REPO_ROOT / "playbooks" / "storageclass.yml"
VENV_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"


@pytest.fixture(scope="session")
def kube(tmp_path_factory):
    """kube(version) -> a started KubeAPIServer, one per version for the whole session."""
    servers: dict[str, KubeAPIServer] = {}

    def get(version: str) -> KubeAPIServer:
        if version not in servers:
            workdir = tmp_path_factory.mktemp("kube-" + version)
            try:
                servers[version] = KubeAPIServer(version, workdir).start()
            except RuntimeError as err:
                pytest.fail(str(err), pytrace=False)
        return servers[version]

    yield get
    for server in servers.values():
        server.stop()


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


class PlayResult:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.rc, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr
        try:
            self.doc = json.loads(proc.stdout)
        except ValueError as err:
            raise AssertionError("no JSON from ansible-playbook (rc=%s): %s\n%s\n%s"
                                 % (proc.returncode, err, proc.stdout[-3000:], proc.stderr[-3000:]))
        self.stats = self.doc["stats"].get("localhost", {})
        self.changed = self.stats.get("changed", 0)
        self.tasks = [(t["task"]["name"], t["hosts"].get("localhost", {}))
                      for play in self.doc["plays"] for t in play["tasks"]]

    @property
    def failures(self) -> list[str]:
        """Messages of the failed tasks, and of the failed items of failed loops."""
        out = []
        for _name, res in self.tasks:
            if res.get("failed"):
                out.append(res.get("msg", ""))
                out.extend(item.get("msg", "") for item in res.get("results", []) if item.get("failed"))
        return out

    def changed_tasks(self) -> list[str]:
        return [name for name, res in self.tasks if res.get("changed")]

    def __repr__(self) -> str:
        return "PlayResult(rc=%s, changed=%s, failures=%s)" % (self.rc, self.changed, self.failures)


def run_play(kube_server: KubeAPIServer | None, heketi, names: dict, extra: dict | None = None,
             env: dict | None = None, auth: str = "kubeconfig") -> PlayResult:
    variables = {
        "ansible_connection": "local",
        "ansible_python_interpreter": str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable),
        "storageclass_heketi_host": "localhost",
        # resturl as the cluster would use it; the cluster id is read "on the Heketi host" (localhost)
        # from http://127.0.0.1:<heketi_port>, the role's default path.
        "storageclass_heketi_url": heketi.url,
        "heketi_port": heketi.port,
        "storageclass_heketi_config_file": str(heketi.config_path),
        "storageclass_heketi_become": False,
        "storageclass_glusterfile_wait": False,  # no nodes: the pod is never scheduled
    }
    variables.update(names)
    if kube_server is not None and auth == "kubeconfig":
        variables.update(storageclass_kubeconfig=str(kube_server.kubeconfig), storageclass_context="kubelab")
    variables.update(extra or {})
    penv = {k: v for k, v in os.environ.items()
            if not k.startswith(("K8S_AUTH_", "HEKETI_", "KUBECONFIG")) and k.lower() not in (
                "http_proxy", "https_proxy", "all_proxy")}
    penv.update({
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        "HOME": str(Path(heketi.workdir)),  # no ~/.kube/config of the caller can leak in
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCAL_TEMP": str(Path(heketi.workdir) / "ansible-tmp"),
    })
    penv.update(env or {})
    cmd = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", str(PLAYBOOK),
           "-e", json.dumps(variables)]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=penv, capture_output=True, text=True, check=False, timeout=900)
    result = PlayResult(proc)
    assert heketi.admin_key not in proc.stdout + proc.stderr, "the Heketi admin key reached the output"
    return result


def get(kube_server: KubeAPIServer, path: str) -> dict | None:
    status, body = kube_server.request("GET", path)
    if status == 404:
        return None
    assert status == 200, (path, status, body)
    return body


def sc_path(name: str) -> str:
    return "/apis/storage.k8s.io/v1/storageclasses/" + name


def secret_path(namespace: str, name: str) -> str:
    return "/api/v1/namespaces/%s/secrets/%s" % (namespace, name)


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
    assert_secret(server, "default", names["storageclass_secret_name"], "kubernetes.io/glusterfs", heketi)
    sc = get(server, sc_path(names["storageclass_name"]))
    assert sc["provisioner"] == "kubernetes.io/glusterfs"
    assert sc["parameters"] == {
        "resturl": heketi.url, "restuser": "admin", "secretNamespace": "default",
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
    secret_before = get(server, secret_path("default", names["storageclass_secret_name"]))

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
    secret_after = get(server, secret_path("default", names["storageclass_secret_name"]))
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
    assert ("Secret default/%s type: 'kubernetes.io/glusterfs' -> 'gluster.org/glusterfile'"
            % names["storageclass_secret_name"]) in message, message
    assert refused.changed == 0
    assert get(server, sc_path(names["storageclass_name"]))["metadata"]["uid"] == before["metadata"]["uid"]
    assert get(server, "/apis/apps/v1/namespaces/kube-system/deployments/"
               + names["storageclass_glusterfile_name"]) is None

    moved = run_play(server, heketi, names, dict(extra, storageclass_recreate=True))
    assert moved.rc == 0, moved
    assert_secret(server, "default", names["storageclass_secret_name"], "gluster.org/glusterfile", heketi)
    assert get(server, sc_path(names["storageclass_name"]))["provisioner"] == "gluster.org/glusterfile"
    assert get(server, "/apis/apps/v1/namespaces/kube-system/deployments/"
               + names["storageclass_glusterfile_name"]) is not None
    again = run_play(server, heketi, names, dict(extra, storageclass_recreate=True))
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()


# -- Kubernetes 1.26 and later ------------------------------------------------------------------------
@pytest.mark.parametrize("provisioner", ["auto", "intree"])
def test_new_kubernetes_without_choice_stops_before_any_change(kube, heketi, names, provisioner):
    server = kube(NEW)
    assert server.server_version() == NEW
    result = run_play(server, heketi, names, {"storageclass_provisioner": provisioner,
                                              "storageclass_secret_namespace": "gluster-" + names[
                                                  "storageclass_name"][-8:]})
    assert result.rc != 0
    message = "\n".join(result.failures)
    assert "removed in 1.26" in message and "storageclass_provisioner=glusterfile" in message, message
    assert NEW in message
    assert result.changed == 0
    assert get(server, sc_path(names["storageclass_name"])) is None
    assert get(server, "/api/v1/namespaces/gluster-" + names["storageclass_name"][-8:]) is None
    assert get(server, secret_path("default", names["storageclass_secret_name"])) is None


@pytest.mark.parametrize("version", [NEW, OLD])
def test_glusterfile_provisioner_creates_its_objects(kube, heketi, names, version):
    server = kube(version)
    namespace = "gluster-" + names["storageclass_name"][-8:]
    extra = {"storageclass_provisioner": "glusterfile", "storageclass_secret_namespace": namespace,
             "storageclass_glusterfile_namespace": namespace, "storageclass_volumenameprefix": "k8s"}
    first = run_play(server, heketi, names, extra)
    assert first.rc == 0, first

    pname = names["storageclass_glusterfile_name"]
    assert get(server, "/api/v1/namespaces/" + namespace) is not None
    assert_secret(server, namespace, names["storageclass_secret_name"], "gluster.org/glusterfile", heketi)
    assert get(server, "/api/v1/namespaces/%s/serviceaccounts/%s" % (namespace, pname)) is not None
    role = get(server, "/apis/rbac.authorization.k8s.io/v1/clusterroles/%s-runner" % pname)
    assert any("persistentvolumes" in rule["resources"] and "create" in rule["verbs"] for rule in role["rules"])
    binding = get(server, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/%s-runner" % pname)
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": pname, "namespace": namespace}]
    dep = get(server, "/apis/apps/v1/namespaces/%s/deployments/%s" % (namespace, pname))
    pod = dep["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == pname
    assert "@sha256:" in pod["containers"][0]["image"]
    assert {"name": "PROVISIONER_NAME", "value": "gluster.org/glusterfile"} in pod["containers"][0]["env"]

    sc = get(server, sc_path(names["storageclass_name"]))
    assert sc["provisioner"] == "gluster.org/glusterfile"
    assert sc["parameters"] == {
        "resturl": heketi.url, "restuser": "admin", "restsecretnamespace": namespace,
        "restsecretname": names["storageclass_secret_name"], "clusterid": heketi.cluster_id,
        "volumetype": "replicate:3", "gidMin": "40000", "gidMax": "50000", "volumenameprefix": "k8s"}

    second = run_play(server, heketi, names, extra)
    assert second.rc == 0, second
    assert second.changed == 0, second.changed_tasks()


# -- connection from the K8S_AUTH_* environment (AWX), client-certificate context ------------------------
def test_k8s_auth_environment_as_injected_by_awx(kube, heketi, names):
    server = kube(NEW)
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
    ({"storageclass_volumetype": "replica3"}, "storageclass_volumetype 'replica3'"),
    ({"storageclass_gidmin": 60000}, "storageclass_gidmin (60000) must not exceed storageclass_gidmax (50000)"),
    ({"storageclass_heketi_url": "heketi:8080"}, "storageclass_heketi_url 'heketi:8080'"),
    ({"storageclass_clusterid": "not-an-id"}, "storageclass_clusterid 'not-an-id'"),
])
def test_bad_variable_is_named_and_nothing_changes(kube, heketi, names, extra, fragment):
    server = kube(OLD)
    result = run_play(server, heketi, names, extra)
    assert result.rc != 0
    assert fragment in "\n".join(result.failures), result.failures
    assert get(server, sc_path(names["storageclass_name"])) is None
    assert get(server, secret_path("default", names["storageclass_secret_name"])) is None


def test_heketi_without_cluster_stops_before_any_change(kube, heketi_server, names):
    server = kube(OLD)
    result = run_play(server, heketi_server, names)
    assert result.rc != 0
    assert "holds no cluster" in "\n".join(result.failures), result.failures
    assert get(server, secret_path("default", names["storageclass_secret_name"])) is None
    assert get(server, sc_path(names["storageclass_name"])) is None


# -- no cluster: render the manifests (what `make lab` does without a kubeconfig) -----------------------
def test_render_only_reads_key_and_clusterid_from_heketi_and_touches_no_cluster(heketi, names, tmp_path):
    out = tmp_path / "artifacts"
    result = run_play(None, heketi, names, {"storageclass_render_only": True, "storageclass_render_dir": str(out)})
    assert result.rc == 0, result
    assert not any(name.startswith(("Read the Kubernetes", "Read the existing")) and not res.get("skipped")
                   for name, res in result.tasks)
    intree = {p.name: p.read_text() for p in (out / "intree").glob("*.yaml")}
    glusterfile = {p.name: p.read_text() for p in (out / "glusterfile").glob("*.yaml")}
    sc_name = names["storageclass_name"]
    assert set(intree) == {"00-secret-%s.yaml" % names["storageclass_secret_name"],
                           "01-storageclass-%s.yaml" % sc_name}
    assert "05-storageclass-%s.yaml" % sc_name in glusterfile
    # The real cluster id read from Heketi (on the "Heketi host", over loopback) and the key from heketi.json.
    assert 'clusterid: "%s"' % heketi.cluster_id in intree["01-storageclass-%s.yaml" % sc_name]
    secret = intree["00-secret-%s.yaml" % names["storageclass_secret_name"]]
    assert base64.b64encode(heketi.admin_key.encode()).decode() in secret
    readme = (out / "README.txt").read_text()
    assert "kubectl apply -f %s/intree/" % out in readme and "kubectl apply -f %s/glusterfile/" % out in readme
    assert heketi.admin_key not in readme
