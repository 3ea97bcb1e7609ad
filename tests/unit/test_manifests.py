# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every manifest the storageclass role renders is valid for Kubernetes 1.25 and for the newest release.

The role itself renders them (playbooks/storageclass.yml with storageclass_render_only=true, no cluster),
for the default variables and for a variant using every optional field; each document of each variant's one file is then validated
with kubernetes-validate against the official OpenAPI schemas, strictly (unknown fields fail). A rerun
writes nothing and reports no change; files of the older one-file-per-object layout are removed.
"""
from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

try:
    import kubernetes_validate
except ImportError:  # e.g. a lean ansible-core 2.16 lane: the rendering checks still run
    kubernetes_validate = None

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO_ROOT / "playbooks" / "storageclass.yml"
# 1.25: the last release with the in-tree provisioner; 1.37: the newest schema kubernetes-validate carries.
SCHEMA_VERSIONS = ("1.25", "1.37")
CLUSTERID = "0123456789abcdef0123456789abcdef"
# The Secret's namespace when not set: one of its own, not "default".
SECRET_NS = "glusterfs-heketi"
KEY = "render-test-admin-key"

VARIANTS = {
    "defaults": {},
    "everything": {
        "storageclass_name": "gluster-fast",
        "storageclass_default": True,
        "storageclass_secret_namespace": "gluster-secrets",
        "storageclass_glusterfile_namespace": "gluster-provisioner",
        "storageclass_volumetype": "disperse:4:2",
        "storageclass_volumenameprefix": "k8s",
        "storageclass_volumeoptions": "features.shard enable",
        "storageclass_gidmin": 2000,
        "storageclass_gidmax": 2999,
        "storageclass_reclaim_policy": "Retain",
        "storageclass_allow_volume_expansion": False,
        "storageclass_volume_binding_mode": "WaitForFirstConsumer",
        "storageclass_mount_options": ["log-level=WARNING"],
        "storageclass_clusterid": CLUSTERID + "," + "f" * 32,
    },
}


def _playbook() -> str:
    """The ansible-playbook of the Python running the tests (so a 2.16 lane renders with 2.16)."""
    candidate = Path(sys.executable).parent / "ansible-playbook"
    return str(candidate if candidate.exists() else REPO_ROOT / ".venv" / "bin" / "ansible-playbook")


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def rendered(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("render-" + request.param) / "artifacts"
    extra = {
        "storageclass_render_only": True,
        "storageclass_render_dir": str(out),
        "storageclass_heketi_admin_key": KEY,
        "storageclass_clusterid": CLUSTERID,
        "storageclass_heketi_url": "http://heketi.storage.example:8080",
        "ansible_python_interpreter": sys.executable,
    }
    extra.update(VARIANTS[request.param])
    proc = _run(extra)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert KEY not in proc.stdout + proc.stderr, "the Heketi key reached the output"
    return Rendered(request.param, extra, out, proc)


class Rendered:
    def __init__(self, name: str, extra: dict, out: Path, proc: subprocess.CompletedProcess):
        self.name, self.extra, self.out, self.proc = name, extra, out, proc


def _run(extra: dict, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return subprocess.run([_playbook(), str(PLAYBOOK), "-e", json.dumps(extra), *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, check=False)


def _recap(proc: subprocess.CompletedProcess) -> dict:
    [line] = [line for line in proc.stdout.splitlines() if line.startswith("localhost ") and "ok=" in line]
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}


def _docs(folder: Path) -> list[dict]:
    """The objects of a variant, in the order kubectl applies them (the folder holds one file)."""
    assert sorted(path.name for path in folder.iterdir()) == ["manifests.yaml"]
    return [doc for doc in yaml.safe_load_all((folder / "manifests.yaml").read_text()) if doc is not None]


def _doc(folder: Path, kind: str) -> dict:
    [doc] = [doc for doc in _docs(folder) if doc["kind"] == kind]
    return doc


def test_both_variants_are_rendered_with_all_objects(rendered):
    extra, out = rendered.extra, rendered.out
    kinds = {variant: [doc["kind"] for doc in _docs(out / variant)] for variant in ("intree", "glusterfile")}
    assert kinds["intree"] == ["Namespace", "Secret", "StorageClass"]  # the Secret's namespace is not built in
    assert kinds["glusterfile"][-7:] == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
                                         "RoleBinding", "Deployment", "StorageClass"]
    assert "Namespace" in kinds["glusterfile"]
    assert (out / "README.txt").is_file()


@pytest.mark.parametrize("schema", SCHEMA_VERSIONS)
def test_every_manifest_validates_strictly(rendered, schema):
    if kubernetes_validate is None:
        pytest.skip("kubernetes-validate is not installed")
    out = rendered.out
    docs = [(variant, doc) for variant in ("intree", "glusterfile") for doc in _docs(out / variant)]
    assert len(docs) >= 10
    for variant, doc in docs:
        try:
            kubernetes_validate.validate(doc, schema, strict=True)
        except kubernetes_validate.ValidationError as err:  # pragma: no cover - the failure message
            pytest.fail("%s %s of %s is invalid for Kubernetes %s: %s"
                        % (doc["kind"], doc["metadata"]["name"], variant, schema, err))


def test_storageclass_fields_and_quoted_parameters(rendered):
    extra, out = rendered.extra, rendered.out
    for variant, provisioner, ref_keys in (
            ("intree", "kubernetes.io/glusterfs", ("secretNamespace", "secretName")),
            ("glusterfile", "gluster.org/glusterfile", ("restsecretnamespace", "restsecretname"))):
        sc_path = out / variant / "manifests.yaml"
        sc = _doc(out / variant, "StorageClass")
        assert _docs(out / variant)[-1]["kind"] == "StorageClass"  # applied last, after the Secret
        params = sc["parameters"]
        assert sc["provisioner"] == provisioner
        assert params[ref_keys[0]] == extra.get("storageclass_secret_namespace", SECRET_NS)
        assert params[ref_keys[1]] == "heketi-secret"
        assert params["resturl"] == "http://heketi.storage.example:8080"
        assert params["restuser"] == "admin"
        assert params["clusterid"] == extra["storageclass_clusterid"]
        assert params["volumetype"] == extra.get("storageclass_volumetype", "replicate:3")
        assert params["gidMin"] == str(extra.get("storageclass_gidmin", 40000))
        assert params["gidMax"] == str(extra.get("storageclass_gidmax", 50000))
        assert ("volumenameprefix" in params) == ("storageclass_volumenameprefix" in extra)
        assert all(isinstance(v, str) for v in params.values()), params
        # Every parameter value is quoted in the file, not only typed as a string by the YAML dumper
        # (the StorageClass is the file's last document, its parameters the document's end).
        block = sc_path.read_text().split("\nparameters:\n", 1)[1]
        for line in block.splitlines():
            if line.startswith("  ") and not line.lstrip().startswith("#"):
                assert re.match(r'^  [A-Za-z]+: ".*"$', line), line
        assert sc["reclaimPolicy"] == extra.get("storageclass_reclaim_policy", "Delete")
        assert sc["allowVolumeExpansion"] is extra.get("storageclass_allow_volume_expansion", True)
        assert sc["volumeBindingMode"] == extra.get("storageclass_volume_binding_mode", "Immediate")
        assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == (
            "true" if extra.get("storageclass_default") else "false")
        assert sc.get("mountOptions", []) == extra.get("storageclass_mount_options", [])


def test_secret_holds_the_key_and_files_are_private(rendered):
    extra, out = rendered.extra, rendered.out
    for variant, secret_type in (("intree", "kubernetes.io/glusterfs"), ("glusterfile", "gluster.org/glusterfile")):
        secret = _doc(out / variant, "Secret")
        assert secret["type"] == secret_type
        assert base64.b64decode(secret["data"]["key"]).decode() == KEY
        assert secret["metadata"]["namespace"] == extra.get("storageclass_secret_namespace", SECRET_NS)
    for path in out.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, "%s is mode %o" % (path, mode)


def test_glusterfile_deployment_is_pinned_and_bound_to_its_service_account(rendered):
    extra, out = rendered.extra, rendered.out
    docs = {doc["kind"]: doc for doc in _docs(out / "glusterfile")}
    dep = docs["Deployment"]
    ns = extra.get("storageclass_glusterfile_namespace", "kube-system")
    assert dep["metadata"]["namespace"] == ns
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert "@sha256:" in container["image"] or re.search(r":[^:/]+$", container["image"])
    assert not container["image"].endswith(":latest")
    assert {"name": "PROVISIONER_NAME", "value": "gluster.org/glusterfile"} in container["env"]
    assert dep["spec"]["template"]["spec"]["serviceAccountName"] == docs["ServiceAccount"]["metadata"]["name"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    binding = docs["ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == docs["ClusterRole"]["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": docs["ServiceAccount"]["metadata"]["name"],
                                    "namespace": ns}]
    rules = {(g, r) for rule in docs["ClusterRole"]["rules"] for g in rule["apiGroups"] for r in rule["resources"]}
    assert {("", "persistentvolumes"), ("", "persistentvolumeclaims"), ("storage.k8s.io", "storageclasses"),
            ("", "endpoints"), ("", "services")} <= rules
    # The key: get on that one Secret, in its namespace (a Role), never on every Secret of the cluster.
    assert ("", "secrets") not in rules
    secret_ns = extra.get("storageclass_secret_namespace", SECRET_NS)
    assert docs["Role"]["metadata"]["namespace"] == secret_ns
    assert docs["Role"]["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["heketi-secret"],
                                      "verbs": ["get"]}]
    assert docs["RoleBinding"]["metadata"]["namespace"] == secret_ns
    assert docs["RoleBinding"]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                              "name": docs["Role"]["metadata"]["name"]}
    assert docs["RoleBinding"]["subjects"] == binding["subjects"]


def test_rerun_writes_nothing_and_removes_the_older_layout(rendered):
    if rendered.name != "defaults":
        pytest.skip("one variable set is enough")
    out = rendered.out
    assert _recap(rendered.proc)["changed"] >= 3  # the folders and the files were written
    before = {path: path.read_text() for path in out.rglob("*") if path.is_file()}
    # What the one-file-per-object layout left (kubectl apply -f intree/ would apply it a second time),
    # beside a file of the user's that the role must leave alone.
    (out / "intree" / "00-namespace-glusterfs-heketi.yaml").write_text("apiVersion: v1\nkind: Namespace\n")
    (out / "glusterfile" / "08-storageclass-glusterfs.yaml").write_text("kind: StorageClass\n")
    (out / "notes.txt").write_text("mine\n")
    migrated = _run(rendered.extra)
    assert migrated.returncode == 0, migrated.stdout[-4000:]
    assert _recap(migrated)["changed"] == 1, migrated.stdout[-4000:]  # the removal only
    assert not (out / "intree" / "00-namespace-glusterfs-heketi.yaml").exists()
    assert not (out / "glusterfile" / "08-storageclass-glusterfs.yaml").exists()
    assert (out / "notes.txt").read_text() == "mine\n"
    (out / "notes.txt").unlink()
    assert {path: path.read_text() for path in out.rglob("*") if path.is_file()} == before
    # Nothing new: nothing written, and the report says so (check mode too).
    for args in ((), ("--check",)):
        proc = _run(rendered.extra, *args)
        assert proc.returncode == 0, proc.stdout[-4000:]
        assert _recap(proc)["changed"] == 0, proc.stdout[-4000:]
        assert KEY not in proc.stdout + proc.stderr
    # A file whose mode or content drifted is written again, and only that one.
    (out / "intree" / "manifests.yaml").chmod(0o644)
    fixed = _run(rendered.extra)
    assert _recap(fixed)["changed"] == 1, fixed.stdout[-4000:]
    assert stat.S_IMODE((out / "intree" / "manifests.yaml").stat().st_mode) == 0o600


@pytest.mark.parametrize("provisioner,extra,variable", [
    ("csi", {"storageclass_volumeoptions": "performance.cache-size $(id)"}, "storageclass_volumeoptions"),
    ("csi", {"storageclass_volumeoptions": "performance.cache-size${IFS}1;id"}, "storageclass_volumeoptions"),
    ("auto", {"storageclass_volumeoptions": "features.shard enable, user.x `id`"}, "storageclass_volumeoptions"),
    ("auto", {"storageclass_volumenameprefix": "team_a"}, "storageclass_volumenameprefix"),
    ("csi", {"storageclass_volumenameprefix": "a" * 41}, "storageclass_volumenameprefix"),
])
def test_parameters_the_driver_or_heketi_would_refuse_stop_the_role(tmp_path, provisioner, extra, variable):
    """The role checks the variables that become StorageClass parameters by the driver's own contract
    (tests/contracts/storageclass_parameters.json): volume options that would reach Heketi's root shell, and a
    prefix the provisioner refuses, stop the play before anything is rendered, naming the variable."""
    out = tmp_path / "artifacts"
    proc = _run(dict({"storageclass_render_only": True, "storageclass_render_dir": str(out),
                      "storageclass_heketi_admin_key": KEY, "storageclass_clusterid": CLUSTERID,
                      "storageclass_heketi_url": "http://heketi.storage.example:8080",
                      "storageclass_provisioner": provisioner, "storageclass_csi_image": "registry.example.test/heketi-csi:1",
                      "ansible_python_interpreter": sys.executable}, **extra))
    assert proc.returncode != 0
    assert variable + ": StorageClass parameter" in proc.stdout, proc.stdout[-3000:]
    assert not out.exists() or not any(out.rglob("*.yaml"))


# The render-only path says which Kubernetes the manifests are for (issue 25): from 1.26 on the in-tree and glusterfile
# provisioners are refused there too, before anything is written; below it auto renders the in-tree variant only.
def _render_for(tmp_path, version, provisioner="auto"):
    out = tmp_path / "artifacts"
    extra = {"storageclass_render_only": True, "storageclass_render_dir": str(out), "storageclass_heketi_admin_key": KEY,
             "storageclass_clusterid": CLUSTERID, "storageclass_heketi_url": "http://heketi.storage.example:8080",
             "storageclass_provisioner": provisioner, "storageclass_kubernetes_version": version,
             "ansible_python_interpreter": sys.executable}
    return _run(extra), out


def test_render_for_kubernetes_1_28_refuses_the_glusterfs_volume_source_before_writing(tmp_path):
    proc, out = _render_for(tmp_path, "1.28")
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "Kubernetes v1.28 has no in-tree GlusterFS provisioner" in proc.stdout, proc.stdout[-3000:]
    assert "storageclass_provisioner=csi" in proc.stdout
    assert not out.exists()


def test_render_for_kubernetes_1_25_writes_the_intree_variant_only(tmp_path):
    proc, out = _render_for(tmp_path, "1.25.16")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["intree"]


def test_a_kubernetes_version_that_is_not_one_is_named(tmp_path):
    proc, _out = _render_for(tmp_path, "v1.28")
    assert proc.returncode != 0
    assert "storageclass_kubernetes_version 'v1.28' must be a Kubernetes version such as 1.25 or 1.28.4" in proc.stdout
