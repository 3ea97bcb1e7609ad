# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""heketi_device, heketi_node and heketi_info's operations/db check against the real Heketi server (mock executor).

The mock executor creates volumes, so bricks are real database entries and the room checks are exercised on
them. It cannot MIGRATE a brick: its `gluster volume info` answers with placeholder bricks ("host:/mockpath"),
so Heketi 10.3 fails every replace-brick with "Id not found"; test_removal_that_heketi_cannot_finish_loses_nothing
shows what the modules do then. Successful removals here are of devices and nodes without bricks.
"""
from __future__ import annotations

import pytest


def topo(nodes, devices=("/dev/sdf", "/dev/sdg"), zones=None):
    return {"clusters": [{"nodes": [
        {"node": {"hostnames": {"manage": ["node%d" % i], "storage": ["10.0.0.%d" % i]},
                  "zone": (zones or {}).get(i, 1)},
         "devices": list(devices)}
        for i in range(1, nodes + 1)]}]}


def writes_since(server, mark):
    return [r for r in server.requests_since(mark) if r[0] not in ("GET", "HEAD")]


def node_by_name(server, name):
    for cluster in server.state()["clusters"]:
        for node in cluster["nodes"]:
            if node["hostnames"]["manage"][0] == name:
                return node
    return None


def device(server, node, name):
    found = node_by_name(server, node)
    return next((d for d in (found or {}).get("devices", []) if d["name"] == name), None)


def volume(server, size=1, replica=3):
    durability = {"type": "replicate", "replicate": {"replica": replica}}
    return server.call("POST", "/volumes", {"size": size, "durability": durability})


def brick_devices(server):
    return {b["device"] for v in server.state()["volumes"] for b in v["bricks"]}


@pytest.fixture
def pool4(heketi_server):
    """4 nodes x 2 devices, no volume."""
    heketi_server.load(topo(4))
    return heketi_server


# ---------------------------------------------------------------- heketi_device transitions
def test_device_offline_online_check_real_idempotent(pool4, run_module):
    args = dict(pool4.auth(), node="node1", name="/dev/sdf", state="offline")
    mark = pool4.mark()
    planned = run_module("heketi_device", args, check=True, diff=True)
    assert not planned.get("failed"), planned
    assert planned["changed"] is True and planned["steps"] == ["offline"]
    assert planned["diff"] == {"before": {"state": "online", "bricks": 0, "name": "/dev/sdf",
                                          "node": node_by_name(pool4, "node1")["id"]},
                               "after": {"state": "offline", "bricks": 0, "name": "/dev/sdf",
                                         "node": node_by_name(pool4, "node1")["id"]}}
    assert writes_since(pool4, mark) == []
    assert device(pool4, "node1", "/dev/sdf")["state"] == "online"

    res = run_module("heketi_device", args)
    assert res["changed"] is True and res["steps"] == ["offline"] and res["device"]["state"] == "offline"
    assert device(pool4, "node1", "/dev/sdf")["state"] == "offline"
    mark = pool4.mark()
    again = run_module("heketi_device", args)
    assert again["changed"] is False and again["steps"] == [] and writes_since(pool4, mark) == []

    back = run_module("heketi_device", dict(args, state="online"))
    assert back["changed"] is True and back["steps"] == ["online"]
    assert device(pool4, "node1", "/dev/sdf")["state"] == "online"


def test_device_absent_walks_offline_removed_deleted(pool4, run_module):
    dev = device(pool4, "node2", "/dev/sdg")
    args = dict(pool4.auth(), id=dev["id"], state="absent")
    mark = pool4.mark()
    planned = run_module("heketi_device", args, check=True)
    assert planned["changed"] is True and planned["steps"] == ["offline", "removed", "deleted"]
    assert writes_since(pool4, mark) == [] and device(pool4, "node2", "/dev/sdg") is not None

    res = run_module("heketi_device", args)
    assert not res.get("failed"), res
    assert res["steps"] == ["offline", "removed", "deleted"] and res["device"] == {}
    assert device(pool4, "node2", "/dev/sdg") is None
    # the server saw the walk, in order: offline, failed, delete
    seen = [(m, p) for m, p, _s in writes_since(pool4, mark)]
    assert seen == [("POST", "/devices/%s/state" % dev["id"])] * 2 + [("DELETE", "/devices/" + dev["id"])]
    mark = pool4.mark()
    again = run_module("heketi_device", args)
    assert again["changed"] is False and writes_since(pool4, mark) == []


def test_device_removed_then_absent_and_force_forget(pool4, run_module):
    args = dict(pool4.auth(), node="10.0.0.3", name="/dev/sdf")  # storage hostname finds the node too
    res = run_module("heketi_device", dict(args, state="removed"))
    assert res["steps"] == ["offline", "removed"] and res["device"]["state"] == "removed"
    assert device(pool4, "node3", "/dev/sdf")["state"] == "failed"
    assert run_module("heketi_device", dict(args, state="removed"))["changed"] is False

    refused = run_module("heketi_device", dict(args, state="online"))
    assert refused.get("failed") and "refuses to move a removed device to online" in refused["msg"]
    assert device(pool4, "node3", "/dev/sdf")["state"] == "failed"

    gone = run_module("heketi_device", dict(args, state="absent", force_forget=True))
    assert gone["steps"] == ["deleted"] and device(pool4, "node3", "/dev/sdf") is None
    assert "Delete request set force-forget option" in pool4.log_text()


def test_device_added_when_missing(pool4, run_module):
    args = dict(pool4.auth(), node="node4", name="/dev/sdh", state="online")
    mark = pool4.mark()
    planned = run_module("heketi_device", args, check=True)
    assert planned["changed"] is True and planned["steps"] == ["added"] and writes_since(pool4, mark) == []
    res = run_module("heketi_device", args)
    assert res["changed"] is True and res["device"]["state"] == "online" and res["device"]["id"]
    assert device(pool4, "node4", "/dev/sdh")["id"] == res["device"]["id"]
    assert run_module("heketi_device", args)["changed"] is False


@pytest.mark.parametrize("args, words", [
    ({"node": "node1", "name": "sdf"}, "name: must be a device path"),
    ({"id": "xyz"}, "id: must be a Heketi device id"),
    ({"node": "nodeX", "name": "/dev/sdf", "state": "offline"}, "node: Heketi has no node 'nodeX'"),
    ({"node": "node1", "name": "/dev/sdz", "state": "offline"}, "node node1 has no device /dev/sdz"),
    ({"node": "node1", "name": "/dev/sdf", "state": "offline", "force_forget": True}, "force_forget: only applies"),
])
def test_device_bad_input_changes_nothing(pool4, run_module, args, words):
    mark = pool4.mark()
    res = run_module("heketi_device", dict(pool4.auth(), **args))
    assert res.get("failed") and words in res["msg"], res
    assert writes_since(pool4, mark) == []


# ---------------------------------------------------------------- refusals (room checks)
def test_single_zone_replica3_cluster_cannot_lose_a_device(heketi_server, run_module):
    """3 nodes x 1 device, one replica-3 volume: every device holds a brick no other node may take."""
    heketi_server.load(topo(3, devices=("/dev/sdf",)))
    vol = volume(heketi_server)
    for name in ("node1", "node2", "node3"):
        args = dict(heketi_server.auth(), node=name, name="/dev/sdf", state="absent")
        mark = heketi_server.mark()
        for check in (True, False):
            res = run_module("heketi_device", args, check=check)
            assert res.get("failed"), res
            assert "Heketi has no room for the bricks, nothing was changed" in res["msg"]
            assert "of volume %s (replica set of 3)" % vol["name"] in res["msg"]
            assert "outside the 2 node(s) holding the other bricks of its set" in res["msg"]
        assert writes_since(heketi_server, mark) == []
        assert device(heketi_server, name, "/dev/sdf")["state"] == "online"
    # Heketi itself cannot be shown refusing here: with the mock executor it fails earlier, on the brick set
    # lookup ("Id not found"), see test_removal_that_heketi_cannot_finish_loses_nothing.


def test_zone_checking_strict_refuses_a_same_zone_move(heketi_server, run_module):
    """4 nodes, zones 1,2,3,3: with strict zones a brick of zone 1 cannot go to zone 3 (already in the set)."""
    heketi_server.load(topo(3, devices=("/dev/sdf",), zones={1: 1, 2: 2, 3: 3}))
    volume(heketi_server)
    cluster = heketi_server.state()["clusters"][0]["id"]
    heketi_server.call("POST", "/nodes", {"zone": 3, "hostnames": {"manage": ["node4"], "storage": ["10.0.0.4"]},
                                          "cluster": cluster})
    heketi_server.call("POST", "/devices", {"name": "/dev/sdf", "node": node_by_name(heketi_server, "node4")["id"]})
    args = dict(heketi_server.auth(), node="node1", name="/dev/sdf", state="removed")
    ok = run_module("heketi_device", args, check=True)
    assert not ok.get("failed"), ok
    assert [m["to_node"] for m in ok["moves"]] == [node_by_name(heketi_server, "node4")["id"]]
    strict = run_module("heketi_device", dict(args, zone_checking="strict"), check=True)
    assert strict.get("failed") and "zone checking strict" in strict["msg"], strict


def test_node_whose_removal_breaks_the_replica_count(heketi_server, run_module):
    heketi_server.load(topo(3))
    volume(heketi_server)
    mark = heketi_server.mark()
    for state in ("removed", "absent"):
        res = run_module("heketi_node", dict(heketi_server.auth(), name="node2", state=state))
        assert res.get("failed") and "Heketi has no room for the bricks, nothing was changed" in res["msg"], res
    assert writes_since(heketi_server, mark) == []
    assert node_by_name(heketi_server, "node2")["state"] == "online"


def test_device_room_check_counts_free_space(heketi_server, run_module):
    """3 nodes x 2 devices: a brick may move to the other device of its own node, only if it fits there."""
    heketi_server.load(topo(3))
    volume(heketi_server, size=100)  # 100 GiB bricks on 500 GiB mock devices
    used = brick_devices(heketi_server)
    node1 = node_by_name(heketi_server, "node1")
    full = next(d for d in node1["devices"] if d["id"] in used)
    other = next(d for d in node1["devices"] if d["id"] != full["id"])
    plan = run_module("heketi_device", dict(heketi_server.auth(), id=full["id"], state="removed"), check=True)
    assert not plan.get("failed"), plan
    assert [(m["from_device"], m["to_device"]) for m in plan["moves"]] == [(full["id"], other["id"])]
    # fill the sibling device with bricks of other volumes until the brick no longer fits
    heketi_server.call("POST", "/devices/%s/state" % full["id"], {"state": "offline"})
    for _attempt in range(4):
        volume(heketi_server, size=100)
    assert device(heketi_server, "node1", other["name"])["storage"]["free"] < 100 * 1024 * 1024
    refused = run_module("heketi_device", dict(heketi_server.auth(), id=full["id"], state="removed"))
    assert refused.get("failed") and "KiB free" in refused["msg"], refused


def test_removal_that_heketi_cannot_finish_loses_nothing(heketi_server, run_module):
    """The room check passes, Heketi's mock executor cannot replace the brick: the failure names Heketi's words,
    the device stays offline with its brick, and a rerun tries again (same answer)."""
    heketi_server.load(topo(3))
    volume(heketi_server)
    dev_id = next(iter(brick_devices(heketi_server)))
    args = dict(heketi_server.auth(), id=dev_id, state="removed")
    for _attempt in range(2):
        res = run_module("heketi_device", args)
        assert res.get("failed") and res["status"] == 500 and "Id not found" in res["msg"], res
        dev = heketi_server.get("/devices/" + dev_id)
        assert dev["state"] == "offline" and len(dev["bricks"]) == 1
    assert heketi_server.get("/db/check")["totalinconsistencies"] == 0


# ---------------------------------------------------------------- heketi_node
def test_node_offline_online_check_real_idempotent(pool4, run_module):
    args = dict(pool4.auth(), name="node2", state="offline")
    mark = pool4.mark()
    planned = run_module("heketi_node", args, check=True, diff=True)
    assert planned["changed"] and planned["steps"] == ["offline"]
    assert planned["diff"]["before"]["state"] == "online" and planned["diff"]["after"]["state"] == "offline"
    assert writes_since(pool4, mark) == []
    assert run_module("heketi_node", args)["node"]["state"] == "offline"
    assert node_by_name(pool4, "node2")["state"] == "offline"
    mark = pool4.mark()
    assert run_module("heketi_node", args)["changed"] is False and writes_since(pool4, mark) == []
    assert run_module("heketi_node", dict(args, state="online"))["steps"] == ["online"]
    assert node_by_name(pool4, "node2")["state"] == "online"


def test_node_absent_devices_first_then_node(heketi_server, run_module):
    """A 4th node holds no brick of the replica-3 volume: it is removed, its devices deleted, then the node."""
    heketi_server.load(topo(3))
    volume(heketi_server)
    cluster = heketi_server.state()["clusters"][0]["id"]
    hostnames = {"manage": ["node4"], "storage": ["10.0.0.4"]}
    node4 = heketi_server.call("POST", "/nodes", {"zone": 1, "hostnames": hostnames, "cluster": cluster})
    for name in ("/dev/sdf", "/dev/sdg"):
        heketi_server.call("POST", "/devices", {"name": name, "node": node4["id"]})
    before = heketi_server.state()
    args = dict(heketi_server.auth(), name="node4", state="absent")
    mark = heketi_server.mark()
    planned = run_module("heketi_node", args, check=True)
    assert planned["steps"] == ["offline", "removed", "deleted device /dev/sdf", "deleted device /dev/sdg",
                                "deleted"]
    assert writes_since(heketi_server, mark) == [] and heketi_server.state() == before

    res = run_module("heketi_node", args)
    assert not res.get("failed"), res
    assert res["steps"] == planned["steps"] and res["node"] == {}
    assert node_by_name(heketi_server, "node4") is None
    paths = [p for _m, p, _s in writes_since(heketi_server, mark)]
    assert paths[:2] == ["/nodes/%s/state" % node4["id"]] * 2 and paths[-1] == "/nodes/" + node4["id"]
    assert len([p for p in paths if p.startswith("/devices/")]) == 2
    # the volume keeps its bricks (Heketi drops the deleted node from the volume's mount hosts)
    assert [v["bricks"] for v in heketi_server.state()["volumes"]] == [v["bricks"] for v in before["volumes"]]
    assert "10.0.0.4" not in heketi_server.state()["volumes"][0]["mount"]["glusterfs"]["hosts"]
    mark = heketi_server.mark()
    assert run_module("heketi_node", args)["changed"] is False and writes_since(heketi_server, mark) == []


def test_node_removed_cannot_come_back(pool4, run_module):
    args = dict(pool4.auth(), name="node3")
    assert run_module("heketi_node", dict(args, state="removed"))["steps"] == ["offline", "removed"]
    node = node_by_name(pool4, "node3")
    assert node["state"] == "failed" and {d["state"] for d in node["devices"]} == {"failed"}
    res = run_module("heketi_node", dict(args, state="online"))
    assert res.get("failed") and "cannot move a removed node to online" in res["msg"]
    assert run_module("heketi_node", dict(args, state="absent"))["steps"][-1] == "deleted"


# ---------------------------------------------------------------- heketi_info operations and db check
def test_info_operations_admin_state_db_check(pool4, run_module):
    res = run_module("heketi_info", pool4.auth())
    assert res["operations"] == pool4.get("/operations")
    assert set(res["operations"]) == {"total", "in_flight", "stale", "failed", "new"}
    assert res["admin_state"] == "normal"
    assert res["db_check"] == pool4.get("/db/check")
    assert res["db_check"]["totalinconsistencies"] == 0 and res["db_check"]["nodes"]["total"] == 4
    mark = pool4.mark()
    lean = run_module("heketi_info", dict(pool4.auth(), include_operations=False, include_db_check=False))
    assert "operations" not in lean and "db_check" not in lean
    paths = {p for _m, p, _s in pool4.requests_since(mark)}
    assert not paths & {"/operations", "/admin", "/db/check"}
