# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role's model (filter topology_model) and the module's server lock."""
from __future__ import annotations

import json
import threading

import pytest

from ansible_collections.glusterfs.heketi.plugins.filter.topology_model import topology_model
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi import HeketiError
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology.execute import ServerLock, lock_path

DEFAULTS = {"devices": ["/dev/sdf"], "zone": 1, "cluster": "default"}


def model(hostvars, src="", src_text="", wipe=False, check_devices=True):
    return topology_model(hostvars, list(hostvars), "glusterfs_servers", src=src, src_text=src_text, defaults=DEFAULTS,
                          wipe=wipe, check_devices=check_devices)


def test_inventory_builds_the_topology_with_normalised_devices_and_int_zones():
    m = model({"node1": {"ansible_host": "192.0.2.11", "topology_devices": ["/dev//sdf", {"name": "/dev/sdg/", "destroydata": True}],
                         "topology_zone": "2"},
               "node2": {"topology_manage": ["node2.example.com"], "topology_cluster": "b"}})
    assert m["errors"] == []
    c0, c1 = m["topology"]["clusters"]
    assert c0["nodes"][0] == {"node": {"hostnames": {"manage": ["192.0.2.11"], "storage": ["192.0.2.11"]}, "zone": 2},
                              "devices": ["/dev/sdf", "/dev/sdg"]}  # destroydata dropped: the switch is off
    assert m["gated"] == ["clusters[0].nodes[0].devices[1]"]
    assert c1["nodes"][0]["node"]["hostnames"]["manage"] == ["node2.example.com"]
    assert [(n["host"], n["inventory"]) for n in m["nodes"]] == [("node1", True), ("node2", True)]


def test_limit_leaves_other_hosts_unchecked_and_unloaded():
    """--limit node3,heketi (the documented scale-out form): only node3 is device-checked and loaded; the
    whole topology is still written for heketi-cli users."""
    hv = {"node1": {"topology_zone": 1}, "node2": {"topology_zone": 2}, "node3": {"topology_zone": 3}}
    m = topology_model(hv, list(hv), "glusterfs_servers", defaults=DEFAULTS, targets=["node3", "heketi1"])
    assert m["errors"] == []
    assert [n["host"] for n in m["nodes"]] == ["node3"]
    assert m["untargeted"] == ["node1", "node2"]
    assert [n["node"]["hostnames"]["manage"] for c in m["load"]["clusters"] for n in c["nodes"]] == [["node3"]]
    assert len(m["topology"]["clusters"][0]["nodes"]) == 3
    everything = topology_model(hv, list(hv), "glusterfs_servers", defaults=DEFAULTS)
    assert everything["untargeted"] == [] and everything["load"] == everything["topology"]


def test_inventory_messages_name_host_and_variable():
    m = model({"node1": {"topology_devices": ["/dev/sdf", "/dev/./sdf"]},
               "node2": {"topology_storage": "node1", "topology_tags": {"rack id": "x"}},
               "node3": {"topology_zone": True, "topology_devices": []},
               "node4": {"topology_manage": "node 4"}})
    assert m["topology"] is None
    assert sorted(m["errors"]) == sorted([
        "node1: topology_devices[1] device /dev/./sdf is /dev/sdf, listed twice on this node (also "
        "topology_devices[0] as /dev/sdf)",
        "node2: topology_storage address node1 is also used by node1 (each node needs its own storage address; "
        "check topology_storage / ansible_host)",
        'node2: topology_tags.rack id invalid tag name: 1 to 32 characters of letters, digits, "_", "." and "-"',
        "node3: topology_devices is empty (set it, or topology_default_devices)",
        "node3: topology_zone must be an integer >= 1, got True",
        "node4: topology_manage 'node 4' is not a valid hostname or IP address",
        "node4: topology_storage 'node 4' is not a valid hostname or IP address",  # the storage address defaults to it
    ])


def test_no_src_and_no_hosts_is_one_clear_error():
    assert topology_model({}, [], "glusterfs_servers")["errors"] == [
        "topology_src is empty and the inventory group glusterfs_servers has no hosts: set one of them"]


def test_src_errors_name_the_file_and_the_json_path():
    text = json.dumps({"clusters": [{"nodes": [{"node": {"hostnames": {"manage": ["n1\n"], "storage": ["n1"]}, "zone": 1}}]}]})
    m = model({}, src="/x/topology.json", src_text=text)
    assert m["errors"] == ["topology_src=/x/topology.json: clusters[0].nodes[0].node.hostnames.manage[0]: 'n1\\n' is "
                           "not a valid hostname or IP address"]


def test_src_nodes_are_matched_by_any_inventory_name_without_case():
    text = json.dumps({"clusters": [{"nodes": [
        {"node": {"hostnames": {"manage": ["NODE1"], "storage": ["192.0.2.11"]}, "zone": 1}, "devices": ["/dev/sdf"]},
        {"node": {"hostnames": {"manage": ["192.0.2.12"], "storage": ["192.0.2.12"]}, "zone": 1}, "devices": ["/dev/sdf"]},
        {"node": {"hostnames": {"manage": ["n3.example.com"], "storage": ["192.0.2.13"]}, "zone": 1}, "devices": ["/dev/sdf"]}]}]})
    hv = {"node1": {}, "node2": {"ansible_host": "192.0.2.12"}, "node3": {"topology_manage": "n3.example.com"}}
    m = model(hv, src="t.json", src_text=text)
    assert m["errors"] == []
    assert [n["host"] for n in m["nodes"]] == ["node1", "node2", "node3"]


# --------------------------------------------------------------------------- the server lock
def test_the_lock_serializes_runs_on_one_host(tmp_path):
    assert lock_path(str(tmp_path)) == str(tmp_path / "glusterfs-heketi-topology.lock")
    assert lock_path() in ("/run/lock/glusterfs-heketi-topology.lock",
                           __import__("os").path.join(__import__("tempfile").gettempdir(), "glusterfs-heketi-topology.lock"))
    order = []
    with ServerLock(timeout=5, directory=str(tmp_path)):
        def second():
            with ServerLock(timeout=5, directory=str(tmp_path), poll=0.01):
                order.append("second")
        t = threading.Thread(target=second)
        t.start()
        t.join(0.3)
        order.append("first done")
    t.join(5)
    assert order == ["first done", "second"]
    with ServerLock(timeout=5, directory=str(tmp_path)):
        with pytest.raises(HeketiError) as err:
            with ServerLock(timeout=0.2, directory=str(tmp_path), poll=0.05):
                pass
    assert "Another topology load is still running on this host" in err.value.message
