# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the Kubernetes tests (test_storageclass.py, test_provisioning.py, the smoke playbook).

- kube                (session fixture, via conftest) kube(version) -> a started KubeAPIServer, one per
                      version; up to 1.25 with the real kube-controller-manager beside it
- run_play(...)       ansible-playbook playbooks/storageclass.yml (or another playbook) as users run it
- get / sc_path / secret_path   read objects back from the API server
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tools" / "kube"))

from kubelab import KubeAPIServer, has_in_tree_glusterfs  # noqa: E402

OLD, NEW = "v1.25.15", "v1.37.2"
PLAYBOOK = REPO_ROOT / "playbooks" / "storageclass.yml"
VENV_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"


@pytest.fixture(scope="session")
def kube(tmp_path_factory):
    """kube(version) -> a started KubeAPIServer, one per version for the whole session."""
    servers: dict[str, KubeAPIServer] = {}

    def start(version: str) -> KubeAPIServer:
        if version not in servers:
            workdir = tmp_path_factory.mktemp("kube-" + version)
            try:
                servers[version] = KubeAPIServer(
                    version, workdir, controller_manager=has_in_tree_glusterfs(version)).start()
            except RuntimeError as err:
                pytest.fail(str(err), pytrace=False)
        return servers[version]

    yield start
    for server in servers.values():
        server.stop()


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
             env: dict | None = None, auth: str = "kubeconfig", playbook: Path = PLAYBOOK) -> PlayResult:
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
    cmd = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", str(playbook),
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


def wait_for(what: str, probe, timeout: float = 180, interval: float = 1.0, explain=None):
    """Call PROBE every INTERVAL seconds until it returns something truthy; return that. Fail naming WHAT, the last
    value and, when given, what EXPLAIN() returns (the state that helps find the cause)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    pytest.fail("%s: not within %ss (last: %r)%s" % (what, timeout, last, "\n" + explain() if explain else ""),
                pytrace=False)
    return None
