# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the tests that run pods on a real kubelet (tools/kube/node.py): test_kube_node.py,
test_pods_intree.py, test_pods_csi.py.

- cluster(version, tmp)      a control plane with kube-scheduler and the controllers of a cluster with nodes,
                             and one node; stop() ends both and returns what the node left on the host
- pod(name, command, ...)    a pod manifest: the busybox image of tools/kube/images.py, a non-root user
- wait_pod(api, ns, name, phases)     the pod's phase once it is one of PHASES; fails with its last events
- host_state(workdir)        what a node may not leave behind, to compare before and after
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tools" / "kube"))

import images  # noqa: E402
from kubelab import NODE_CONTROLLERS, KubeAPIServer  # noqa: E402
from node import SYSCTLS, KubeNode  # noqa: E402

# Paths the kubelet and containerd create on a host whatever their flags say, and that the node's namespace must
# keep off this one.
HOST_PATHS = ("/var/lib/kubelet", "/var/log/pods", "/var/log/containers", "/opt/containerd", "/var/lib/containerd",
              "/run/containerd/containerd.sock.ttrpc", "/usr/libexec/kubernetes", "/etc/cni/net.d",
              "/var/lib/cni", "/run/flannel")


class Cluster:
    """A control plane (kube-scheduler, the controllers of a cluster with nodes) and NODES nodes node-1, node-2..."""

    def __init__(self, version: str, workdir: Path, nodes: int = 1):
        self.api = KubeAPIServer(version, workdir / "kube", controller_manager=True, scheduler=True,
                                 controllers=NODE_CONTROLLERS).start()
        self.nodes: list[KubeNode] = []
        try:
            for i in range(1, nodes + 1):
                self.nodes.append(KubeNode(self.api, workdir / ("node%d" % i), name="node-%d" % i).start())
        except BaseException:
            self.stop()
            raise
        self.node = self.nodes[0]

    def stop(self) -> list[str]:
        left = []
        for node in self.nodes:
            left += node.stop()
        self.api.stop()
        return left


def cluster(version: str, workdir: Path, nodes: int = 1) -> Cluster:
    try:
        return Cluster(version, workdir, nodes)
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)


def pod(name: str, command: str, volumes: list | None = None, mounts: list | None = None, user: int = 1000,
        restart: str = "Never", image: str = images.BUSYBOX_IMAGE, extra: dict | None = None) -> dict:
    """A pod of one container running COMMAND (sh -c) as user USER (group USER, fsGroup USER)."""
    spec = {
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": 2,
        "securityContext": {"runAsUser": user, "runAsGroup": user, "fsGroup": user, "runAsNonRoot": user != 0},
        "containers": [{"name": "main", "image": image, "imagePullPolicy": "Never",
                        "command": ["sh", "-c", command], "volumeMounts": mounts or []}],
        "volumes": volumes or [],
    }
    spec.update(extra or {})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def create(api: KubeAPIServer, path: str, body: dict) -> dict:
    status, out = api.request("POST", path, body)
    assert status in (200, 201), (path, status, out)
    return out


def events(api: KubeAPIServer, namespace: str, kind: str, name: str) -> list[str]:
    status, body = api.request("GET", "/api/v1/namespaces/%s/events?fieldSelector=involvedObject.name=%s"
                               % (namespace, name))
    if status != 200:
        return []
    return ["%s %s: %s" % (e.get("type"), e.get("reason"), e.get("message")) for e in body.get("items", [])
            if e["involvedObject"].get("kind") == kind]


def wait_pod(api: KubeAPIServer, namespace: str, name: str, phases=("Succeeded",), timeout: float = 180,
             node: KubeNode | None = None) -> str:
    """Wait until pod NAME's phase is one of PHASES (Running also needs every container ready)."""
    deadline = time.monotonic() + timeout
    phase, body = None, {}
    while time.monotonic() < deadline:
        status, body = api.request("GET", "/api/v1/namespaces/%s/pods/%s" % (namespace, name))
        assert status == 200, (status, body)
        phase = body.get("status", {}).get("phase")
        ready = all(c.get("ready") for c in body.get("status", {}).get("containerStatuses", [{}]))
        if phase in phases and (phase != "Running" or ready):
            return phase
        if phase in ("Succeeded", "Failed") and phase not in phases:
            break
        time.sleep(0.5)
    detail = "\n".join(events(api, namespace, "Pod", name)[-8:])
    if node is not None:
        detail += "\nlog:\n" + node.pod_log(namespace, name)[-2000:]
    pytest.fail("pod %s/%s is %s, not %s:\n%s\nstatus: %s" % (namespace, name, phase, "/".join(phases), detail,
                                                              body.get("status")), pytrace=False)


def delete(api: KubeAPIServer, path: str, timeout: float = 120) -> None:
    """DELETE PATH and wait until it is gone."""
    api.request("DELETE", path)
    wait_gone(api, path, timeout)


def wait_gone(api: KubeAPIServer, path: str, timeout: float = 120) -> None:
    """Wait until PATH is gone (what a controller deletes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.request("GET", path)[0] == 404:
            return
        time.sleep(0.5)
    pytest.fail("%s still exists %ss after its deletion" % (path, timeout), pytrace=False)


def host_state() -> dict:
    """What a node may change on the host: the kernel settings the kubelet rewrites, the paths it creates, the
    top-level cgroups, the network links and the host's mount table."""
    cgroups = set()
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        if hierarchy.is_dir() and not hierarchy.is_symlink():
            cgroups.update("%s/%s" % (hierarchy.name, d.name) for d in hierarchy.iterdir() if d.is_dir())
    return {
        "sysctls": {key: (Path("/proc/sys") / key).read_text().strip() for key in SYSCTLS
                    if (Path("/proc/sys") / key).exists()},
        "paths": sorted(p for p in HOST_PATHS if os.path.lexists(p)),
        "cgroups": cgroups,
        "links": set(os.listdir("/sys/class/net")),
        "mounts": Path("/proc/self/mountinfo").read_text(),
    }


def processes_under(path: Path) -> list[str]:
    """Processes whose command line names PATH (a node's containerd, kubelet, shims)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(path) in cmdline:
            out.append("%s %s" % (entry.name, cmdline[:200]))
    return out
