# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Day-2 playbooks on the container lab: real glusterd, the real Heketi with its ssh executor.

One lab (tools/lab/lab, 4 storage-node containers, no client; Heketi with TLS as inventories/local sets it), shared by
the module-scoped fixture and used in order (DAY2_LAB_NAME names it, DAY2_KEEP_LAB=1 keeps it afterwards):
1. scale-out: site.yml on an inventory of node1..node3, then node4 added to the inventory and site.yml rerun:
   Heketi gains node4 and its two devices, nothing else changes, the other hosts report changed=0;
2. device and node removal where Heketi has no bricks (the lab keeps udev's lvm-pv-uuid links as a real host does;
   without one, replace_device.yml refuses before any change, a delete failing half-way says so, a rerun finishes):
   the lab kernel has NO device-mapper, so Heketi cannot
   create a volume (lvcreate fails) and no brick can exist here; brick migration and the room refusals are
   tested against the real server with the mock executor (test_heketi_state.py). node4 then comes back with
   the documented --limit form;
3. backup, a change, restore: Heketi reports the backup's state again, and its database check is clean; the backup
   timer's own command (plain python3) backs up over Heketi's TLS port;
   upgrade: refused while a volume create is held in flight (lvcreate held on the nodes), then run;
4. drill: Heketi killed during backups leaves every earlier backup intact and verified; the next run succeeds;
5. uninstall with the wipe switch off leaves the first MiB of every disk unchanged (sha256 before/after);
   with the switch on, only the confirmed device is wiped.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml

from daylab import BACKUP_SERVICE_RUN, recap

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"
LAB_TOOL = ROOT / "tools" / "lab" / "lab"
LAB = os.environ.get("DAY2_LAB_NAME", "ghday2")
DISKS = ("/dev/sdf", "/dev/sdg")
BINARIES = ROOT / ".cache" / "heketi" / "bin"
LAB_INVENTORY: list = []  # the inventory file tools/lab/lab wrote for this lab (set by the fixture)


def inventory(path: Path, nodes: int) -> Path:
    """inventories/local's layout (its group_vars) with node1..N as storage nodes, Heketi on node1, no client.

    How Ansible reaches each container (connection, host, user, port, key) is taken from the inventory the lab
    tool wrote for this lab, so the test follows whatever transport tools/lab/lab sets up.
    """
    lab_inv = yaml.safe_load(Path(LAB_INVENTORY[0]).read_text())["all"]
    path.mkdir(parents=True, exist_ok=True)
    gv = path / "group_vars"
    if not gv.exists():
        gv.symlink_to(ROOT / "inventories" / "local" / "group_vars")
    lab_hosts = lab_inv["children"]["glusterfs_servers"]["hosts"]
    hosts = {"node%d" % i: lab_hosts["node%d" % i] for i in range(1, nodes + 1)}
    (path / "hosts.yml").write_text(json.dumps({"all": {
        # lab_dir: inventories/local's group_vars find the lab's key and known_hosts there
        "vars": dict(lab_inv.get("vars") or {}, lab_name=LAB, lab_dir=str(Path(LAB_INVENTORY[0]).parent)),
        "children": {"glusterfs_servers": {"hosts": hosts}, "heketi": {"hosts": {"node1": {}}}}}}, indent=1))
    return path


def play(inv: Path, playbook: str, *args: str, timeout: int = 3600) -> subprocess.CompletedProcess:
    # group_vars/heketi.yml of inventories/local names the binaries relative to that folder: pass the path
    cmd = [str(PLAYBOOK), playbook, "-i", str(inv), "-e", "heketi_binaries_src=%s" % BINARIES, *args]
    env = dict(os.environ, LAB_NAME=LAB, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    proc.output = proc.stdout + proc.stderr
    return proc


def dexec(node: int, command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "exec", "%s-node%d" % (LAB, node), "sh", "-c", command],
                          capture_output=True, text=True, check=check)


def heketi(*args: str) -> str:
    return dexec(1, "set -a; . /etc/heketi/heketi-cli.env; set +a; heketi-cli " + " ".join(args)).stdout


def topology() -> dict:
    return json.loads(heketi("topology", "info", "--json"))


def nodes_by_name(topo: dict) -> dict:
    return {n["hostnames"]["manage"][0]: n for c in topo.get("clusters") or [] for n in c["nodes"]}


def pv_links(node: int) -> dict:
    """{PV: link} of the /dev/disk/by-id/lvm-pv-uuid-* links udev makes on a real host; in the lab, tools/lab/lab's
    stand-in (lab-pv-links.service, the containers run no udev) keeps them within 2 s of a pvcreate.

    Heketi records that alias for each device and its delete runs pvremove through it; without the link the
    delete fails half-way with "No device found for /dev/disk/by-id/lvm-pv-uuid-...".
    """
    out = dexec(node, "pvs --noheadings -o pv_name,pv_uuid | while read -r pv uuid; do "
                      "l=/dev/disk/by-id/lvm-pv-uuid-$uuid; [ -e $l ] && echo \"$pv $l $(readlink -f $l)\"; done").stdout
    return {pv: link for pv, link, target in (line.split() for line in out.splitlines()) if target == pv}


def first_mib(node: int) -> dict:
    return {d: dexec(node, "head -c 1048576 %s | sha256sum" % d).stdout.split()[0] for d in DISKS}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    up = subprocess.run([str(LAB_TOOL), "up", "--name", LAB, "--nodes", "4"], cwd=ROOT,
                        capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stderr[-3000:]
    LAB_INVENTORY[:] = [up.stdout.split()[-1]]
    try:
        yield tmp_path_factory.mktemp("day2")
    finally:
        if os.environ.get("DAY2_KEEP_LAB") != "1":  # DAY2_KEEP_LAB=1 keeps it for a look (lab down --name ...)
            subprocess.run([str(LAB_TOOL), "down", "--name", LAB], cwd=ROOT, capture_output=True, check=False)


TAGS = ("--tags", "glusterfs_servers,heketi,topology")


def test_scale_out_by_inventory_change(lab):
    three = inventory(lab / "inv", 3)
    first = play(three, "site.yml", *TAGS)
    assert first.returncode == 0, first.output[-5000:]
    before = nodes_by_name(topology())
    assert sorted(before) == ["node1", "node2", "node3"]

    four = inventory(lab / "inv", 4)
    second = play(four, "site.yml", *TAGS)
    assert second.returncode == 0, second.output[-5000:]
    after = nodes_by_name(topology())
    assert sorted(after) == ["node1", "node2", "node3", "node4"]
    assert sorted(d["name"] for d in after["node4"]["devices"]) == list(DISKS)
    for name, node in before.items():  # nothing else changed in Heketi
        assert after[name] == node, name
    counts = recap(second)
    assert counts["node2"]["changed"] == 0 and counts["node3"]["changed"] == 0, counts
    assert counts["node4"]["changed"] > 0, counts
    assert "node4" in dexec(1, "gluster pool list").stdout


def test_device_and_node_removal_without_bricks(lab):
    inv = lab / "inv"
    dev = next(d for d in nodes_by_name(topology())["node2"]["devices"] if d["name"] == "/dev/sdg")
    # The lab looks like a real host here: the links are there, made when Heketi ran pvcreate.
    assert sorted(pv_links(2)) == list(DISKS) and sorted(pv_links(4)) == list(DISKS)
    res = play(inv, "playbooks/replace_device.yml", "-e", "heketi_maintenance_device_node=node2",
               "-e", "heketi_maintenance_device_name=/dev/sdg")
    assert res.returncode == 0, res.output[-4000:]
    assert "offline, removed, deleted" in res.output
    assert [d["name"] for d in nodes_by_name(topology())["node2"]["devices"]] == ["/dev/sdf"]
    # Heketi really ran vgremove/pvremove on node2 over ssh
    assert "vg_%s" % dev["id"] not in dexec(2, "vgs --noheadings -o vg_name").stdout
    assert dexec(2, "pvs --noheadings /dev/sdg", check=False).returncode != 0
    again = play(inv, "playbooks/replace_device.yml", "-e", "heketi_maintenance_device_node=node2",
                 "-e", "heketi_maintenance_device_name=/dev/sdg")
    assert again.returncode == 0 and recap(again)["node1"]["changed"] == 0, again.output[-3000:]

    res = play(inv, "playbooks/remove_node.yml", "-e", "heketi_maintenance_node=node4")
    assert res.returncode == 0, res.output[-4000:]
    assert "offline, removed, deleted device /dev/sdf, deleted device /dev/sdg, deleted" in res.output
    assert "node4" not in nodes_by_name(topology())
    assert "node4" not in dexec(1, "gluster pool list").stdout  # Heketi detached the peer

    # Back again: the documented --limit form (the new host plus the Heketi host) re-adds node4, and only
    # node4: node2's /dev/sdg, outside the limit, is neither inspected nor handed to Heketi.
    back = play(inv, "site.yml", *TAGS, "--limit", "node4,heketi")
    assert back.returncode == 0, back.output[-5000:]
    assert sorted(recap(back)) == ["node1", "node4"]
    assert "--limit leaves out node2, node3" in back.output
    held = nodes_by_name(topology())
    assert sorted(held) == ["node1", "node2", "node3", "node4"]
    assert [d["name"] for d in held["node2"]["devices"]] == ["/dev/sdf"]
    # The same form for node2 re-adds its /dev/sdg (checked on node2 first).
    again = play(inv, "site.yml", *TAGS, "--limit", "node2,heketi")
    assert again.returncode == 0, again.output[-5000:]
    assert sorted(d["name"] for d in nodes_by_name(topology())["node2"]["devices"]) == list(DISKS)


PART_WAY = """
- name: Heketi's delete of node3's /dev/sdg, without the playbook's preflight
  hosts: heketi
  become: true
  gather_facts: false
  tasks:
    - name: Connect
      ansible.builtin.include_role:
        name: glusterfs.heketi.heketi_maintenance
        tasks_from: connect.yml
    - name: Delete the device
      glusterfs.heketi.heketi_device:
        url: "{{ __heketi_maintenance_url }}"
        key: "{{ __heketi_maintenance_key }}"
        ca_path: "{{ __heketi_maintenance_ca_path }}"
        node: node3
        name: /dev/sdg
        state: absent
"""


def test_missing_pv_link_refused_then_part_way_failure_reported_and_finished(lab):
    """A host without udev's lvm-pv-uuid link (issue 25): replace_device.yml finds it before the first change and
    names the fix; the module run without that check fails half-way (Heketi removed the volume group, then its
    pvremove found no link) and says so: changed, the step that failed, the state reached, how to finish; the
    playbook's rerun finishes (Heketi forgets the device whose volume group is gone)."""
    inv = lab / "inv"
    dev = next(d for d in nodes_by_name(topology())["node3"]["devices"] if d["name"] == "/dev/sdg")
    link = pv_links(3)["/dev/sdg"]
    dexec(3, "systemctl stop lab-pv-links.service && rm -f %s" % link)

    refused = play(inv, "playbooks/replace_device.yml", "-e", "heketi_maintenance_device_node=node3",
                   "-e", "heketi_maintenance_device_name=/dev/sdg")
    assert refused.returncode != 0, refused.output[-4000:]
    assert "Heketi cannot delete these devices on node3; nothing was changed" in refused.output, refused.output[-4000:]
    assert "/dev/sdg: %s, the link udev makes for its LVM physical volume, is missing" % link in refused.output
    assert "ln -s /dev/sdg %s" % link in refused.output
    assert all(c["changed"] == 0 for c in recap(refused).values()), recap(refused)
    assert next(d for d in nodes_by_name(topology())["node3"]["devices"] if d["id"] == dev["id"])["state"] == "online"
    assert "vg_%s" % dev["id"] in dexec(3, "vgs --noheadings -o vg_name").stdout

    book = lab / "part_way.yml"
    book.write_text(PART_WAY)
    failed = play(inv, str(book))
    assert failed.returncode != 0, failed.output[-4000:]
    assert '"changed": true' in failed.output and '"failed_step": "deleted"' in failed.output, failed.output[-4000:]
    assert '"reached": "removed"' in failed.output
    assert "offline, removed done; deleted failed" in failed.output and "To finish, run the same task again" in failed.output
    assert "vg_%s" % dev["id"] not in dexec(3, "vgs --noheadings -o vg_name").stdout  # half-way: the VG is gone

    dexec(3, "systemctl start lab-pv-links.service")
    finished = play(inv, "playbooks/replace_device.yml", "-e", "heketi_maintenance_device_node=node3",
                    "-e", "heketi_maintenance_device_name=/dev/sdg")
    assert finished.returncode == 0, finished.output[-4000:]
    assert "/dev/sdg: its volume group vg_%s is already gone" % dev["id"] in finished.output
    assert "deleted" in finished.output and recap(finished)["node1"]["changed"] > 0
    assert [d["name"] for d in nodes_by_name(topology())["node3"]["devices"]] == ["/dev/sdf"]
    # Heketi's forget stops at its vgremove (the volume group is gone) and leaves the PV label, as the run says: the
    # operator removes it, and the disk goes back in with the --limit form.
    assert "If a PV label is still on such a disk, remove it with pvremove" in finished.output
    dexec(3, "pvremove -y /dev/sdg")
    back = play(inv, "site.yml", *TAGS, "--limit", "node3,heketi")
    assert back.returncode == 0, back.output[-5000:]
    assert sorted(d["name"] for d in nodes_by_name(topology())["node3"]["devices"]) == list(DISKS)


def test_backup_change_restore(lab):
    inv, local = lab / "inv", lab / "backups"
    res = play(inv, "playbooks/backup.yml", "-e", "heketi_maintenance_backup_local_dir=%s" % local)
    assert res.returncode == 0, res.output[-4000:]
    files = sorted(local.glob("heketi-*.db"))
    assert len(files) == 1
    recorded = (files[0].parent / (files[0].name + ".sha256")).read_text().split()[0]
    assert hashlib.sha256(files[0].read_bytes()).hexdigest() == recorded
    assert dexec(1, "cd /var/lib/heketi-backups && sha256sum -c --quiet *.sha256").returncode == 0
    # The scheduled form: the timer's command (plain python3, no Ansible) reaches Heketi over its TLS port with the CA
    timer = play(inv, "playbooks/backup.yml", "-e", "heketi_maintenance_backup_local_dir=%s" % local,
                 "-e", "heketi_maintenance_backup_timer=true")
    assert timer.returncode == 0, timer.output[-4000:]
    assert dexec(1, "systemctl is-enabled heketi-backup.timer").stdout.strip() == "enabled"
    ran = dexec(1, BACKUP_SERVICE_RUN, check=False)
    assert ran.returncode == 0 and "(unchanged)" in ran.stdout, ran.stdout + ran.stderr
    assert "https://127.0.0.1:8080" in dexec(1, "cat /etc/heketi-backup/backup.json").stdout
    saved = topology()

    node3 = nodes_by_name(saved)["node3"]["id"]
    heketi("node", "disable", node3)  # the change: node3 offline, and a new empty cluster
    heketi("cluster", "create")
    changed = topology()
    assert changed != saved and len(changed["clusters"]) == 2

    res = play(inv, "playbooks/restore.yml", "-e", "heketi_maintenance_restore_file=%s" % files[0])
    assert res.returncode == 0, res.output[-5000:]
    assert topology() == saved
    assert json.loads(heketi("db", "check"))["totalinconsistencies"] == 0
    aside = dexec(1, "ls /var/lib/heketi/ | grep before-restore").stdout.split()
    assert len(aside) == 1


def operations() -> str:
    return heketi("server", "operations", "info").lower()


# Heketi runs every LVM command as /usr/sbin/lvm <command> over ssh. lvm wrapped on the nodes so that lvcreate is held
# until the test releases it (a file appears; at most 600 s), then the real one runs (and fails here, without
# device-mapper): a volume create stays in flight exactly as long as the test needs it. Every other LVM command (and
# the lvs/pvs/... links to lvm) passes straight through.
HELD, CALLED, LVM, KEPT = "/tmp/day2-release-lvcreate", "/tmp/day2-lvcreate-called", "/usr/sbin/lvm", "/root/lvm-real"
# (the real lvm moves to a folder of its own, keeping its name: lvm takes its command from the name it is run by)
LVM_WRAPPER = """#!/bin/sh
cmd=$(basename "$0"); [ "$cmd" = lvm ] || set -- "$cmd" "$@"
if [ "$1" = lvcreate ]; then
  touch %(called)s
  for i in $(seq 600); do [ -e %(held)s ] && break; sleep 1; done
fi
exec %(kept)s/lvm "$@"
""" % {"called": CALLED, "held": HELD, "kept": KEPT}
HOLD_LVCREATE = "rm -f %s %s && mkdir -p %s && mv %s %s/lvm && cat >%s <<'EOF'\n%sEOF\nchmod 755 %s" % (
    HELD, CALLED, KEPT, LVM, KEPT, LVM, LVM_WRAPPER, LVM)
RESTORE_LVCREATE = "touch %s; test -e %s/lvm && mv %s/lvm %s; true" % (HELD, KEPT, KEPT, LVM)


def wait_for(what, predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    pytest.fail("%s: not within %d s" % (what, seconds))


def test_upgrade_refuses_while_an_operation_is_in_flight_then_upgrades(lab):
    """A volume create kept in flight (lvcreate held on the nodes until the test releases it; it then fails, as
    lvcreate does here without device-mapper): upgrade.yml refuses after its bound, Heketi is back in normal mode,
    nothing was installed; once the operation is over the upgrade runs (same binaries), restarts Heketi and
    verifies."""
    inv = lab / "inv"
    held = topology()
    for n in range(1, 5):
        dexec(n, HOLD_LVCREATE)
    try:
        subprocess.run(["docker", "exec", "-d", "%s-node1" % LAB, "sh", "-c",
                        "set -a; . /etc/heketi/heketi-cli.env; set +a; heketi-cli volume create --size=1 "
                        ">/tmp/volcreate.log 2>&1"], check=True)
        wait_for("an operation in flight", lambda: "in-flight: 1" in operations(), 60)
        # Heketi's ssh executor really reached lvcreate on a node (the hold is what keeps the operation going)
        wait_for("lvcreate held on a node", lambda: any(
            dexec(n, "test -e " + CALLED, check=False).returncode == 0 for n in range(1, 5)), 60)
        mtime = dexec(1, "stat -c %Y /usr/local/bin/heketi").stdout
        res = play(inv, "playbooks/upgrade.yml", "-e", "heketi_maintenance_upgrade_wait=5")
        assert res.returncode != 0 and "Refusing to upgrade node1" in res.output, res.output[-4000:]
        assert "operation(s) still in flight after 5s" in res.output
        assert "Heketi is back in normal mode" in res.output
        assert "normal" in heketi("server", "mode", "get")
        assert dexec(1, "stat -c %Y /usr/local/bin/heketi").stdout == mtime
        assert "in-flight: 1" in operations()  # the refusal did not end or disturb the operation
    finally:
        for n in range(1, 5):
            dexec(n, RESTORE_LVCREATE, check=False)
    wait_for("no operation in flight", lambda: "in-flight: 0" in operations(), 300)
    # heketi-cli writes its answer when its own polling sees the operation end, a little after Heketi does
    wait_for("heketi-cli's answer to the volume create", lambda: dexec(
        1, "test -s /tmp/volcreate.log && ! pgrep -f '[h]eketi-cli volume create' >/dev/null",
        check=False).returncode == 0, 120)
    log = dexec(1, "cat /tmp/volcreate.log").stdout.lower()
    assert "failed" in log or "error" in log, log
    res = play(inv, "playbooks/upgrade.yml")
    assert res.returncode == 0, res.output[-5000:]
    assert "Restart Heketi (also leaves maintenance mode" in res.output
    assert "normal" in heketi("server", "mode", "get")
    after = topology()
    assert nodes_by_name(after).keys() == nodes_by_name(held).keys()


def test_drill_heketi_killed_during_backup(lab):
    inv, local = lab / "inv", lab / "backups"
    before = {p.name: p.read_bytes() for p in local.iterdir()}
    host_before = dexec(1, "cd /var/lib/heketi-backups && sha256sum *").stdout
    heketi("cluster", "create")  # so that the next backup differs from the last one
    outcomes = []

    def killer(proc):
        # kill -9 Heketi as soon as the playbook starts the backup task (systemd restarts it 5 s later)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            if "Back up the live database" in line:
                dexec(1, "systemctl kill -s KILL heketi")
                outcomes.append("killed")
                break
        outcomes.append(proc.communicate()[0])

    cmd = [str(PLAYBOOK), "playbooks/backup.yml", "-i", str(inv), "-e", "heketi_maintenance_backup_local_dir=%s" % local,
           "-e", "heketi_binaries_src=%s" % BINARIES]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ, LAB_NAME=LAB, ANSIBLE_NOCOLOR="1"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    thread = threading.Thread(target=killer, args=(proc,))
    thread.start()
    thread.join(600)
    assert outcomes and outcomes[0] == "killed", outcomes
    # every earlier backup is still there, byte for byte, on the controller and on the Heketi host
    for name, data in before.items():
        assert (local / name).read_bytes() == data, name
    assert dexec(1, "cd /var/lib/heketi-backups && sha256sum -c --quiet *.sha256").returncode == 0
    for line in host_before.splitlines():
        assert line in dexec(1, "cd /var/lib/heketi-backups && sha256sum *").stdout
    assert not list(local.glob(".*.tmp")) and not dexec(1, "ls -a /var/lib/heketi-backups | grep tmp",
                                                        check=False).stdout
    wait_for("Heketi back (systemd restarts it)", lambda: dexec(
        1, "set -a; . /etc/heketi/heketi-cli.env; set +a; heketi-cli cluster list", check=False).returncode == 0, 60)
    nxt = play(inv, "playbooks/backup.yml", "-e", "heketi_maintenance_backup_local_dir=%s" % local)
    assert nxt.returncode == 0, nxt.output[-4000:]
    assert len(list(local.glob("heketi-*.db"))) == len([n for n in before if n.endswith(".db")]) + 1


def test_uninstall_leaves_disks_unless_confirmed(lab):
    inv, final = lab / "inv", lab / "final"
    sums = {n: first_mib(n) for n in range(1, 5)}
    res = play(inv, "playbooks/uninstall.yml", "-e", "heketi_maintenance_uninstall_heketi=true",
               "-e", "heketi_maintenance_final_backup_dir=%s" % final,
               "-e", json.dumps({"heketi_maintenance_wipe_confirm": ["node3:/dev/sdf"]}))
    assert res.returncode == 0, res.output[-5000:]
    assert {n: first_mib(n) for n in range(1, 5)} == sums  # wipe switch off: nothing wiped, confirmed or not
    assert dexec(1, "systemctl is-active heketi", check=False).stdout.strip() != "active"
    assert dexec(1, "test -e /etc/heketi || test -e /var/lib/heketi", check=False).returncode != 0
    kept = sorted(final.glob("heketi-*.db"))
    assert len(kept) == 1
    assert hashlib.sha256(kept[0].read_bytes()).hexdigest() == (final / (kept[0].name + ".sha256")).read_text().split()[0]

    bad = play(inv, "playbooks/uninstall.yml", "-e", "heketi_maintenance_wipe_devices=true",
               "-e", json.dumps({"heketi_maintenance_wipe_confirm": ["node3:/dev/sdz"]}))
    assert bad.returncode != 0 and "node3: heketi_maintenance_wipe_confirm lists /dev/sdz" in bad.output
    assert {n: first_mib(n) for n in range(1, 5)} == sums

    wipe = play(inv, "playbooks/uninstall.yml", "-e", "heketi_maintenance_wipe_devices=true",
                "-e", json.dumps({"heketi_maintenance_wipe_confirm": ["node3:/dev/sdf"]}))
    assert wipe.returncode == 0, wipe.output[-4000:]
    after = {n: first_mib(n) for n in range(1, 5)}
    assert after[3]["/dev/sdf"] != sums[3]["/dev/sdf"]
    assert dexec(3, "wipefs /dev/sdf").stdout.strip() == ""
    after[3]["/dev/sdf"] = sums[3]["/dev/sdf"]
    assert after == sums  # every other disk untouched
