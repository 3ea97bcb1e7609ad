# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What tools/kube/node.py writes for each Kubernetes version, and the images tools/kube/images.py makes (no
kubelet runs here: tests/integration/test_kube_node.py runs it)."""
from __future__ import annotations

import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tools" / "kube"))

import images  # noqa: E402
import node  # noqa: E402


class FakeAPI:
    def __init__(self, version):
        self.version = version
        self.kubeconfig = Path("/nonexistent/kubeconfig")


@pytest.fixture
def make_node(tmp_path, monkeypatch):
    monkeypatch.setattr(node, "ensure_built", lambda version, name: Path("/bin/true"))

    def make(version):
        return node.KubeNode(FakeAPI(version), tmp_path / version)
    return make


@pytest.mark.parametrize("version,endpoint_in_config,cgroupv1_field", [
    ("v1.25.15", False, False), ("v1.37.2", True, True)])
def test_kubelet_config_per_version(make_node, version, endpoint_in_config, cgroupv1_field):
    kube_node = make_node(version)
    spec = kube_node._write_files()
    config = json.loads((kube_node.workdir / "kubelet.json").read_text())
    assert ("containerRuntimeEndpoint" in config) is endpoint_in_config
    assert ("--container-runtime-endpoint" in spec["kubelet"]) is not endpoint_in_config
    assert (config.get("failCgroupV1") is False) is cgroupv1_field
    # Nothing of the kubelet listens beyond loopback; its cgroups never meet another kubelet's.
    assert config["address"] == config["healthzBindAddress"] == "127.0.0.1"
    assert config["readOnlyPort"] == 0
    assert config["cgroupRoot"] == "/" + kube_node.node_id
    assert config["makeIPTablesUtilChains"] is False
    assert config["volumePluginDir"].startswith("/var/lib/kubelet/")
    # The kernel settings the kubelet rewrites are files of the node's folder inside its namespace.
    assert "/proc/sys/vm/overcommit_memory" in spec["sysctls"]
    assert all(Path(v).parent == kube_node.workdir / "sysctl" for v in spec["sysctls"].values())


def test_containerd_config_is_the_nodes_own(make_node):
    kube_node = make_node("v1.37.2")
    kube_node._write_files()
    text = (kube_node.workdir / "containerd.toml").read_text()
    assert "restrict_oom_score_adj = true" in text
    assert "SystemdCgroup = false" in text
    assert 'address = "%s"' % kube_node.socket in text
    assert str(kube_node.workdir / "containerd-opt") in text  # not /opt/containerd
    assert "/run/containerd/containerd.sock" not in text  # never docker's
    cni = json.loads((kube_node.workdir / "cni" / "10-node.conflist").read_text())
    bridge = cni["plugins"][0]
    assert bridge["bridge"] == kube_node.bridge and len(bridge["bridge"]) <= 15
    assert bridge["ipMasq"] is False


def test_subnet_avoids_the_hosts_routes(monkeypatch):
    taken = "".join("10.%d.%d.0/24 dev x\n" % (a, b) for a in range(200, 208) for b in range(128))

    class Done:
        stdout = taken
    monkeypatch.setattr(node.subprocess, "run", lambda *a, **k: Done())
    for attempt in range(20):
        assert int(node.KubeNode._subnet().split(".")[2]) >= 128, attempt


def test_busybox_archive_has_a_shell(tmp_path):
    if not images.BUSYBOX.exists():
        pytest.skip("busybox-static is not installed (tools/install-system.sh)")
    name, archive = images.busybox_image(tmp_path)
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert manifest[0]["RepoTags"] == [name]
        config = json.load(tar.extractfile(manifest[0]["Config"]))
        layer = tarfile.open(fileobj=io.BytesIO(tar.extractfile(manifest[0]["Layers"][0]).read()))
    members = {m.name: m for m in layer.getmembers()}
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "/bin/busybox"
    assert members["bin/busybox"].mode & 0o111
    assert config["config"]["Cmd"] == ["/bin/sh"]
    assert config["rootfs"]["diff_ids"][0].startswith("sha256:")
