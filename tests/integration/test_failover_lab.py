# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Heketi failover to a cold standby (issue 21, item 1) on one container lab: real glusterd, the real Heketi (TLS,
ssh executor) on node1, its cold standby on node4 (the heketi_standby group), node1..node3 the storage nodes.

One lab for the file (FAILOVER_LAB_NAME, default ghfailover; DAY2_KEEP_LAB=1 keeps it). The tests run in order and
share its state:
1. site.yml installs the standby stopped and disabled, with the primary's JWT keys and CA, its own ssh key authorized
   on the storage nodes; a rerun of the heketi stage changes nothing there; a standby with other Heketi settings than
   the primary's is refused;
2. backups: backup.yml keeps the controller's copy; the backup timer copies each backup to the standby (off-host);
3. failover.yml refuses, changing nothing, while Ansible cannot reach the primary and its Heketi still answers;
4. the primary's Heketi killed, failover.yml run: the primary fenced, the newest backup restored on the standby, the
   standby serves the same clusters, nodes and devices; the StorageClass stage's manifests name the standby; the RTO
   (failover started -> standby verified) is printed for docs/benchmarks.md;
5. writes through the standby: a cluster created (and deleted at the end); a volume create reaches the storage
   nodes over the standby's own ssh key and allocates bricks on the restored devices (lvcreate is called on a node),
   then fails as every volume create does in this lab (no device-mapper: no thin LV can exist here) and Heketi rolls
   it back cleanly;
6. a second failover.yml run changes nothing; the heketi role refuses to undo the failover until the inventory is
   changed, and runs on the changed inventory with the promoted host as the primary.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time

import pytest

from daylab import DayLab, recap, wait_for

NAME = os.environ.get("FAILOVER_LAB_NAME", "ghfailover")
TAGS = ("--tags", "glusterfs_servers,heketi,topology")
BACKUPS = "/var/lib/heketi-backups"
RECORD = "/etc/heketi/failover.json"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = DayLab(NAME, nodes=4)
    try:
        tmp = tmp_path_factory.mktemp("failover")
        lab.tmp = tmp
        lab.inv = lab.inventory(tmp / "inv", storage=[1, 2, 3], groups={"heketi": [1], "heketi_standby": [4]})
        lab.local = tmp / "backups"
        lab.render = tmp / "storageclass"
        site = lab.play(lab.inv, "site.yml", *TAGS)
        assert site.returncode == 0, site.output[-5000:]
        lab.site = site
        yield lab
    finally:
        if os.environ.get("DAY2_KEEP_LAB") != "1":
            lab.down()


def failover(lab, inv=None, *args):
    return lab.play(inv or lab.inv, "playbooks/failover.yml", "-e", "heketi_maintenance_failover_local_dir=%s" % lab.local,
                    "-e", "storageclass_render_only=true", "-e", "storageclass_render_dir=%s" % lab.render, *args)


def jwt_keys(lab, node):
    cfg = json.loads(lab.sh(node, "cat /etc/heketi/heketi.json").stdout)
    return hashlib.sha256((cfg["jwt"]["admin"]["key"] + "\0" + cfg["jwt"]["user"]["key"]).encode()).hexdigest()


def ids(topo):
    clusters = topo.get("clusters") or []
    return {"clusters": sorted(c["id"] for c in clusters),
            "nodes": sorted(n["id"] for c in clusters for n in c["nodes"]),
            "devices": sorted(d["id"] for c in clusters for n in c["nodes"] for d in n["devices"]),
            "volumes": sorted(v["id"] for c in clusters for v in c.get("volumes") or [])}


def test_standby_installed_stopped_with_the_primary_keys_and_ca(lab):
    assert lab.sh(4, "systemctl is-active heketi", check=False).stdout.strip() == "inactive"
    assert lab.sh(4, "systemctl is-enabled heketi", check=False).stdout.strip() == "disabled"
    assert lab.sh(4, "test -e /var/lib/heketi/heketi.db", check=False).returncode != 0  # never started
    assert jwt_keys(lab, 4) == jwt_keys(lab, 1)
    assert lab.sh(4, "sha256sum </etc/heketi/tls/ca.crt").stdout == lab.sh(1, "sha256sum </etc/heketi/tls/ca.crt").stdout
    assert lab.sh(4, "stat -c '%U %a' /etc/heketi/tls/ca.key").stdout.split() == ["root", "600"]
    # the standby's own certificate, signed by the same CA, for its own names
    issuer = "openssl x509 -noout -issuer -in /etc/heketi/tls/heketi.crt"
    if lab.sh(4, "command -v openssl", check=False).returncode == 0:
        assert lab.sh(4, issuer).stdout == lab.sh(1, issuer).stdout
    # its own ssh key, authorized on every storage node with from= its address
    pub = lab.sh(4, "cut -d' ' -f2 /etc/heketi/heketi_key.pub").stdout.strip()
    assert pub and pub != lab.sh(1, "cut -d' ' -f2 /etc/heketi/heketi_key.pub").stdout.strip()
    for n in (1, 2, 3):
        line = next(li for li in lab.sh(n, "cat /root/.ssh/authorized_keys").stdout.splitlines() if pub in li)
        assert line.startswith("restrict,from=") and lab.address(4) in line, line
    again = lab.play(lab.inv, "playbooks/heketi.yml")
    assert again.returncode == 0, again.output[-4000:]
    assert recap(again)["node4"]["changed"] == 0, again.output[-4000:]
    assert lab.sh(4, "systemctl is-active heketi", check=False).stdout.strip() == "inactive"
    # a standby whose settings differ from the primary's (no TLS here) is refused before any change
    odd = lab.inventory(lab.tmp / "inv-odd", storage=[1, 2, 3], groups={"heketi": [1], "heketi_standby": [4]},
                        host_vars={4: {"heketi_tls": False}})
    refused = lab.play(odd, "playbooks/heketi.yml", "--limit", "node4")
    assert refused.returncode != 0
    assert "node4 is a Heketi standby (heketi_standby) but heketi_standby_primary" in refused.output, refused.output[-3000:]
    assert "(here False, 8080; there True, 8080)" in refused.output


def test_backups_reach_the_controller_and_the_standby(lab):
    res = lab.play(lab.inv, "playbooks/backup.yml", "-e", "heketi_maintenance_backup_local_dir=%s" % lab.local,
                   "-e", "heketi_maintenance_backup_timer=true")
    assert res.returncode == 0, res.output[-4000:]
    assert len(list(lab.local.glob("heketi-*.db"))) == 1
    # the timer's run copies each backup to the standby (the documented default target when heketi_standby exists)
    lab.heketi(1, "cluster", "create")  # a change, so that the timer writes a new backup
    ran = lab.sh(1, "systemctl start heketi-backup.service && journalctl -u heketi-backup.service -o cat -n 5",
                 check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    newest = lab.sh(1, "ls %s | grep 'db$' | sort | tail -1" % BACKUPS).stdout.strip()
    assert lab.sh(4, "cd %s && sha256sum -c --quiet %s.sha256" % (BACKUPS, newest), check=False).returncode == 0
    assert lab.sh(4, "stat -c '%G %a' " + BACKUPS + "/" + newest).stdout.split() == ["heketi-backup", "640"]
    lab.newest = newest


def test_failover_refused_while_the_unreachable_primary_still_answers(lab):
    """Ansible cannot reach node1 (a closed ssh port in this inventory) but its Heketi answers: refused before any
    change, naming the way out; the standby is untouched."""
    inv = lab.inventory(lab.tmp / "inv-cut", storage=[1, 2, 3], groups={"heketi": [1], "heketi_standby": [4]},
                        host_vars={1: {"ansible_port": 1}})
    res = failover(lab, inv)
    assert res.returncode != 0
    assert "Refusing to promote node4: Ansible cannot reach node1 to stop its Heketi, and that Heketi still answers" \
        in res.output, res.output[-3000:]
    assert "heketi_maintenance_failover_primary_gone=true" in res.output
    assert lab.sh(4, "systemctl is-active heketi", check=False).stdout.strip() == "inactive"
    assert lab.sh(4, "test -e /var/lib/heketi/heketi.db || test -e %s" % RECORD, check=False).returncode != 0
    assert lab.sh(1, "systemctl is-active heketi", check=False).stdout.strip() == "active"


def test_failover_after_the_primary_heketi_is_killed(lab):
    before = ids(lab.topology(1))
    lab.sh(1, "systemctl kill -s KILL heketi")
    started = time.monotonic()
    res = failover(lab)
    rto = time.monotonic() - started
    assert res.returncode == 0, res.output[-5000:]
    reported = re.search(r"standby verified ([0-9.]+) s after the failover started", res.output)
    assert reported, res.output[-3000:]
    print("\nRTO on the lab: failover.yml %.1f s wall, %s s from its start to the standby verified" % (rto, reported[1]))
    (lab.tmp / "rto.txt").write_text("%.1f %s\n" % (rto, reported[1]))
    # the newest backup was the timer's off-host copy on the standby
    assert "restored from %s" % lab.newest in res.output, res.output[-3000:]
    # the primary fenced: stopped, disabled, recorded
    assert lab.sh(1, "systemctl is-active heketi", check=False).stdout.strip() != "active"
    assert lab.sh(1, "systemctl is-enabled heketi", check=False).stdout.strip() == "disabled"
    assert json.loads(lab.sh(1, "cat " + RECORD).stdout) == {"state": "fenced", "serving": "node4"}
    # the standby serves the same state, enabled, recorded
    assert lab.sh(4, "systemctl is-enabled heketi").stdout.strip() == "enabled"
    assert ids(lab.topology(4)) == before
    record = json.loads(lab.sh(4, "cat " + RECORD).stdout)
    assert record["state"] == "promoted" and record["from"] == "node1" and record["backup"] == lab.newest
    # the Kubernetes stage's manifests name the standby
    manifests = "".join(p.read_text() for p in lab.render.rglob("*.yaml"))
    assert "https://%s:8080" % lab.address(4) in manifests, manifests[:2000]
    assert "https://%s:8080" % lab.address(1) not in manifests


def test_the_standby_serves_writes(lab):
    from test_day2_lab import CALLED, HOLD_LVCREATE, RESTORE_LVCREATE

    before = ids(lab.topology(4))
    created = json.loads(lab.heketi(4, "cluster", "create", "--json"))["id"]
    assert ids(lab.topology(4))["clusters"] == sorted(before["clusters"] + [created])
    try:
        for n in (1, 2, 3):
            lab.sh(n, HOLD_LVCREATE)
        lab.sh(4, "set -a; . /etc/heketi/heketi-cli.env; set +a; "
                  "(heketi-cli volume create --size=1 >/tmp/volume-create.log 2>&1 &)")
        wait_for("the standby's volume create reaching lvcreate on a storage node", lambda: any(
            lab.sh(n, "test -e " + CALLED, check=False).returncode == 0 for n in (1, 2, 3)), 180)
    finally:
        for n in (1, 2, 3):
            lab.sh(n, RESTORE_LVCREATE, check=False)
    wait_for("the volume create over (it fails here: no device-mapper)",
             lambda: "in-flight: 0" in lab.heketi(4, "server", "operations", "info", check=False).lower(), 300)
    after = ids(lab.topology(4))
    assert after["nodes"] == before["nodes"] and after["devices"] == before["devices"] and after["volumes"] == []
    # rolled back: no operation left (the next test's failover.yml run also asserts a clean database check)
    assert "total: 0" in lab.heketi(4, "server", "operations", "info").lower()
    lab.heketi(4, "cluster", "delete", created)  # a delete through the standby too: its state is the restored one
    assert ids(lab.topology(4)) == before


def test_second_run_changes_nothing_and_the_role_refuses_to_undo_it(lab):
    again = failover(lab)
    assert again.returncode == 0, again.output[-4000:]
    counts = recap(again)
    assert counts["node4"]["changed"] == 0 and counts.get("localhost", {}).get("changed", 0) == 0, again.output[-4000:]
    assert "promoted earlier; verified again" in again.output

    # the unchanged inventory would start the fenced primary again: refused before any change
    undo = lab.play(lab.inv, "site.yml", "--tags", "heketi")
    assert undo.returncode != 0
    assert "node1: playbooks/failover.yml fenced this host (its Heketi was stopped): node4 serves Heketi now" \
        in undo.output, undo.output[-3000:]
    assert lab.sh(1, "systemctl is-active heketi", check=False).stdout.strip() != "active"

    # the inventory changed as the README says: node4 is the primary; the role keeps it running
    swapped = lab.inventory(lab.tmp / "inv-swapped", storage=[1, 2, 3], groups={"heketi": [4]})
    res = lab.play(swapped, "site.yml", "--tags", "heketi")
    assert res.returncode == 0, res.output[-5000:]
    assert lab.sh(4, "systemctl is-active heketi").stdout.strip() == "active"
    assert lab.sh(1, "systemctl is-active heketi", check=False).stdout.strip() != "active"
