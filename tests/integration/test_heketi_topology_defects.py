# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Defects of issue 14 in heketi_topology, each against the REAL Heketi server (mock executor) through
real Ansible runs: aliases of one device, hostname case, input Heketi refuses only after writes began,
concurrent loads, a server lost in the middle of a load."""
from __future__ import annotations

import json
import threading
from collections import Counter

from test_heketi_topology import MODULE, args, big_topology, device_names, start_load_until_devices_posted


def one_node(devices, manage="n1.test", storage="10.77.0.1"):
    return {"clusters": [{"nodes": [{"node": {"hostnames": {"manage": [manage], "storage": [storage]}, "zone": 1},
                                     "devices": devices}]}]}


# ---------------------------------------------------------------- 3: one device, several spellings
def test_aliases_of_one_device_are_refused_naming_the_alias(heketi_server, run_module):
    topo = one_node(["/dev/sdb", "/dev//sdb", "/dev/./sdb", "/dev/sdb/"])
    res = run_module(MODULE, args(heketi_server, topology=topo))
    assert res.get("failed") is True
    assert len(res["errors"]) == 3, res["errors"]
    assert ("clusters[0].nodes[0].devices[1]: device /dev//sdb is /dev/sdb, listed twice on this node "
            "(also clusters[0].nodes[0].devices[0] as /dev/sdb)") in res["errors"]
    assert any(e.startswith("clusters[0].nodes[0].devices[3]: device /dev/sdb/ is /dev/sdb") for e in res["errors"])
    assert heketi_server.requests() == []


def test_a_device_is_loaded_under_its_normal_name_and_matched_by_any_spelling(heketi_server, run_module):
    assert run_module(MODULE, args(heketi_server, topology=one_node(["/dev/./sdb/"])))["changed"] is True
    assert list(device_names(heketi_server)) == [(("n1.test",), "/dev/sdb")]
    again = run_module(MODULE, args(heketi_server, topology=one_node(["/dev//sdb"])))
    assert again.rc == 0 and again["changed"] is False, again.get("msg")


# ---------------------------------------------------------------------------- 7: hostname case
def test_hostnames_differing_in_case_are_no_drift(heketi_server, run_module):
    run_module(MODULE, args(heketi_server, topology=one_node(["/dev/sdb"], manage="n1.test", storage="n1-storage.test")))
    res = run_module(MODULE, args(heketi_server, topology=one_node(["/dev/sdb"], manage="N1.Test",
                                                                   storage="N1-Storage.test")))
    assert res.rc == 0 and res["changed"] is False
    assert res["drift"] == [] and not res.get("warnings"), (res["drift"], res.get("warnings"))


# ------------------------------------------------------- 8: refused before any write, not after
def test_trailing_newlines_and_scoped_ipv6_are_refused_before_any_request(heketi_server, run_module):
    topo = {"clusters": [{"nodes": [
        {"node": {"hostnames": {"manage": ["n1.test\n"], "storage": ["10.77.0.1"]}, "zone": 1}, "devices": ["/dev/sdb"]},
        {"node": {"hostnames": {"manage": ["n2.test"], "storage": ["fe80::1%eth0"]}, "zone": 1}, "devices": ["/dev/sdb\n"]},
    ]}]}
    res = run_module(MODULE, args(heketi_server, topology=topo))
    assert res.get("failed") is True
    paths = sorted(e.split(":")[0] for e in res["errors"])
    assert paths == ["clusters[0].nodes[0].node.hostnames.manage[0]", "clusters[0].nodes[1].devices[0]",
                     "clusters[0].nodes[1].node.hostnames.storage[0]"], res["errors"]
    assert any("scoped IPv6" in e for e in res["errors"])
    assert heketi_server.requests() == []


def test_duplicate_keys_in_src_are_refused(heketi_server, run_module, tmp_path):
    src = tmp_path / "topology.json"
    src.write_text('{"clusters": [{"nodes": [{"node": {"hostnames": {"manage": ["n1.test"], "storage": ["10.77.0.1"]},'
                   ' "zone": 1}, "devices": [{"name": "/dev/sdb", "destroydata": false, "destroydata": true}]}]}]}')
    res = run_module(MODULE, args(heketi_server, src=str(src)))
    assert res.get("failed") is True
    assert "the key 'destroydata' appears twice in one object" in res["msg"]
    assert heketi_server.requests() == []


# ---------------------------------------------------------------------- 5: two loads at once
def test_two_concurrent_loads_add_every_device_once(heketi_server, run_module):
    topo = big_topology(8, 4)
    results = []
    threads = [threading.Thread(target=lambda: results.append(run_module(MODULE, args(heketi_server, topology=topo))))
               for dummy in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert [r.rc for r in results] == [0, 0], [r.get("msg") for r in results]
    counts = device_names(heketi_server)
    assert len(counts) == 32 and set(counts.values()) == {1}, [k for k, n in counts.items() if n > 1]
    assert len(heketi_server.state()["clusters"]) == 1
    # one of them did the load, the other found it done
    assert sorted(r["changed"] for r in results) == [False, True]


def test_duplicates_heketi_already_holds_are_reported_with_their_ids(heketi_server, run_module):
    cluster = heketi_server.call("POST", "/clusters", {"file": True, "block": True})
    node = heketi_server.call("POST", "/nodes", {"zone": 1, "cluster": cluster["id"],
                                                 "hostnames": {"manage": ["n1.test"], "storage": ["10.77.0.1"]}})
    for dummy in range(2):  # what two concurrent runs on two hosts leave behind
        heketi_server.call("POST", "/devices", {"name": "/dev/sdb", "node": node["id"], "destroydata": False})
    ids = sorted(d["id"] for d in heketi_server.get("/nodes/" + node["id"])["devices"])
    mark = heketi_server.mark()
    res = run_module(MODULE, args(heketi_server, topology=one_node(["/dev/sdb"])))
    assert res.rc == 0 and res["changed"] is False
    dups = [d for d in res["drift"] if d["field"] == "devices"]
    assert len(dups) == 1 and sorted(dups[0]["ids"]) == ids and dups[0]["node"] == node["id"]
    assert any(ids[0] in w and ids[1] in w for w in res.get("warnings", []))
    assert [r for r in heketi_server.requests_since(mark) if r[0] != "GET"] == []


# ----------------------------------------------------------- 6: the server lost in a load
def test_a_server_lost_mid_load_stops_the_writes_and_reports_unknowns(heketi_server, run_module):
    topo = big_topology(20, 5)
    worker, holder = start_load_until_devices_posted(
        heketi_server, run_module, args(heketi_server, topology=topo, timeout=30, max_inflight_operations=4), 10,
        poll=0.005)
    heketi_server.kill()
    worker.join(300)
    res = holder["res"]
    assert res.get("failed") is True, "the load finished before the server was killed"
    assert len(res["msg"]) < 1500, len(res["msg"])
    assert res["msg"].startswith("Lost the Heketi server at %s during the load; no further write was sent" % heketi_server.url)
    statuses = Counter({k: v for k, v in res["counts"].items() if v})
    assert set(statuses) <= {"done", "unknown", "skipped", "failed"}, statuses
    assert statuses["skipped"] > 0
    # only what was in flight (or the one write that found the server gone) failed; nothing else was sent
    assert len(res["failures"]) <= 4 + 1, res["failures"]
    for word in ("%d done" % statuses["done"], "%d unknown" % statuses["unknown"], "%d not sent" % statuses["skipped"]):
        assert word in res["msg"], res["msg"]
    unknown = [a["path"] for a in res["actions"] if a["status"] == "unknown"]
    assert all(p in [a["path"] for a in res["added"]] for p in unknown)
    assert len(json.dumps(res.get("failures"))) < 8000
