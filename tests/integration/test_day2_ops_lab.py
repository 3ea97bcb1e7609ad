# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Day-2 operations of issue 21 on one container lab: real glusterd, the real Heketi (TLS, ssh executor).

One lab for the file (DAY2_OPS_LAB_NAME, default ghd2ops; DAY2_KEEP_LAB=1 keeps it): node1..node3 storage nodes with
Heketi on node1, node4 the Heketi cold standby. The tests run in order and share its state:
1. backups: the timer runs as its own unprivileged account under Heketi's sandbox and writes only its folder;
   a backup folder the heketi account could redirect (a link out of Heketi's data folder) is refused;
2. a Heketi host with EL 7's Python (2.7 for Ansible, 3.6 for the backup command), with ansible-core 2.16;
3. restore.yml refuses a corrupt backup naming the file and the check, and leaves no copy behind.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from daylab import BACKUP_SERVICE_RUN, ROOT, DayLab, recap, wait_for

NAME = os.environ.get("DAY2_OPS_LAB_NAME", "ghd2ops")
TAGS = ("--tags", "glusterfs_servers,heketi,topology")
CORE216 = ROOT / ".venv-core216" / "bin" / "ansible-playbook"
BACKUPS = "/var/lib/heketi-backups"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = DayLab(NAME, nodes=4)
    try:
        tmp = tmp_path_factory.mktemp("day2ops")
        lab.inv = lab.inventory(tmp / "inv", storage=[1, 2, 3], groups={"heketi": [1], "heketi_standby": [4]})
        lab.tmp = tmp
        site = lab.play(lab.inv, "site.yml", *TAGS)
        assert site.returncode == 0, site.output[-5000:]
        yield lab
    finally:
        if os.environ.get("DAY2_KEEP_LAB") != "1":
            lab.down()


def test_backup_timer_runs_unprivileged_and_writes_only_its_folder(lab):
    local = lab.tmp / "backups"
    res = lab.play(lab.inv, "playbooks/backup.yml", "-e", "heketi_maintenance_backup_local_dir=%s" % local,
                   "-e", "heketi_maintenance_backup_timer=true")
    assert res.returncode == 0, res.output[-4000:]
    # root's folder, outside Heketi's, the backup account's group; Heketi's account can neither write nor read it
    assert lab.sh(1, "stat -c '%U %G %a' " + BACKUPS).stdout.split() == ["root", "heketi-backup", "2770"]
    assert lab.sh(1, "touch %s/x" % BACKUPS, user="heketi", check=False).returncode != 0
    assert lab.sh(1, "ls " + BACKUPS, user="heketi", check=False).returncode != 0
    shown = lab.sh(1, "systemctl show heketi-backup.service -p User -p ProtectSystem -p NoNewPrivileges "
                      "-p CapabilityBoundingSet -p ReadWritePaths").stdout
    assert "User=heketi-backup" in shown and "ProtectSystem=strict" in shown and "NoNewPrivileges=yes" in shown
    assert "ReadWritePaths=%s" % BACKUPS in shown
    # the timer's run: as heketi-backup, the newest backup (root's, the folder's group) read and found unchanged
    ran = lab.sh(1, "systemctl start heketi-backup.service && journalctl -u heketi-backup.service -o cat", check=False)
    assert ran.returncode == 0 and "(unchanged)" in ran.stdout, ran.stdout + ran.stderr
    lab.heketi(1, "cluster", "create")
    ran = lab.sh(1, "systemctl start heketi-backup.service", check=False)
    assert ran.returncode == 0, ran.stderr
    owners = lab.sh(1, "stat -c '%U:%G %a %n' " + BACKUPS + "/heketi-*").stdout.splitlines()
    assert any(o.startswith("heketi-backup:heketi-backup 640 ") for o in owners), owners
    assert all(" 640 " in o and ":heketi-backup " in o for o in owners), owners
    assert lab.sh(1, "cd %s && sha256sum -c --quiet *.sha256" % BACKUPS).returncode == 0
    # the settings hold the admin key: root and the backup account only
    assert lab.sh(1, "stat -c '%U %G %a' /etc/heketi-backup/backup.json").stdout.split() == ["root", "heketi-backup", "640"]


def test_backup_folder_redirected_by_heketi_is_refused(lab):
    """The review's attack: the heketi account links a folder in its data folder to a stand-in for /etc/cron.d and
    the backup is pointed there. Refused before anything is written, naming the folder and why."""
    lab.sh(1, "mkdir -p /root/cron.d-standin && chmod 755 /root/cron.d-standin")
    lab.sh(1, "ln -sfn /root/cron.d-standin /var/lib/heketi/backups", user="heketi")
    res = lab.play(lab.inv, "playbooks/backup.yml", "-e", "heketi_maintenance_backup_local_dir=",
                   "-e", "heketi_maintenance_backup_dir=/var/lib/heketi/backups")
    assert res.returncode != 0
    assert "dest: /var/lib/heketi/backups: refused: /var/lib/heketi belongs to heketi" in res.output, res.output[-3000:]
    assert lab.sh(1, "ls -A /root/cron.d-standin").stdout == ""
    lab.sh(1, "rm -f /var/lib/heketi/backups; rmdir /root/cron.d-standin")


def _python_on_node1(version: str) -> str:
    """pyenv's interpreter of this machine, copied into node1 as /opt/python<version> (the lab image is the same
    Debian), its libpython found through ld.so's cache (pyenv's run path is under /root, hidden by the sandbox)."""
    folder = Path.home() / ".pyenv" / "versions" / version
    if not folder.is_dir():
        pytest.skip("no Python %s on this machine (pyenv's of the test machines)" % version)
    dest = "/opt/python" + version
    tar = subprocess.Popen(["tar", "-C", str(folder), "-c", "--exclude=test", "--exclude=site-packages", "."],
                           stdout=subprocess.PIPE)
    subprocess.run(["docker", "exec", "-i", "%s-node1" % NAME, "sh", "-c",
                    "mkdir -p %s && tar -C %s -x && cp %s/lib/libpython*.so.1.0 /usr/local/lib/ && ldconfig"
                    % (dest, dest, dest)], stdin=tar.stdout, check=True)
    assert tar.wait() == 0
    return "%s/bin/python%s" % (dest, version.rsplit(".", 1)[0])


def test_backup_on_a_heketi_host_with_el7_python_and_ansible_core_216(lab):
    """EL 7: Ansible runs Python 2.7 there (ansible-core 2.16, the last to support it), the backup command
    python3 3.6 (EL 8's platform-python is 3.6 too). backup.yml takes the backup with the command, fetches and
    verifies it on the controller; the timer runs the same command."""
    if not CORE216.exists():
        pytest.skip("the ansible-core 2.16 lane's venv is missing (tools/venv.sh core216)")
    py27, py36 = _python_on_node1("2.7.18"), _python_on_node1("3.6.15")
    inv = lab.inventory(lab.tmp / "inv-el7", storage=[1, 2, 3], groups={"heketi": [1]},
                        host_vars={1: {"ansible_python_interpreter": py27}})
    local = lab.tmp / "backups-el7"
    lab.heketi(1, "cluster", "create")  # a change, so that a new backup is written
    res = lab.play(inv, "playbooks/backup.yml", "-e", "heketi_maintenance_backup_local_dir=%s" % local,
                   "-e", "heketi_maintenance_backup_timer=true", "-e", "__heketi_maintenance_backup_python=%s" % py36,
                   ansible_playbook=CORE216)
    assert res.returncode == 0, res.output[-5000:]
    assert "Back up the live database (GET /backup/db) with the backup command" in res.output
    version = subprocess.run([str(CORE216), "--version"], capture_output=True, text=True, check=True).stdout
    assert "[core 2.16." in version
    (copy,) = sorted(local.glob("heketi-*.db"))
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == (local / (copy.name + ".sha256")).read_text().split()[0]
    assert lab.sh(1, "test -f %s/%s" % (BACKUPS, copy.name)).returncode == 0
    assert py36 in lab.sh(1, "systemctl cat heketi-backup.service").stdout
    ran = lab.sh(1, BACKUP_SERVICE_RUN)
    assert "(unchanged)" in ran.stdout, ran.stdout
    again = lab.play(inv, "playbooks/backup.yml", "-e", "heketi_maintenance_backup_local_dir=%s" % local,
                     "-e", "__heketi_maintenance_backup_python=%s" % py36, ansible_playbook=CORE216)
    assert again.returncode == 0 and recap(again)["node1"]["changed"] == 0, again.output[-3000:]


def test_restore_of_a_corrupt_backup_names_the_file_and_the_check(lab):
    newest = next(lab.tmp.glob("backups*/heketi-*.db"), None)
    if newest is None:  # run alone: take a backup first
        res = lab.play(lab.inv, "playbooks/backup.yml", "-e", "heketi_maintenance_backup_local_dir=%s" % (lab.tmp / "backups"))
        assert res.returncode == 0, res.output[-3000:]
        newest = next(lab.tmp.glob("backups*/heketi-*.db"))
    data = bytearray(newest.read_bytes())
    bad = lab.tmp / "corrupt" / newest.name
    bad.parent.mkdir()
    data[8192:] = b"\xff" * (len(data) - 8192)  # every page after the two meta pages: heketi db export panics
    bad.write_bytes(bytes(data))
    sha = lab.tmp / "corrupt" / (newest.name + ".sha256")
    sha.write_text("%s  %s\n" % (hashlib.sha256(bytes(data)).hexdigest(), newest.name))
    before = lab.topology()
    res = lab.play(lab.inv, "playbooks/restore.yml", "-e", "heketi_maintenance_restore_file=%s" % bad)
    assert res.returncode != 0
    assert "Refusing to restore %s: 'Export the backup to JSON" % bad in res.output, res.output[-3000:]
    assert "failed: panic: runtime error" in res.output, res.output[-3000:]
    no_copy = "test ! -e /var/lib/heketi/heketi.db.restore && test ! -e /var/lib/heketi/heketi.db.restore.json"
    assert lab.sh(1, no_copy, check=False).returncode == 0  # the copy and its export are gone
    assert lab.topology() == before

    # a backup that does not match its checksum file: refused on the controller, before any copy
    sha.write_text("%s  %s\n" % ("0" * 64, newest.name))
    res = lab.play(lab.inv, "playbooks/restore.yml", "-e", "heketi_maintenance_restore_file=%s" % bad)
    assert res.returncode != 0 and "%s fails its checksum check" % bad in res.output, res.output[-3000:]
    assert lab.sh(1, no_copy, check=False).returncode == 0


# --- check.yml and cleanup_operations.yml (issue 21, item 2) -----------------------------------------------------
def check(lab) -> tuple:
    """check.yml's exit code and its findings (one line each), from the failed task's message."""
    res = lab.play(lab.inv, "playbooks/check.yml")
    failed = [line.split(" => ", 1)[1] for line in res.stdout.splitlines() if line.startswith("fatal: [node1]: FAILED!")]
    return res, sorted(json.loads(failed[-1])["msg"]) if failed else []


def test_check_reports_a_clean_pool_clean(lab):
    res, found = check(lab)
    assert res.returncode == 0 and not found, res.output[-4000:]
    assert "GlusterFS 10.3 on node2: 2/2 peers connected" in res.output
    assert "operations: 0 in flight, 0 stale, 0 failed; db check: 0 inconsistencies" in res.output


def test_check_finds_a_stale_operation_and_cleanup_clears_it(lab):
    """A volume create in flight when Heketi is killed stays stale (Heketi's own background cleaner, which would retry
    it a minute after the restart, is switched off for the test); check.yml names it with its age and the fix,
    cleanup_operations.yml refuses while an operation runs and then rolls it back; check.yml is clean again."""
    from test_day2_lab import CALLED, HOLD_LVCREATE, RESTORE_LVCREATE

    def hold_a_volume_create():
        for n in (1, 2, 3):
            lab.sh(n, HOLD_LVCREATE)
        lab.sh(1, "set -a; . /etc/heketi/heketi-cli.env; set +a; (heketi-cli volume create --size=1 >/dev/null 2>&1 &)")
        wait_for("lvcreate held on a node", lambda: any(
            lab.sh(n, "test -e " + CALLED, check=False).returncode == 0 for n in (1, 2, 3)), 120)

    def release():
        for n in (1, 2, 3):
            lab.sh(n, RESTORE_LVCREATE, check=False)

    def counts():
        return lab.heketi(1, "server", "operations", "info", check=False).lower()

    lab.sh(1, "echo HEKETI_DISABLE_BACKGROUND_CLEANER=true >/etc/heketi/heketi.env && systemctl restart heketi")
    wait_for("Heketi back", lambda: "total:" in counts(), 60)
    try:
        hold_a_volume_create()
        lab.sh(1, "systemctl kill -s KILL heketi")
    finally:
        release()
    wait_for("Heketi restarted by systemd, the operation stale", lambda: "stale: 1" in counts(), 60)
    res, found = check(lab)
    assert res.returncode != 0
    assert any(f.startswith("Heketi operation ") and "(create-volume) is stale, recorded " in f
               and "fix: playbooks/cleanup_operations.yml" in f for f in found), found

    # a second create in flight: the cleanup is refused, nothing changes
    try:
        hold_a_volume_create()
        refused = lab.play(lab.inv, "playbooks/cleanup_operations.yml")
        assert refused.returncode != 0, refused.output[-3000:]
        assert "refusing to clean up while Heketi runs 1 operation(s)" in refused.output, refused.output[-3000:]
        assert "stale: 1" in counts()
    finally:
        release()
    wait_for("the second create over (it fails here: no device-mapper)", lambda: "in-flight: 0" in counts(), 300)

    planned = lab.play(lab.inv, "playbooks/cleanup_operations.yml", "--check")
    assert planned.returncode == 0 and "1 operation(s) would be cleaned up (create-volume)" in planned.output
    assert "stale: 1" in counts()
    done = lab.play(lab.inv, "playbooks/cleanup_operations.yml")
    assert done.returncode == 0 and "1 operation(s) cleaned up (create-volume)" in done.output, done.output[-3000:]
    assert "total: 0" in counts()
    again = lab.play(lab.inv, "playbooks/cleanup_operations.yml")
    assert again.returncode == 0 and recap(again)["node1"]["changed"] == 0
    lab.sh(1, "rm -f /etc/heketi/heketi.env && systemctl restart heketi")
    wait_for("Heketi back", lambda: "total:" in counts(), 60)
    res, found = check(lab)
    assert res.returncode == 0 and not found, found


def test_check_finds_drift_offline_bricks_and_lost_peers(lab):
    """A volume made behind Heketi's back (the lab cannot make Heketi volumes: no device-mapper), one of its brick
    processes killed, glusterd stopped on a node: each is a finding with its fix; fixed, the report is clean."""
    for n in (1, 2, 3):
        lab.sh(n, "mkdir -p /srv/hy/b1")
    lab.sh(1, "gluster --mode=script volume create hyvol replica 3 node1:/srv/hy/b1 node2:/srv/hy/b1 node3:/srv/hy/b1 "
              "force && gluster --mode=script volume start hyvol")
    try:
        lab.sh(2, "pkill -KILL -f '[g]lusterfsd.*hyvol'")
        res, found = check(lab)
        assert res.returncode != 0
        assert any(f.startswith("volume hyvol is in GlusterFS (cluster ") and "but not in Heketi's database" in f
                   for f in found), found
        assert any(f.startswith("brick node2:/srv/hy/b1 of volume hyvol is offline -- fix: gluster volume start hyvol "
                                "force") for f in found), found

        lab.sh(3, "systemctl stop glusterd")
        res, found = check(lab)
        assert any(f.startswith("node3: glusterd does not answer") for f in found), found
        assert any(f.startswith("peer node3 is not connected (seen from node1, node2)") for f in found), found
        lab.sh(3, "systemctl start glusterd")
        lab.sh(1, "gluster --mode=script volume start hyvol force")
    finally:
        lab.sh(3, "systemctl start glusterd", check=False)
        # GlusterFS deletes a volume only when every peer is connected: wait for node3's glusterd to rejoin first
        # (deleting right after its start failed under load and left hyvol behind).
        wait_for("peers connected again", lambda: lab.sh(1, "gluster peer status").stdout.count("(Connected)") == 2, 60)
        lab.sh(1, "gluster --mode=script volume stop hyvol force; gluster --mode=script volume delete hyvol", check=False)
        for n in (1, 2, 3):
            lab.sh(n, "rm -rf /srv/hy", check=False)
    res, found = check(lab)
    assert res.returncode == 0 and not found, found


# --- grow_device.yml (issue 21, item 5) ---------------------------------------------------------------------------
def _loop_of(lab, node: int, disk: str) -> tuple:
    """The host's loop device and backing file the lab passes in as ``disk`` of node<i> (the lab's state file)."""
    image = "node%d-%s.img" % (node, disk.rsplit("/", 1)[-1])
    for line in (lab.inventory_file.parent / "state").read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["loop"] and parts[2].endswith("/" + image):
            return parts[1], parts[2]
    pytest.fail("no loop device for %s in the lab's state" % image)


def test_grow_device_after_the_disk_was_enlarged(lab):
    """node2's /dev/sdg, a loop device, is enlarged by 1 GiB on the host (as a virtual disk is): grow_device.yml
    runs pvresize on node2 and Heketi's resync; Heketi's size grows by 1 GiB. A rerun changes nothing; a device Heketi
    does not know is refused before the node is touched."""
    def heketi_size():
        node2 = next(n for c in lab.topology()["clusters"] for n in c["nodes"] if n["hostnames"]["manage"] == ["node2"])
        return next(d for d in node2["devices"] if d["name"] == "/dev/sdg")["storage"]["total"]

    refused = lab.play(lab.inv, "playbooks/grow_device.yml", "-e", "heketi_maintenance_device_node=node2",
                       "-e", "heketi_maintenance_device_name=/dev/sdz")
    assert refused.returncode != 0 and "Heketi knows no such device /dev/sdz on node node2" in refused.output, \
        refused.output[-3000:]
    assert "pvresize" not in refused.stdout.split("Heketi knows the device")[-1]

    before = heketi_size()
    lab.udev_links(2)
    loop, image = _loop_of(lab, 2, "/dev/sdg")
    size = int(lab.sh(2, "blockdev --getsize64 /dev/sdg").stdout)
    subprocess.run(["truncate", "-s", "+1G", image], check=True)  # the lab's own sparse file
    subprocess.run(["losetup", "-c", loop], check=True)
    assert int(lab.sh(2, "blockdev --getsize64 /dev/sdg").stdout) == size + (1 << 30)
    res = lab.play(lab.inv, "playbooks/grow_device.yml", "-e", "heketi_maintenance_device_node=node2",
                   "-e", "heketi_maintenance_device_name=/dev/sdg")
    assert res.returncode == 0, res.output[-4000:]
    assert heketi_size() - before == 1024 * 1024  # KiB: the whole GiB added
    assert recap(res)["node1"]["changed"] == 2  # pvresize, resync
    again = lab.play(lab.inv, "playbooks/grow_device.yml", "-e", "heketi_maintenance_device_node=node2",
                     "-e", "heketi_maintenance_device_name=/dev/sdg")
    assert again.returncode == 0 and recap(again)["node1"]["changed"] == 0, again.output[-3000:]
