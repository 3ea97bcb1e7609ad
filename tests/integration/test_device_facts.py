# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.storage_device_info on a real node: a 2-node lab (tools/lab/lab) reached over ssh
with the lab's key, each node with two loop devices seen as /dev/sdf and /dev/sdg.

- a clean loop device passes; one with a filesystem is refused; a mounted one is refused even when
  the wipe is allowed; a symlink alias and /dev/./sdf of a listed disk are refused naming the first
  name (issue 14, defect 3);
- with blkid gone from the node the device is reported unreadable and refused, not clean (defect 4);
- both nodes are inspected in one play, in check mode too, and nothing on the disks changes.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"
LAB_TOOL = ROOT / "tools" / "lab" / "lab"
LAB = os.environ.get("DEVICE_FACTS_LAB_NAME", "ghdevfacts")


def dexec(box, command, check=True):
    return subprocess.run(["docker", "exec", box, "sh", "-c", command], capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def lab():
    up = subprocess.run([str(LAB_TOOL), "up", "--name", LAB, "--nodes", "2"], cwd=ROOT,
                        capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stderr[-3000:]
    try:
        yield up.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(LAB_TOOL), "down", "--name", LAB], cwd=ROOT, capture_output=True, check=False)


def inspect(inventory, tmp_path, devices, wipe=(), check=False):
    """Run the module on both nodes in one play; returns {host: result}."""
    out = tmp_path / "result-%s.json"
    play = [{"hosts": "glusterfs_servers", "become": True, "gather_facts": False, "tasks": [
        {"name": "inspect", "glusterfs.heketi.storage_device_info": {"devices": devices, "wipe": list(wipe)},
         "register": "r"},
        {"name": "keep", "delegate_to": "localhost", "ansible.builtin.copy": {
            "content": "{{ r | to_json }}", "dest": str(out).replace("%s", "{{ inventory_hostname }}"), "mode": "0600"},
         "check_mode": False}]}]
    pb = tmp_path / "inspect.json"
    pb.write_text(json.dumps(play))
    cmd = [str(PLAYBOOK), "-i", inventory, str(pb)] + (["--check"] if check else [])
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "ssh" in subprocess.run([str(ROOT / ".venv/bin/ansible-inventory"), "-i", inventory, "--host", "node1"],
                                   capture_output=True, text=True, check=True).stdout  # reached over ssh
    return {h: json.loads((tmp_path / ("result-%s.json" % h)).read_text()) for h in ("node1", "node2")}


def refusals(result):
    return {d["path"]: d["refusals"] for d in result["devices"]}


def test_clean_filesystem_and_alias(lab, tmp_path):
    n2 = f"{LAB}-node2"
    dexec(n2, "mkfs.ext4 -q -F /dev/sdg && mkdir -p /dev/disk/by-id && ln -sfn ../../sdf /dev/disk/by-id/lab-alias-sdf")
    digest = "for d in /dev/sdf /dev/sdg; do head -c 4194304 $d | sha256sum; done"
    before = dexec(n2, digest).stdout
    devices = ["/dev/sdf", "/dev/sdg", "/dev/disk/by-id/lab-alias-sdf", "/dev/./sdf"]
    for check in (True, False):
        got = inspect(lab, tmp_path, devices[:2] if check else devices, check=check)
        assert got["node1"]["changed"] is False
        assert refusals(got["node1"])["/dev/sdf"] == [] and refusals(got["node1"])["/dev/sdg"] == []
        assert refusals(got["node2"])["/dev/sdg"] == ["/dev/sdg carries a ext4 signature"]
    node2 = {d["path"]: d for d in got["node2"]["devices"]}
    assert node2["/dev/sdf"]["refusals"] == [] and node2["/dev/sdf"]["block"] is True
    assert node2["/dev/sdf"]["kernel_name"].startswith("loop")
    alias = node2["/dev/disk/by-id/lab-alias-sdf"]
    assert (alias["resolved"], alias["alias_of"], alias["major_minor"]) == ("/dev/sdf", "/dev/sdf", node2["/dev/sdf"]["major_minor"])
    assert alias["refusals"] == ["/dev/disk/by-id/lab-alias-sdf is the same disk as /dev/sdf (%s): list it once"
                                 % alias["major_minor"]]
    assert node2["/dev/./sdf"]["refusals"][0].startswith("/dev/./sdf is the same disk as /dev/sdf")
    assert got["node2"]["refusals"] == ["/dev/sdg carries a ext4 signature"] + alias["refusals"] + node2["/dev/./sdf"]["refusals"]
    # Allowed to wipe: the signature is no longer a refusal; mounted, it is one whatever the switch says.
    assert refusals(inspect(lab, tmp_path, ["/dev/sdg"], wipe=["/dev/sdg"])["node2"]) == {"/dev/sdg": []}
    assert dexec(n2, digest).stdout == before  # read-only (mounting, next, writes the superblock)
    dexec(n2, "mkdir -p /mnt/labdisk && mount /dev/sdg /mnt/labdisk")
    try:
        got = inspect(lab, tmp_path, ["/dev/sdg"], wipe=["/dev/sdg"])
        assert refusals(got["node2"]) == {"/dev/sdg": ["/dev/sdg is mounted (/mnt/labdisk)"]}
    finally:
        dexec(n2, "umount /mnt/labdisk", check=False)
    dexec(n2, "wipefs -a -q /dev/sdg && rm -f /dev/disk/by-id/lab-alias-sdf")


def test_without_blkid_the_disk_is_unreadable_not_clean(lab, tmp_path):
    n1 = f"{LAB}-node1"
    dexec(n1, "mv /usr/sbin/blkid /usr/sbin/blkid.hidden")
    try:
        got = inspect(lab, tmp_path, ["/dev/sdf"])
    finally:
        dexec(n1, "mv /usr/sbin/blkid.hidden /usr/sbin/blkid")
    (sdf,) = got["node1"]["devices"]
    assert (sdf["readable"], sdf["read_error"]) == (False, "blkid was not found on the node")
    assert got["node1"]["refusals"] == ["/dev/sdf is unreadable, so it cannot be shown to be unused: "
                                        "blkid was not found on the node"]
    assert got["node2"]["refusals"] == []
