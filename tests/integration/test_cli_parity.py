# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parity with the real CLI: on two fresh servers, `heketi-cli topology load` and the
glusterfs.heketi.heketi_topology module leave Heketi in the same state (ids excluded)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

TOPOLOGIES = Path(__file__).resolve().parent / "topologies"

# Three zones, two nodes each; storage hostnames differ from manage ones; a node with two manage
# hostnames; node tags; plain and object devices, device tags; cluster flags stated (block off).
THREE_ZONES = {"clusters": [{"file": True, "block": False, "nodes": [
    {"node": {"hostnames": {"manage": ["gluster-z%d-%d.example.com" % (z, n)] + (
        ["gluster-z%d-%d.mgmt.example.com" % (z, n)] if n == 2 else []),
        "storage": ["10.%d.0.%d" % (z, n)]},
        "zone": z, "tags": {"rack": "rack-%d" % z, "row": "a"}},
     "devices": ["/dev/sdb",
                 {"name": "/dev/sdc", "destroydata": False, "tags": {"disk": "ssd"}},
                 {"name": "/dev/disk/by-id/wwn-0x5000c500a0%d%d" % (z, n), "tags": {}}]}
    for z in (1, 2, 3) for n in (1, 2)
]}]}

# Two file clusters in one file: heketi-cli creates one Heketi cluster for each.
TWO_CLUSTERS = {"clusters": [
    {"nodes": [{"node": {"hostnames": {"manage": ["a%d" % i], "storage": ["10.1.0.%d" % i]}, "zone": i},
                "devices": ["/dev/vdb"]} for i in (1, 2, 3)]},
    {"nodes": [{"node": {"hostnames": {"manage": ["b%d" % i], "storage": ["10.2.0.%d" % i]}, "zone": 1},
                "devices": ["/dev/vdb", "/dev/vdc"]} for i in (1, 2)]},
]}


def seed_topology() -> dict:
    path = TOPOLOGIES / "seed-topology.json"
    if not path.exists():
        pytest.fail("the seed's topology.json fixture %s is missing" % path, pytrace=False)
    return json.loads(path.read_text())


def normalize(state: dict) -> list:
    """Heketi's state without ids: sorted clusters of sorted nodes of sorted devices."""
    clusters = []
    for cluster in state["clusters"]:
        nodes = []
        for node in cluster["nodes"]:
            devices = sorted(
                (d["name"], json.dumps(d.get("tags") or {}, sort_keys=True), d["state"], d["storage"]["total"],
                 len(d.get("bricks") or []))
                for d in node["devices"])
            nodes.append((node["zone"], tuple(node["hostnames"]["manage"]), tuple(node["hostnames"]["storage"]),
                          json.dumps(node.get("tags") or {}, sort_keys=True), node["state"], tuple(devices)))
        clusters.append((bool(cluster["file"]), bool(cluster["block"]), tuple(sorted(nodes)),
                         len(cluster.get("volumes") or [])))
    return sorted(clusters)


def counts(state: dict) -> tuple:
    nodes = [n for c in state["clusters"] for n in c["nodes"]]
    return len(state["clusters"]), len(nodes), sum(len(n["devices"]) for n in nodes)


@pytest.mark.parametrize("name", ["seed", "three_zones", "two_clusters"])
def test_module_leaves_heketi_as_heketi_cli_does(name, make_heketi_server, heketi_cli, run_module, tmp_path):
    topology = {"seed": seed_topology, "three_zones": lambda: THREE_ZONES, "two_clusters": lambda: TWO_CLUSTERS}[name]()
    path = tmp_path / ("%s.json" % name)
    path.write_text(json.dumps(topology, indent=1))

    by_cli = make_heketi_server(name="cli")
    proc = heketi_cli(by_cli, "topology", "load", "--json=%s" % path)
    assert "Unable" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr

    by_module = make_heketi_server(name="module")
    res = run_module("heketi_topology", dict(by_module.auth(), src=str(path)))
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True

    cli_state, module_state = by_cli.state(), by_module.state()
    expected_nodes = sum(len(c["nodes"]) for c in topology["clusters"])
    expected_devices = sum(len(n["devices"]) for c in topology["clusters"] for n in c["nodes"])
    assert counts(cli_state) == (len(topology["clusters"]), expected_nodes, expected_devices)
    assert counts(module_state) == counts(cli_state)
    assert normalize(module_state) == normalize(cli_state)
    if name == "three_zones":  # the comparison covers what the file sets, not just empty defaults
        nodes = [n for c in module_state["clusters"] for n in c["nodes"]]
        assert sorted({n["zone"] for n in nodes}) == [1, 2, 3]
        assert all(n["tags"]["rack"] == "rack-%d" % n["zone"] for n in nodes)
        assert [c["block"] for c in cli_state["clusters"]] == [False]
        assert sum(1 for n in nodes for d in n["devices"] if d.get("tags") == {"disk": "ssd"}) == 6

    # Loading the same file again changes nothing for either tool; the module sends no write at all.
    heketi_cli(by_cli, "topology", "load", "--json=%s" % path)
    mark = by_module.mark()
    again = run_module("heketi_topology", dict(by_module.auth(), src=str(path)))
    assert not again.get("failed"), again.get("msg")
    assert again["changed"] is False
    assert [r for r in by_module.requests_since(mark) if r[0] != "GET"] == []
    assert normalize(by_module.state()) == normalize(by_cli.state()) == normalize(cli_state)
