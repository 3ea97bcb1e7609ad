# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""storage_device_info's logic on a fake node: a /sys and /proc tree under tmp_path, a fake blkid and
pvs, and stat() answers for the device paths (the real thing runs on the lab: test_device_facts.py).

The defects of issue 14 these pin: the check failed open when blkid was missing or could not read
(the device was reported clean), it did not look at holders, and two names of one disk passed."""
from __future__ import annotations

import os
import stat as statmod
from types import SimpleNamespace

import pytest

from ansible_collections.glusterfs.heketi.plugins.modules.storage_device_info import DeviceProbe
from ansible_collections.glusterfs.heketi.plugins.filter.topology_device_refusals import topology_device_refusals

HEKETI_VG = "vg_" + "0123456789abcdef" * 2


class FakeNode:
    """Block devices by path: major:minor, kernel name, partitions, holders, blkid output."""

    def __init__(self, root):
        self.root = root
        self.sys = root / "sys"
        self.proc = root / "proc"
        (self.proc / "self").mkdir(parents=True)
        (self.proc / "self" / "mountinfo").write_text(
            "22 1 0:21 / / rw,relatime - overlay overlay rw\n")
        (self.proc / "swaps").write_text("Filename\tType\tSize\tUsed\tPriority\n")
        self.paths = {}      # path -> (major, minor) or "file"
        self.links = {}      # path -> resolved path
        self.blkid = {}      # path -> (rc, out, err)
        self.vgs = {}        # path -> vg name
        self.unreadable = {}  # path -> error
        self.have = {"blkid": "/sbin/blkid", "pvs": "/sbin/pvs"}
        self.calls = []

    def disk(self, path, major, minor, name, partitions=(), holders=()):
        self.paths[path] = (major, minor)
        base = self.sys / "devices" / "virtual" / "block" / name
        (base / "holders").mkdir(parents=True)
        (base / "size").write_text("4194304\n")
        link = self.sys / "dev" / "block" / ("%d:%d" % (major, minor))
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(base)
        for index, part in enumerate(partitions, 1):
            (base / part / "holders").mkdir(parents=True)
            (base / part / "partition").write_text("%d\n" % index)
            (base / part / "dev").write_text("259:%d\n" % index)
        for holder, of, uuid, dm_name in holders:
            (base / (of or "") / "holders" / holder).mkdir(parents=True)
            cls = self.sys / "class" / "block" / holder / "dm"
            cls.mkdir(parents=True, exist_ok=True)
            (cls / "uuid").write_text(uuid + "\n")
            (cls / "name").write_text(dm_name + "\n")
        self.blkid.setdefault(path, (2, "", ""))

    def mount(self, major_minor, where):
        with open(self.proc / "self" / "mountinfo", "a") as handle:
            handle.write("40 22 %s / %s rw,relatime - xfs /dev/x rw\n" % (major_minor, where))

    # --- what DeviceProbe calls ------------------------------------------------------------------
    def run_command(self, argv, environ_update=None):
        self.calls.append(argv)
        path = self.links.get(argv[-1], os.path.normpath(argv[-1]))
        if argv[0].endswith("blkid"):
            return self.blkid[path]
        if argv[0].endswith("pvs"):
            vg = self.vgs.get(path)
            return (0, "  %s\n" % vg, "") if vg else (5, "", "not a PV")
        raise AssertionError(argv)

    def probe(self, **kwargs):
        node = self
        probe = DeviceProbe(self.run_command, self.have.get, sys_root=str(self.sys), proc_root=str(self.proc), **kwargs)

        def fake_stat(path):
            target = node.paths.get(node.links.get(path, os.path.normpath(path)))
            if target is None:
                raise FileNotFoundError(2, "No such file or directory")
            if target == "file":
                return SimpleNamespace(st_mode=statmod.S_IFREG | 0o644, st_rdev=0)
            return SimpleNamespace(st_mode=statmod.S_IFBLK | 0o600, st_rdev=os.makedev(*target))

        probe.stat = fake_stat
        probe.realpath = lambda path: node.links.get(path, os.path.normpath(path))
        probe.read_start = node.unreadable.get
        return probe


@pytest.fixture
def node(tmp_path):
    fake = FakeNode(tmp_path)
    fake.disk("/dev/sdf", 8, 80, "sdf")
    fake.disk("/dev/sdg", 8, 96, "sdg")
    return fake


def by_path(devices):
    return {d["path"]: d for d in devices}


def test_clean_disks_pass_with_their_facts(node):
    devices = node.probe().run(["/dev/sdf", "/dev/sdg"], [])
    sdf = devices[0]
    assert (sdf["major_minor"], sdf["kernel_name"], sdf["block"], sdf["readable"]) == ("8:80", "sdf", True, True)
    assert sdf["size"] == 4194304 * 512
    assert [d["refusals"] for d in devices] == [[], []]
    assert not any(d["in_use"] for d in devices)


# --- defect 4: fail closed -----------------------------------------------------------------------
def test_missing_blkid_is_unreadable_not_clean(node):
    del node.have["blkid"]
    (sdf,) = node.probe().run(["/dev/sdf"], [])
    assert sdf["readable"] is False and sdf["read_error"] == "blkid was not found on the node"
    assert sdf["refusals"] == ["/dev/sdf is unreadable, so it cannot be shown to be unused: blkid was not found on the node"]


def test_blkid_that_cannot_open_the_device_is_not_clean(node):
    # blkid exits 2 ("nothing found") also when it cannot open the device, and says so on stderr.
    node.blkid["/dev/sdf"] = (2, "", "blkid: error: /dev/sdf: Permission denied\n")
    (sdf,) = node.probe().run(["/dev/sdf"], [])
    assert sdf["readable"] is False
    assert "Permission denied" in sdf["refusals"][0] and "unreadable" in sdf["refusals"][0]


def test_device_that_cannot_be_read_is_refused_even_with_wipe(node):
    node.unreadable["/dev/sdf"] = "cannot be opened for reading: Permission denied"
    (sdf,) = node.probe().run(["/dev/sdf"], ["/dev/sdf"])
    assert sdf["refusals"] == ["/dev/sdf is unreadable, so it cannot be shown to be unused: "
                               "cannot be opened for reading: Permission denied"]
    assert node.calls == []  # blkid is not even asked


def test_blkid_error_exit_is_unreadable(node):
    node.blkid["/dev/sdf"] = (4, "", "blkid: bad usage\n")
    (sdf,) = node.probe().run(["/dev/sdf"], [])
    assert sdf["readable"] is False and "exit 4" in sdf["read_error"]


@pytest.mark.parametrize("uuid,dm_name,kind", [
    ("LVM-abcdefXYZ", "data-lv0", "lvm"),
    ("mpath-3600a0b80", "mpatha", "multipath"),
    ("CRYPT-LUKS2-1234-cr", "cr_sdf", "crypt"),
])
def test_holders_make_the_disk_in_use_whatever_wipe_says(tmp_path, uuid, dm_name, kind):
    node = FakeNode(tmp_path)
    node.disk("/dev/sdf", 8, 80, "sdf", holders=[("dm-3", None, uuid, dm_name)])
    (sdf,) = node.probe().run(["/dev/sdf"], ["/dev/sdf"])
    assert sdf["holders"] == [{"name": "dm-3", "kind": kind, "dm_name": dm_name, "of": "sdf"}]
    assert sdf["in_use"] is True
    assert sdf["refusals"] == ["/dev/sdf is held by dm-3 (%s %s)" % (kind, dm_name)]


def test_md_holder_of_a_partition(tmp_path):
    node = FakeNode(tmp_path)
    node.disk("/dev/sdf", 8, 80, "sdf", partitions=["sdf1"], holders=[("md0", "sdf1", "", "")])
    node.blkid["/dev/sdf"] = (0, "PTTYPE=gpt\n", "")
    (sdf,) = node.probe().run(["/dev/sdf"], [])
    assert sdf["holders"] == [{"name": "md0", "kind": "md", "dm_name": None, "of": "sdf1"}]
    assert sdf["refusals"] == ["/dev/sdf is held by md0 (md)", "/dev/sdf holds partitions (sdf1)",
                               "/dev/sdf carries a gpt partition table"]


def test_heketis_own_pv_and_its_bricks_are_not_refused(tmp_path):
    node = FakeNode(tmp_path)
    node.disk("/dev/sdf", 8, 80, "sdf", holders=[("dm-1", None, "LVM-xyz", HEKETI_VG + "-brick_1")])
    node.blkid["/dev/sdf"] = (0, "TYPE=LVM2_member\nUSAGE=raid\n", "")
    node.vgs["/dev/sdf"] = HEKETI_VG
    (sdf,) = node.probe().run(["/dev/sdf"], [])
    assert (sdf["vg"], sdf["in_use"], sdf["refusals"]) == (HEKETI_VG, False, [])


def test_foreign_vg_is_refused_unless_wiped_and_active_lvs_always(tmp_path):
    node = FakeNode(tmp_path)
    node.disk("/dev/sdf", 8, 80, "sdf")
    node.disk("/dev/sdg", 8, 96, "sdg", holders=[("dm-0", None, "LVM-abc", "data-lv0")])
    for path in ("/dev/sdf", "/dev/sdg"):
        node.blkid[path] = (0, "TYPE=LVM2_member\n", "")
        node.vgs[path] = "data"
    devices = by_path(node.probe().run(["/dev/sdf", "/dev/sdg"], ["/dev/sdf", "/dev/sdg"]))
    assert devices["/dev/sdf"]["refusals"] == []  # an inactive foreign PV: the user allowed the wipe
    assert devices["/dev/sdg"]["refusals"] == ["/dev/sdg is held by dm-0 (lvm data-lv0)"]
    again = node.probe().run(["/dev/sdf"], [])
    assert again[0]["refusals"] == ["/dev/sdf carries a LVM2_member signature (volume group data, not Heketi's)"]


def test_mounted_partition_and_swap(tmp_path):
    node = FakeNode(tmp_path)
    node.disk("/dev/sdf", 8, 80, "sdf", partitions=["sdf1"])
    node.disk("/dev/sdg", 8, 96, "sdg")
    node.mount("259:1", "/srv/data")
    (tmp_path / "proc" / "swaps").write_text("Filename\tType\tSize\tUsed\tPriority\n/dev/sdg  partition 1 0 -2\n")
    devices = by_path(node.probe().run(["/dev/sdf", "/dev/sdg"], ["/dev/sdf", "/dev/sdg"]))
    assert devices["/dev/sdf"]["mounts"] == ["/srv/data"]
    assert devices["/dev/sdf"]["refusals"] == ["/dev/sdf is mounted (/srv/data)"]
    assert devices["/dev/sdg"]["refusals"] == ["/dev/sdg is in use as swap"]


def test_signatures_refused_unless_wiped(node):
    node.blkid["/dev/sdg"] = (0, "UUID=1\nTYPE=ext4\nUSAGE=filesystem\n", "")
    assert node.probe().run(["/dev/sdg"], [])[0]["refusals"] == ["/dev/sdg carries a ext4 signature"]
    assert node.probe().run(["/dev/sdg"], ["/dev/sdg"])[0]["refusals"] == []


def test_missing_and_not_block(node):
    node.paths["/etc/passwd"] = "file"
    devices = node.probe().run(["/dev/sdz", "/etc/passwd"], [])
    assert [d["refusals"] for d in devices] == [["/dev/sdz does not exist"], ["/etc/passwd is not a block device"]]
    assert [d["refusal_kinds"] for d in devices] == [["missing"], ["not_block"]]


# A device that does not exist is named as missing, with its own fix, and never with the wipe hint (issue 25).
def test_each_refusal_gets_the_fix_of_its_kind_and_a_missing_device_no_wipe_hint(node):
    node.blkid["/dev/sdg"] = (0, "UUID=1\nTYPE=ext4\nUSAGE=filesystem\n", "")
    devices = node.probe().run(["/dev/sdh", "/dev/sdg"], [])
    assert [d["refusal_kinds"] for d in devices] == [["missing"], ["data"]]
    nodes = [{"host": "node3", "devices": [{"name": "/dev/sdh"}, {"name": "/dev/sdg"}]}]
    out = topology_device_refusals(nodes, {"node3": {"__topology_device_info": {"devices": devices}}})
    assert out[0] == ("node3: /dev/sdh does not exist. Fix: no such device on node3: correct the name in topology_devices "
                      "of node3 (lsblk, or ls -l /dev/disk/by-id on the node, lists its disks) or drop it from the list; "
                      "wiping cannot help.")
    assert "wipefs" not in out[0] and "destroydata" not in out[0]
    assert out[1].startswith("node3: /dev/sdg carries a ext4 signature. Fix: if its data is not needed, clean it on node3 "
                             "(wipefs -a), or set both topology_wipe_devices: true and destroydata: true")


# --- defect 3 (identity): one disk under two names -----------------------------------------------
@pytest.mark.parametrize("alias", ["/dev/disk/by-id/wwn-0x5000c500a1b2c3d4", "/dev/./sdf", "/dev//sdf"])
def test_second_name_of_one_disk_is_refused_naming_the_first(node, alias):
    node.links["/dev/disk/by-id/wwn-0x5000c500a1b2c3d4"] = "/dev/sdf"
    devices = node.probe().run(["/dev/sdf", alias, "/dev/sdg"], [alias])
    assert devices[0]["refusals"] == [] and devices[2]["refusals"] == []
    assert devices[1]["resolved"] == "/dev/sdf" and devices[1]["alias_of"] == "/dev/sdf"
    assert devices[1]["refusals"] == ["%s is the same disk as /dev/sdf (8:80): list it once" % alias]


# --- the preflight's verdict ---------------------------------------------------------------------
def test_verdict_names_host_and_device_and_fails_closed_without_facts():
    nodes = [{"host": "node1", "devices": [{"name": "/dev/sdf"}]},
             {"host": "node2", "devices": [{"name": "/dev/sdf"}, {"name": "/dev/sdg"}]},
             {"host": "node3", "devices": [{"name": "/dev/sdf"}]},
             {"host": "node4", "devices": [{"name": "/dev/sdf"}]}]
    hostvars = {
        "node1": {"__topology_device_info": {"devices": [{"path": "/dev/sdf", "refusals": []}]}},
        "node2": {"__topology_device_info": {"devices": [
            {"path": "/dev/sdf", "refusals": []},
            {"path": "/dev/sdg", "refusals": ["/dev/sdg carries a ext4 signature"]}]}},
        "node3": {},
        "node4": {"__topology_device_info": {"devices": [{"path": "/dev/sdg", "refusals": []}]}},
    }
    out = topology_device_refusals(nodes, hostvars)
    assert out[0] == "node2: /dev/sdg carries a ext4 signature."  # no kind recorded: no fix offered
    assert out[1].startswith("node3: no device facts, so its devices cannot be shown to be unused")
    assert out[2] == "node4: the device facts are for /dev/sdg, not for the devices the topology lists (/dev/sdf)"
    assert len(out) == 3
