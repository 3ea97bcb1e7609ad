# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The glusterfs_metrics role's collector (roles/glusterfs_metrics/files/glusterfs_metrics_collector.py) on real
``gluster --xml`` answers of GlusterFS 10.3, captured from the container lab (tests/unit/fixtures/gluster/capture.sh
makes them): a healthy replica-3 volume, a brick process killed with writes waiting for self-heal, glusterd stopped on a
node (its own answer, and its peers' view). The text it writes is checked by Prometheus' own ``promtool check
metrics``."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "unit" / "fixtures" / "gluster"
sys.path.insert(0, str(ROOT / "roles" / "glusterfs_metrics" / "files"))
sys.path.insert(0, str(ROOT / "plugins" / "module_utils"))

import glusterfs_metrics_collector as collector  # noqa: E402


def answers(**files):
    """run(*args) for gluster_metrics: the captured answer of each command, by the fixture file named for it."""
    table = {
        ("peer", "status"): files.get("peers", "peer-status.xml"),
        ("volume", "info", "all"): files.get("info", "volume-info.xml"),
        ("volume", "status", "all", "detail"): files.get("status", "volume-status-detail.xml"),
        ("volume", "heal", "mon", "info", "summary"): files.get("heal", "heal-summary.xml"),
    }

    def run(*args):
        name = table[args]
        if name is None:  # no glusterd installed: the command is missing
            raise collector.GlusterError("gluster %s: No such file or directory" % " ".join(args))
        return collector.parse_answer(args, 0, (FIXTURES / name).read_text(), "")
    return run


def samples(text: str) -> dict[str, float]:
    """{'name{labels}': value} of the exposition text."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


UUIDS = {"node1": "2658942d-8e25-4960-aa46-ce4585baea8f", "node2": "f2968db7-dad7-413e-a53f-2e0f10d9c963",
         "node3": "61189a1e-9ce8-4e85-8de6-0274e9ba77ef"}  # the lab's, as its answers name them


def collect(local_uuid=None, **files) -> tuple[str, dict]:
    metrics = collector.Metrics()
    collector.gluster_metrics(metrics, answers(**files), local_uuid)
    text = metrics.text()
    return text, samples(text)


def promtool_lint(text: str) -> None:
    exe = shutil.which("promtool")
    if exe is None:
        pytest.fail("promtool is missing: Debian's prometheus package (tools/install-system.sh installs it)")
    lint = subprocess.run([exe, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def brick(host: str) -> str:
    return "%s:/bricks/mon" % host


def test_healthy_pool():
    text, got = collect()
    promtool_lint(text)
    assert got["glusterfs_glusterd_up"] == 1
    assert got["glusterfs_peers"] == 2
    for peer in ("node2", "node3"):
        assert got['glusterfs_peer_connected{peer="%s",state="Peer in Cluster"}' % peer] == 1
    assert got['glusterfs_volume_started{volume="mon"}'] == 1
    assert got['glusterfs_volume_info{status="Started",type="Replicate",volume="mon"}'] == 1
    assert got['glusterfs_volume_bricks{volume="mon"}'] == 3
    assert got['glusterfs_volume_bricks_online{volume="mon"}'] == 3
    for host in ("node1", "node2", "node3"):
        labels = 'brick="%s",host="%s",volume="mon"' % (brick(host), host)
        assert got["glusterfs_brick_online{%s}" % labels] == 1
        assert got["glusterfs_brick_size_bytes{%s}" % labels] == 64 * 1024 * 1024  # the tmpfs brick
        assert 0 < got["glusterfs_brick_free_bytes{%s}" % labels] <= 64 * 1024 * 1024
        assert got['glusterfs_brick_heal_pending_entries{brick="%s",volume="mon"}' % brick(host)] == 0
    assert got['glusterfs_volume_heal_pending_entries{volume="mon"}'] == 0
    assert got['glusterfs_volume_split_brain_entries{volume="mon"}'] == 0
    # the created, never started volume: known, not started, its bricks offline, no heal query
    assert got['glusterfs_volume_started{volume="idle"}'] == 0
    assert got['glusterfs_volume_bricks_online{volume="idle"}'] == 0
    assert 'glusterfs_volume_heal_pending_entries{volume="idle"}' not in got
    assert got["glusterfs_volumes"] == 2


def test_brick_killed_with_writes_waiting_for_self_heal():
    text, got = collect(status="volume-status-detail-brick-killed.xml", heal="heal-summary-brick-killed.xml")
    promtool_lint(text)
    assert got['glusterfs_volume_bricks_online{volume="mon"}'] == 2
    assert got['glusterfs_brick_online{brick="%s",host="node3",volume="mon"}' % brick("node3")] == 0
    assert 'glusterfs_brick_free_bytes{brick="%s",host="node3",volume="mon"}' % brick("node3") not in got
    # the two live bricks hold the entries the dead one missed
    pending = got['glusterfs_volume_heal_pending_entries{volume="mon"}']
    assert pending > 0
    assert pending == sum(got['glusterfs_brick_heal_pending_entries{brick="%s",volume="mon"}' % brick(h)]
                          for h in ("node1", "node2", "node3"))


def test_glusterd_stopped_on_this_node_and_as_its_peers_see_it():
    # its own collector: glusterd does not answer, nothing else is claimed
    text, got = collect(peers="peer-status-glusterd-stopped.xml")
    promtool_lint(text)
    assert got == {"glusterfs_glusterd_up": 0}
    # a peer's view: node3 disconnected
    text, got = collect(peers="peer-status-node3-down.xml", status="volume-status-detail-node3-down.xml",
                        heal="heal-summary-node3-down.xml")
    promtool_lint(text)
    assert got["glusterfs_glusterd_up"] == 1
    assert got['glusterfs_peer_connected{peer="node3",state="Peer in Cluster"}'] == 0
    assert got['glusterfs_peer_connected{peer="node2",state="Peer in Cluster"}'] == 1


def test_one_server_of_the_volume_reads_its_self_heal_backlog():
    """heal info costs ~2 s a volume (measured: 52 volumes took 99 s a run when every node asked for every volume):
    exactly one of the volume's servers asks, and another one takes over when that server's brick is offline."""
    def heals(node, **files):
        return 'glusterfs_volume_heal_pending_entries{volume="mon"}' in collect(UUIDS[node], **files)[1]
    askers = [n for n in UUIDS if heals(n)]
    assert len(askers) == 1
    # node3's brick killed: node3 drops out; one of node1 and node2 asks (and it is the same answer on every node)
    killed = dict(status="volume-status-detail-brick-killed.xml", heal="heal-summary-brick-killed.xml")
    askers = [n for n in UUIDS if heals(n, **killed)]
    assert len(askers) == 1 and askers != ["node3"]
    # a node outside the volume never asks; without its uuid, a node asks for every volume (as before)
    assert 'glusterfs_volume_heal_pending_entries{volume="mon"}' not in collect("0000-not-a-server")[1]
    assert 'glusterfs_volume_heal_pending_entries{volume="mon"}' in collect(None)[1]


def test_glusterd_not_running_at_all():
    text, got = collect(peers=None)
    assert got == {"glusterfs_glusterd_up": 0}


def test_labels_escaped():
    metrics = collector.Metrics()
    metrics.add("glusterfs_volume_started", "h", 1, {"volume": 'a"b\\c\nd'})
    assert 'glusterfs_volume_started{volume="a\\"b\\\\c\\nd"} 1' in metrics.text()


def test_main_writes_the_file_atomically_readable_by_node_exporter(tmp_path):
    """main() with a stand-in for the gluster command (a script printing the captured answers: the real one needs
    glusterd; the lab test runs the real one)."""
    fake = tmp_path / "gluster"
    fake.write_text("#!/bin/sh\ncase \"$*\" in\n"
                    "*'peer status'*) cat %(f)s/peer-status.xml;;\n"
                    "*'volume info all'*) cat %(f)s/volume-info.xml;;\n"
                    "*'volume status all detail'*) cat %(f)s/volume-status-detail.xml;;\n"
                    "*'volume heal mon info summary'*) cat %(f)s/heal-summary.xml;;\n"
                    "*) exit 1;;\nesac\n" % {"f": FIXTURES})
    fake.chmod(0o755)
    out = tmp_path / "glusterfs.prom"
    old_umask = os.umask(0o077)
    try:
        info = tmp_path / "glusterd.info"
        info.write_text("UUID=%s\noperating-version=100000\n" % UUIDS["node1"])
        assert collector.main(["--output", str(out), "--gluster", str(fake), "--glusterd-info", str(info)]) == 0
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    text = out.read_text()
    promtool_lint(text)
    got = samples(text)
    assert got["glusterfs_glusterd_up"] == 1 and got['glusterfs_volume_bricks_online{volume="mon"}'] == 3
    assert got["glusterfs_collector_last_run_timestamp_seconds"] > 1.7e9
