# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tests' Kubernetes node (tools/kube/node.py) on both versions: the real kubelet and a containerd of its own
register a node that turns Ready; the real kube-scheduler places a pod (no nodeName) that runs as a non-root user
from the locally made busybox image and Succeeds; a running pod answers an exec through containerd; and once the
node is stopped the host is as it was: the kernel settings the kubelet rewrites, no /var/lib/kubelet,
/var/log/pods, /opt/containerd (...), no cgroup, link or mount of the node's, no process of it.
"""
from __future__ import annotations

import pytest
from kubenode import cluster, create, delete, host_state, pod, processes_under, wait_pod
from kubetest import NEW, OLD

NS = "default"


@pytest.mark.parametrize("version", [OLD, NEW])
def test_node_runs_pods_and_leaves_the_host_as_found(version, tmp_path):
    before = host_state()
    lab = cluster(version, tmp_path)
    node = lab.node
    try:
        ident = create(lab.api, "/api/v1/namespaces/%s/pods" % NS,
                       pod("ident", "echo hello from $(hostname); id -u; id -g"))
        assert "nodeName" not in ident["spec"]
        wait_pod(lab.api, NS, "ident", ("Succeeded",), node=node)
        placed = lab.api.request("GET", "/api/v1/namespaces/%s/pods/ident" % NS)[1]
        assert placed["spec"]["nodeName"] == node.name  # the real kube-scheduler placed it
        assert node.pod_log(NS, "ident").split() == ["hello", "from", "ident", "1000", "1000"]

        create(lab.api, "/api/v1/namespaces/%s/pods" % NS, pod("sleeper", "sleep 3600", restart="Always"))
        wait_pod(lab.api, NS, "sleeper", ("Running",), node=node)
        assert node.exec(NS, "sleeper", ["sh", "-c", "echo $((6 * 7))"]).stdout.strip() == "42"
        # What the kubelet made lives in the node's namespace, not on the host.
        assert any(" /var/lib/kubelet " in line and "shared:" in line for line in node.mounts())
        delete(lab.api, "/api/v1/namespaces/%s/pods/sleeper" % NS)
    finally:
        left = lab.stop()
    assert left == [], "the node left on the host: %s" % left
    after = host_state()
    assert after["sysctls"] == before["sysctls"]
    assert after["paths"] == before["paths"]
    assert not {c for c in after["cgroups"] - before["cgroups"] if node.node_id in c}
    assert node.bridge not in after["links"]
    assert str(tmp_path) not in after["mounts"]
    assert processes_under(tmp_path) == []
