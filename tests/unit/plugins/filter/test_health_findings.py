# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.health_findings: the rules of check.yml on reports shaped as the modules return them (the lab
run, tests/integration/test_day2_ops_lab.py, produces them from the real Heketi and glusterd)."""
from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.glusterfs.heketi.plugins.filter.health_findings import health_findings

HOSTS = {"manage": ["node1"], "storage": ["node1"]}
HEKETI = {
    "clusters": [{"id": "c1"}], "nodes": [{"id": "n1", "hostnames": HOSTS, "state": "online"}],
    "devices": [{"id": "d1", "name": "/dev/sdf", "cluster": "c1", "node_hostnames": HOSTS, "state": "online",
                 "storage": {"total": 1048576 * 100, "free": 1048576 * 50, "used": 0}, "bricks": 1}],
    "volumes": [], "operations": {"in_flight": 0, "stale": 0, "failed": 0}, "admin_state": "normal",
    "db_check": {"totalinconsistencies": 0}, "pending_operations": [],
    "examine": {"gluster_volumes": {"c1": ["vol_a"]}, "heketi_volumes": {"c1": ["vol_a"]}, "unreachable_clusters": []},
}
BRICK = {"name": "node1:/b", "host": "node1", "online": True}
GLUSTER = {"node1": {"version": "10.3", "op_version": {"current": 100000}, "peers": [
    {"hostname": "node2", "connected": True}], "volumes": [
    {"name": "vol_a", "status": "Started", "type": "Replicate", "bricks": [BRICK], "heal": {"pending": 0, "split_brain": 0}}]},
    "node2": {"version": "10.3", "peers": [{"hostname": "node1", "connected": True}]}}


def findings(heketi=None, gluster=None, **kw):
    return [f["what"] for f in health_findings(heketi or HEKETI, gluster or GLUSTER, **kw)["findings"]]


def test_a_clean_pool_has_no_finding_and_a_table():
    out = health_findings(HEKETI, GLUSTER)
    assert out["findings"] == []
    assert any("1/1 bricks online" in line for line in out["table"])


@pytest.mark.parametrize("change, expected", [
    (lambda h, g: h.update(failed=True, msg="timed out"), "Heketi does not answer: timed out"),
    (lambda h, g: h.pop("clusters"), "Heketi does not answer"),  # failed_when: false clears failed
    (lambda h, g: h.update(admin_state="read-only"), "Heketi is in read-only mode"),
    (lambda h, g: h["db_check"].update(totalinconsistencies=2), "Heketi database: 2 inconsistencies"),
    (lambda h, g: h["pending_operations"].append({"id": "o1", "kind": "create-volume", "status": "stale", "age": 7200}),
     "Heketi operation o1 (create-volume) is stale, recorded 2.0 h ago"),
    (lambda h, g: h["pending_operations"].append({"id": "o2", "kind": "delete-volume", "status": "new", "age": 4000}),
     "Heketi operation o2 (delete-volume) has run for 66 min"),
    (lambda h, g: h["examine"]["gluster_volumes"].update(c1=[]),
     "volume vol_a is in Heketi's database (cluster c1) but not in GlusterFS"),
    (lambda h, g: h["examine"]["heketi_volumes"].update(c1=[]),
     "volume vol_a is in GlusterFS (cluster c1) but not in Heketi's database"),
    (lambda h, g: h["devices"][0]["storage"].update(free=1048576 * 5), "device node1 /dev/sdf: 5% free"),
    (lambda h, g: h["nodes"][0].update(state="offline"), "Heketi node node1 is offline"),
    (lambda h, g: g["node2"].pop("peers"), "node2: glusterd does not answer"),
    (lambda h, g: g["node2"]["peers"][0].update(connected=False), "peer node1 is not connected (seen from node2)"),
    (lambda h, g: g["node1"]["volumes"][0]["bricks"][0].update(online=False), "brick node1:/b of volume vol_a is offline"),
    (lambda h, g: g["node1"]["volumes"][0]["heal"].update(pending=7), "volume vol_a: 7 entries wait for self-heal"),
    (lambda h, g: g["node1"]["volumes"][0]["heal"].update(split_brain=1), "volume vol_a: 1 entries in split-brain"),
])
def test_each_rule_finds_its_case(change, expected):
    heketi, gluster = copy.deepcopy(HEKETI), copy.deepcopy(GLUSTER)
    change(heketi, gluster)
    found = findings(heketi, gluster)
    assert any(f.startswith(expected) for f in found), found


def test_a_stopped_volume_has_no_offline_brick_finding():
    gluster = copy.deepcopy(GLUSTER)
    gluster["node1"]["volumes"][0].update(status="Stopped")
    gluster["node1"]["volumes"][0]["bricks"][0]["online"] = False
    assert findings(gluster=gluster) == []


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="expects the heketi_info result"):
        health_findings([], {})
