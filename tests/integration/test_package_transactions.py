# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The package tasks of glusterfs_server, glusterfs_client and heketi run only when a package is missing, on a
real lab (tools/lab/lab: 2 storage nodes and a client, Debian 12, packages from Debian's mirror).

- a rerun skips the package transactions on every host (the one database read of
  glusterfs.heketi.installed_packages_info found everything installed);
- a package removed behind the roles' back (dpkg -r --force-depends) is installed again, on that host only: a
  package of glusterfs_server_packages_extra on a node, the client package on the client, the ssh client on the
  Heketi host;
- check mode reports that install as a change and installs nothing;
- a version-pinned entry (name=version) is never taken for installed: the transaction runs.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from heketi_server import ensure_built  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"
LAB_TOOL = ROOT / "tools" / "lab" / "lab"
LAB = os.environ.get("PACKAGE_TRANSACTIONS_LAB_NAME", "ghpkgtx")
# Small, not in the lab image, only libc6 as dependency.
EXTRA = "tree"
SERVER_TASK = "glusterfs.heketi.glusterfs_server : Install the packages (apt)"
SERVER_PLAN_TASK = "glusterfs.heketi.glusterfs_server : Say which packages a real run installs (check mode, package index not refreshed)"
CLIENT_TASK = "glusterfs.heketi.glusterfs_client : Install the client (apt)"
HEKETI_TASK = "glusterfs.heketi.heketi : Install the ssh client and the certificate tools (apt)"


def dexec(box, command, check=True):
    return subprocess.run(["docker", "exec", box, "sh", "-c", command], capture_output=True, text=True, check=check)


def installed(box, package):
    return dexec(box, "dpkg-query -W -f '${db:Status-Abbrev}' %s" % package, check=False).stdout.startswith("ii")


def task_results(output, task):
    """{host: status} the default callback printed for the task (ok, changed, skipping)."""
    block = re.search(r"^TASK \[%s\] \**\n(.*?)(?=^TASK |^PLAY RECAP)" % re.escape(task), output, re.S | re.M)
    assert block, "task %r did not appear:\n%s" % (task, output[-3000:])
    return {host: status for status, host in re.findall(r"^(ok|changed|skipping|failed|fatal): \[([^\]]+)\]", block.group(1), re.M)}


class Lab:
    def __init__(self, inventory, tmp):
        self.inventory, self.tmp, self.runs = inventory, tmp, 0

    def play(self, playbook, *args, extra_vars=None):
        self.runs += 1
        # Containers cannot load kernel modules (inventories/local says so for its own lab).
        evars = {"glusterfs_server_packages_extra": [EXTRA], "glusterfs_client_kernel_modules_manage": False,
                 "heketi_binaries_src": str(ROOT / ".cache" / "heketi" / "bin")}
        evars.update(extra_vars or {})
        vfile = self.tmp / ("vars%02d.json" % self.runs)
        vfile.write_text(json.dumps(evars))
        cmd = [str(PLAYBOOK), playbook, "-i", self.inventory, "-e", "@%s" % vfile, *args]
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800)
        proc.output = proc.stdout + proc.stderr
        assert proc.returncode == 0, proc.output[-5000:]
        return proc.output


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    ensure_built()
    up = subprocess.run([str(LAB_TOOL), "up", "--name", LAB, "--nodes", "2", "--client"], cwd=ROOT,
                        capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stderr[-3000:]
    try:
        the_lab = Lab(up.stdout.strip().splitlines()[-1], tmp_path_factory.mktemp("package-transactions"))
        for playbook in ("playbooks/glusterfs_servers.yml", "playbooks/glusterfs_clients.yml", "playbooks/heketi.yml"):
            the_lab.play(playbook)
        yield the_lab
    finally:
        subprocess.run([str(LAB_TOOL), "down", "--name", LAB], cwd=ROOT, capture_output=True, check=False)


def test_a_rerun_starts_no_package_transaction(lab):
    assert installed("%s-node2" % LAB, EXTRA)  # the first run installed the extra package
    out = lab.play("playbooks/glusterfs_servers.yml")
    assert task_results(out, SERVER_TASK) == {"node1": "skipping", "node2": "skipping"}
    out = lab.play("playbooks/glusterfs_clients.yml")
    assert task_results(out, CLIENT_TASK) == {"k8s-node01": "skipping"}
    out = lab.play("playbooks/heketi.yml", "--tags", "heketi_install")
    assert task_results(out, HEKETI_TASK) == {"node1": "skipping"}


def test_a_removed_server_package_is_installed_again_check_mode_first(lab):
    node2 = "%s-node2" % LAB
    dexec(node2, "dpkg -r --force-depends %s" % EXTRA)
    assert not installed(node2, EXTRA)
    out = lab.play("playbooks/glusterfs_servers.yml", "--check")
    # Check mode does not run the transaction (on a fresh host the package index may not know the packages yet):
    # it says what a real run installs, on the host that misses a package only, as a change.
    assert task_results(out, SERVER_TASK) == {"node1": "skipping", "node2": "skipping"}
    assert task_results(out, SERVER_PLAN_TASK) == {"node1": "skipping", "node2": "changed"}
    assert "node2: a real run installs %s" % EXTRA in out
    assert not installed(node2, EXTRA)  # check mode installed nothing
    out = lab.play("playbooks/glusterfs_servers.yml")
    assert task_results(out, SERVER_TASK) == {"node1": "skipping", "node2": "changed"}
    assert installed(node2, EXTRA)


def test_a_removed_client_package_is_installed_again(lab):
    client = "%s-client" % LAB
    dexec(client, "dpkg -r --force-depends glusterfs-client")
    assert not installed(client, "glusterfs-client")
    out = lab.play("playbooks/glusterfs_clients.yml")
    assert task_results(out, CLIENT_TASK) == {"k8s-node01": "changed"}
    assert installed(client, "glusterfs-client")
    assert dexec(client, "test -x /sbin/mount.glusterfs", check=False).returncode == 0


def test_the_heketi_hosts_ssh_client_is_installed_again(lab):
    node1 = "%s-node1" % LAB
    dexec(node1, "dpkg -r --force-depends openssh-client")
    assert not installed(node1, "openssh-client")
    out = lab.play("playbooks/heketi.yml", "--tags", "heketi_install")
    assert task_results(out, HEKETI_TASK) == {"node1": "changed"}
    assert installed(node1, "openssh-client")


def test_a_version_pinned_entry_always_runs_the_transaction(lab):
    version = dexec("%s-node1" % LAB, "dpkg-query -W -f '${Version}' %s" % EXTRA).stdout.strip()
    out = lab.play("playbooks/glusterfs_servers.yml", extra_vars={"glusterfs_server_packages_extra": ["%s=%s" % (EXTRA, version)]})
    # Installed at that version already: apt runs and changes nothing.
    assert task_results(out, SERVER_TASK) == {"node1": "ok", "node2": "ok"}
