# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify glusterfs_client on the lab's client container: two FUSE mounts of one replica-3 volume."""
from __future__ import annotations

import os
import secrets

import pytest

LAB = os.environ.get("MOLECULE_LAB_NAME", "molgc")
VOLUME = "molgc"

testinfra_hosts = [f"docker://{LAB}-client"]


def test_client_package_and_helper(host):
    assert host.package("glusterfs-client").is_installed
    assert host.file("/sbin/mount.glusterfs").exists
    assert not host.package("glusterfs-server").is_installed, "the client must not pull the server in"


def test_fuse_module_not_persisted_when_unmanaged(host):
    assert not host.file("/etc/modules-load.d/fuse.conf").exists


@pytest.fixture
def two_mounts(host):
    mounts = ["/mnt/molgc-a", "/mnt/molgc-b"]
    servers = ["node1", "node2"]
    for mnt, server in zip(mounts, servers):
        host.check_output(f"mkdir -p {mnt}")
        host.check_output(f"mount -t glusterfs {server}:/{VOLUME} {mnt}")
    yield mounts
    for mnt in mounts:
        host.run(f"umount {mnt}")
        host.run(f"rmdir {mnt}")


def test_write_through_one_mount_read_through_another(host, two_mounts):
    first, second = two_mounts
    assert host.mount_point(first).filesystem == "fuse.glusterfs"
    token = secrets.token_hex(16)
    name = f"probe-{token[:8]}"
    host.check_output(f"sh -c 'echo {token} > {first}/{name} && sync'")
    assert host.file(f"{second}/{name}").content_string.strip() == token
    host.check_output(f"rm {second}/{name}")
    assert not host.file(f"{first}/{name}").exists


def test_data_lands_on_all_three_replicas(host, two_mounts):
    first = two_mounts[0]
    token = secrets.token_hex(8)
    host.check_output(f"sh -c 'echo {token} > {first}/replica-{token} && sync'")
    try:
        for i in (1, 2, 3):
            node = host.get_host(f"docker://{LAB}-node{i}")
            assert node.file(f"/tmp/bricks/molgc/replica-{token}").content_string.strip() == token
    finally:
        host.run(f"rm -f {first}/replica-{token}")
