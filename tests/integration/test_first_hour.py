# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The first hour of a new user (issue 25), on a fresh container lab, with the README's own commands.

One lab (tools/lab/lab up --nodes 4 --client, as `make lab` makes it; FIRST_HOUR_LAB_NAME names it, else a random
name), used in order:
1. `site.yml -i inventories/local -e heketi_admin_key=admin@123` on the fresh hosts: refused in the first plays,
   naming the key and the rule; every host reports changed=0 and no package was installed;
2. `site.yml -i inventories/local --check --diff` on the fresh hosts: the plan to the end, every stage, what cannot be
   known without the earlier stages named as such; still nothing installed;
3. `site.yml -i inventories/local` (what `make lab` runs), then `--check --diff` and a rerun: both change nothing;
4. `tools/lab/lab down` (what `make lab-down` runs) takes the lab's outputs with it: the StorageClass manifests,
   which hold the lab's Heketi admin key, were rendered into the lab's folder and are gone, and so is the folder.
"""
from __future__ import annotations

import os
import re
import secrets
import subprocess
from pathlib import Path

import pytest

from daylab import recap

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"
LAB_TOOL = ROOT / "tools" / "lab" / "lab"
LAB = os.environ.get("FIRST_HOUR_LAB_NAME") or "ghfh%s" % secrets.token_hex(2)
HOSTS = ("node1", "node2", "node3", "node4", "k8s-node01")
LAB_DIR = ROOT / ".cache" / "lab" / LAB
RENDERED = LAB_DIR / "storageclass"  # inventories/local renders the manifests into the lab's folder


def site(*args: str, timeout: int = 3600) -> subprocess.CompletedProcess:
    cmd = [str(PLAYBOOK), "site.yml", "-i", "inventories/local", *args]
    env = dict(os.environ, LAB_NAME=LAB, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.pop("KUBECONFIG", None)  # the lab's render-only path, as `make lab` without KUBECONFIG
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    proc.output = proc.stdout + proc.stderr
    return proc


def installed(host: str, package: str) -> bool:
    container = "%s-%s" % (LAB, "client" if host == "k8s-node01" else host)
    return subprocess.run(["docker", "exec", container, "dpkg-query", "-W", "-f", "${Status}", package],
                          capture_output=True, text=True, check=False).stdout.endswith("installed")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    up = subprocess.run([str(LAB_TOOL), "up", "--name", LAB, "--nodes", "4", "--client"], cwd=ROOT,
                        capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stderr[-3000:]
    try:
        yield tmp_path_factory.mktemp("first-hour")
    finally:
        if os.environ.get("FIRST_HOUR_KEEP_LAB") != "1":
            subprocess.run([str(LAB_TOOL), "down", "--name", LAB], cwd=ROOT, capture_output=True, check=False)


def test_weak_admin_key_changes_nothing_on_a_fresh_lab(lab):
    proc = site("-e", "heketi_admin_key=admin@123")
    assert proc.returncode != 0, proc.output[-4000:]
    assert "node1: heketi_admin_key is wrong: it is shorter than 32 characters and it is a known sample placeholder." \
        in proc.output, proc.output[-4000:]
    assert "The rule for Heketi's JWT keys: at least 32 characters" in proc.output
    counts = recap(proc)
    assert all(counts.get(h, {}).get("changed", 0) == 0 for h in HOSTS), counts
    assert "PLAY [Prepare the GlusterFS storage nodes]" not in proc.output
    assert not any(installed(h, "glusterfs-server") for h in HOSTS[:4])


def test_check_diff_on_fresh_hosts_reports_the_plan_to_the_end(lab):
    proc = site("--check", "--diff")
    assert proc.returncode == 0, proc.output[-6000:]
    for play in ("Prepare the GlusterFS storage nodes", "Install and configure Heketi", "Load the GlusterFS topology into Heketi",
                 "GlusterFS clients on the Kubernetes nodes", "Kubernetes StorageClass backed by Heketi"):
        assert "PLAY [%s]" % play in proc.output, play
    # Each stage says what it would do and what it cannot know yet.
    assert re.search(r"node\d: a real run installs glusterfs-server", proc.output), proc.output[-6000:]
    assert "k8s-node01: a real run installs glusterfs-client" in proc.output
    assert "node1: Heketi is not installed yet (/etc/heketi/heketi.json is absent)" in proc.output
    assert "A real run loads 4 node(s) with 8 device(s) into Heketi" in proc.output
    assert "A real run renders the Secret and the StorageClass" in proc.output
    assert "No package matching" not in proc.output
    counts = recap(proc)
    assert all(counts[h]["failed"] == 0 and counts[h]["unreachable"] == 0 for h in HOSTS), counts
    assert all(counts[h]["changed"] > 0 for h in HOSTS[:4]), counts  # the plan is counted as changes
    # Check mode changed nothing.
    assert not any(installed(h, "glusterfs-server") for h in HOSTS[:4])
    assert not installed("k8s-node01", "glusterfs-client")
    assert not RENDERED.exists()


def test_make_lab_then_check_diff_and_a_rerun_change_nothing(lab):
    first = site()
    assert first.returncode == 0, first.output[-6000:]
    check = site("--check", "--diff")
    assert check.returncode == 0, check.output[-6000:]
    assert all(c["changed"] == 0 for c in recap(check).values()), recap(check)
    again = site()
    assert again.returncode == 0, again.output[-6000:]
    assert all(c["changed"] == 0 for c in recap(again).values()), recap(again)


def test_lab_down_takes_the_rendered_manifests_with_it(lab):
    assert (RENDERED / "README.txt").is_file() and list(RENDERED.glob("*/manifests.yaml")), sorted(RENDERED.rglob("*"))
    down = subprocess.run([str(LAB_TOOL), "down", "--name", LAB], cwd=ROOT, capture_output=True, text=True, check=False)
    assert down.returncode == 0, down.stderr[-3000:]
    assert not RENDERED.exists() and not LAB_DIR.exists(), down.stderr[-3000:]
