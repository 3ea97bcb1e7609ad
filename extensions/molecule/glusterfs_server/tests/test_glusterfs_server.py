# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify glusterfs_server on the lab's storage nodes (testinfra, docker backend)."""
from __future__ import annotations

import os

import pytest

LAB = os.environ.get("MOLECULE_LAB_NAME", "molgs")
NODES = int(os.environ.get("MOLECULE_LAB_NODES", "4"))

testinfra_hosts = [f"docker://{LAB}-node{i}" for i in range(1, NODES + 1)]


def test_glusterd_active_and_enabled(host):
    glusterd = host.service("glusterd")
    assert glusterd.is_running
    assert glusterd.is_enabled


def test_glusterd_listens_on_24007(host):
    assert host.socket("tcp://0.0.0.0:24007").is_listening


def test_glusterd_answers(host):
    out = host.check_output("gluster --mode=script --version")
    assert out.startswith("glusterfs ")


def test_no_peer_probed(host):
    """The role must not form the trusted pool: each node knows only itself."""
    out = host.check_output("LC_ALL=C gluster --mode=script pool list")
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines[0].split() == ["UUID", "Hostname", "State"]
    peers = [line.split()[1] for line in lines[1:]]
    assert peers == ["localhost"]
    assert "Number of Peers: 0" in host.check_output("LC_ALL=C gluster --mode=script peer status")


@pytest.mark.parametrize("tool", ["pvcreate", "vgcreate", "lvcreate", "mkfs.xfs", "wipefs", "thin_check"])
def test_tools_heketi_runs_are_present(host, tool):
    assert host.exists(tool), f"{tool} is not on PATH"


@pytest.mark.parametrize("device", ["/dev/sdf", "/dev/sdg"])
def test_raw_disks_are_block_devices(host, device):
    assert host.file(device).exists, f"{device} is missing"
    assert host.run("test -b %s", device).rc == 0, f"{device} is not a block device"


def test_lvm_sees_the_raw_disks(host):
    """pvcreate's own device filter accepts the disks Heketi will be given (read-only check)."""
    out = host.check_output("LC_ALL=C lvmdiskscan 2>/dev/null || true")
    # the check must not depend on a previous run having created a PV
    for device in ("/dev/sdf", "/dev/sdg"):
        assert device in out, f"lvmdiskscan does not list {device}:\n{out}"


def test_modules_file_not_written_when_unmanaged(host):
    """The scenario sets glusterfs_server_kernel_modules_manage: false."""
    assert not host.file("/etc/modules-load.d/glusterfs-heketi.conf").exists


def test_sshd_running_for_heketi(host):
    assert host.service("ssh").is_running
    assert host.socket("tcp://0.0.0.0:22").is_listening
