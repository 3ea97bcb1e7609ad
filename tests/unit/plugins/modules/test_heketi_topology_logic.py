# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of heketi_topology's validation and planning (no server needed).

The topologies that Heketi holds ("current") are written as heketi-cli's topology info JSON.
"""
from __future__ import annotations

import copy
import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi import HeketiError
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology.execute import execute
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology.plan import make_plan, predict, summarize
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology.schema import (
    TopologyError,
    valid_host,
    validate_topology,
)

REPO = Path(__file__).resolve().parents[4]
TOPOLOGIES = REPO / "tests" / "integration" / "topologies"
MALFORMED = TOPOLOGIES / "malformed"
EXPECTED = json.loads((MALFORMED / "expected.json").read_text())


def seed():
    return json.loads((TOPOLOGIES / "seed-topology.json").read_text())


# ------------------------------------------------------------------------------ validation
def test_seed_topology_loads_as_is():
    spec = validate_topology(seed())
    assert len(spec) == 1
    nodes = spec[0]["nodes"]
    assert [n["manage"] for n in nodes] == [["192.168.1.113"], ["192.168.1.48"], ["192.168.1.49"], ["192.168.1.50"]]
    assert all(n["zone"] == 1 for n in nodes)
    assert all([d["name"] for d in n["devices"]] == ["/dev/sdf", "/dev/sdg"] for n in nodes)
    assert spec[0]["file"] is None and spec[0]["block"] is None


def test_at_least_fifteen_malformed_fixtures():
    assert len(EXPECTED) >= 15
    assert sorted(EXPECTED) == sorted(p.name for p in MALFORMED.glob("*.json") if p.name != "expected.json")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_fixture_is_rejected_with_its_path(name):
    data = json.loads((MALFORMED / name).read_text())
    with pytest.raises(TopologyError) as err:
        validate_topology(data)
    expected = EXPECTED[name]
    assert any(e.startswith(expected) for e in err.value.errors), err.value.errors
    assert expected in err.value.message


def _with(mutate):
    t = seed()
    mutate(t)
    return t


def N(t, j):
    return t["clusters"][0]["nodes"][j]


INLINE_CASES = [
    ("root not a mapping", [], "topology: must be a mapping"),
    ("clusters not a list", {"clusters": {"nodes": []}}, "clusters: must be a list, got a mapping"),
    ("clusters empty", {"clusters": []}, "clusters: must list at least one cluster"),
    ("cluster not a mapping", {"clusters": ["x"]}, "clusters[0]: must be a mapping"),
    ("unknown cluster key", _with(lambda t: t["clusters"][0].__setitem__("id", "abc")), "clusters[0].id: unknown key"),
    ("zone negative", _with(lambda t: N(t, 3)["node"].__setitem__("zone", -2)),
     "clusters[0].nodes[3].node.zone: must be an integer >= 1, got -2"),
    ("zone boolean", _with(lambda t: N(t, 0)["node"].__setitem__("zone", True)),
     "clusters[0].nodes[0].node.zone: must be an integer >= 1, got True"),
    ("zone float", _with(lambda t: N(t, 0)["node"].__setitem__("zone", 1.5)),
     "clusters[0].nodes[0].node.zone: must be an integer >= 1, got 1.5"),
    ("hostnames missing", _with(lambda t: N(t, 1)["node"].pop("hostnames")),
     "clusters[0].nodes[1].node.hostnames: is required"),
    ("unknown hostnames key", _with(lambda t: N(t, 1)["node"]["hostnames"].__setitem__("mgmt", ["a"])),
     "clusters[0].nodes[1].node.hostnames.mgmt: unknown key"),
    ("hostname not a string", _with(lambda t: N(t, 1)["node"]["hostnames"].__setitem__("manage", [7])),
     "clusters[0].nodes[1].node.hostnames.manage[0]: must be a hostname or IP address string, got 7"),
    ("hostname twice in a node", _with(lambda t: N(t, 1)["node"]["hostnames"].__setitem__("manage", ["a", "a"])),
     "clusters[0].nodes[1].node.hostnames.manage[1]: 'a' is listed twice"),
    ("manage duplicate across clusters",
     _with(lambda t: t["clusters"].append({"nodes": [copy.deepcopy(N(t, 0))]})),
     "clusters[1].nodes[0].node.hostnames.manage[0]: manage hostname '192.168.1.113' is already used by clusters[0].nodes[0]"),
    ("unknown device key", _with(lambda t: N(t, 0).__setitem__("devices", [{"name": "/dev/sdf", "size": 5}])),
     "clusters[0].nodes[0].devices[0].size: unknown key"),
    ("device number", _with(lambda t: N(t, 0).__setitem__("devices", [5])),
     "clusters[0].nodes[0].devices[0]: must be a device path string or a mapping"),
    ("device name not a string", _with(lambda t: N(t, 0).__setitem__("devices", [{"name": ["/dev/sdf"]}])),
     "clusters[0].nodes[0].devices[0].name: must be a device path string, got a list"),
    ("device twice, object and string",
     _with(lambda t: N(t, 2).__setitem__("devices", ["/dev/sdf", {"name": "/dev/sdf", "tags": {"a": "b"}}])),
     "clusters[0].nodes[2].devices[1].name: device /dev/sdf is listed twice on this node"),
    ("too many tags", _with(lambda t: N(t, 0)["node"].__setitem__("tags", dict(("t%d" % i, "v") for i in range(33)))),
     "clusters[0].nodes[0].node.tags: has 33 tags, Heketi supports up to 32"),
    ("tag value too long", _with(lambda t: N(t, 0).__setitem__("devices", [{"name": "/dev/sdf", "tags": {"k": "x" * 65}}])),
     "clusters[0].nodes[0].devices[0].tags.k: tag values may be up to 64 characters"),
    ("tags not a mapping", _with(lambda t: N(t, 0)["node"].__setitem__("tags", ["a"])),
     "clusters[0].nodes[0].node.tags: must be a mapping"),
    ("node entry unknown key", _with(lambda t: N(t, 0).__setitem__("device", ["/dev/sdf"])),
     "clusters[0].nodes[0].device: unknown key"),
    ("block flag number", _with(lambda t: t["clusters"][0].__setitem__("block", 1)),
     "clusters[0].block: must be a boolean (true or false), got 1"),
]


@pytest.mark.parametrize("data,expected", [c[1:] for c in INLINE_CASES], ids=[c[0] for c in INLINE_CASES])
def test_inline_malformed_is_rejected_with_its_path(data, expected):
    with pytest.raises(TopologyError) as err:
        validate_topology(data)
    assert any(e.startswith(expected) for e in err.value.errors), err.value.errors


def test_every_problem_is_reported_at_once():
    t = seed()
    N(t, 0)["node"]["zone"] = 0
    N(t, 1)["devices"] = ["sdf"]
    N(t, 3)["node"]["hostnames"]["storage"] = []
    with pytest.raises(TopologyError) as err:
        validate_topology(t)
    paths = [e.split(":")[0] for e in err.value.errors]
    assert paths == ["clusters[0].nodes[0].node.zone", "clusters[0].nodes[1].devices[0]",
                     "clusters[0].nodes[3].node.hostnames.storage"]
    assert "(3 problems)" in err.value.message


def test_device_objects_tags_flags_accepted():
    t = seed()
    t["clusters"][0]["file"] = True
    t["clusters"][0]["block"] = False
    N(t, 0)["node"]["tags"] = {"rack": "r1", "arbiter": ""}
    N(t, 0)["devices"] = ["/dev/sdf", {"name": "/dev/disk/by-id/wwn-0x5000:1", "destroydata": True, "tags": {"disk": "ssd"}}]
    N(t, 1).pop("devices")
    spec = validate_topology(t)
    assert (spec[0]["file"], spec[0]["block"]) == (True, False)
    n0 = spec[0]["nodes"][0]
    assert n0["tags"] == {"rack": "r1", "arbiter": ""}
    assert n0["devices"][1] == {"path": "clusters[0].nodes[0].devices[1]", "name": "/dev/disk/by-id/wwn-0x5000:1",
                                "destroydata": True, "tags": {"disk": "ssd"}}
    assert spec[0]["nodes"][1]["devices"] == []


@pytest.mark.parametrize("host,ok", [
    ("192.168.1.113", True), ("fe80::1", True), ("node1", True), ("node1.example.com", True),
    ("k8s-node01", True), ("", False), ("bad host", False), ("-x", False), ("a..b", False),
])
def test_hostnames_follow_heketis_rule(host, ok):
    assert valid_host(host) is ok


# --------------------------------------------------------------------------------- planning
def hnode(nid, manage, storage, zone=1, devices=(), tags=None, cluster="c1"):
    node = {"id": nid, "cluster": cluster, "zone": zone, "hostnames": {"manage": list(manage), "storage": list(storage)},
            "state": "online", "devices": []}
    if tags:
        node["tags"] = tags
    for i, d in enumerate(devices):
        dev = {"id": "%s-d%d" % (nid, i), "state": "online", "bricks": []}
        dev.update(d if isinstance(d, dict) else {"name": d})
        node["devices"].append(dev)
    return node


def hcluster(cid, nodes, file=True, block=True):
    return {"id": cid, "file": file, "block": block, "nodes": nodes, "volumes": []}


def small(nodes=2, devices=("/dev/sdb",), **cluster):
    c = {"nodes": [{"node": {"hostnames": {"manage": ["n%d" % i], "storage": ["10.0.0.%d" % i]}, "zone": 1},
                    "devices": list(devices)} for i in range(1, nodes + 1)]}
    c.update(cluster)
    return {"clusters": [c]}


def kinds(plan):
    return [(a["action"], a["path"]) for a in plan["actions"]]


def test_plan_on_an_empty_server_creates_cluster_nodes_devices():
    plan = make_plan(validate_topology(small()), {"clusters": []})
    assert kinds(plan) == [("create_cluster", "clusters[0]"),
                           ("add_node", "clusters[0].nodes[0]"), ("add_device", "clusters[0].nodes[0].devices[0]"),
                           ("add_node", "clusters[0].nodes[1]"), ("add_device", "clusters[0].nodes[1].devices[0]")]
    assert plan["actions"][0]["file"] is True and plan["actions"][0]["block"] is True
    assert all(a["status"] == "planned" for a in plan["actions"])
    assert plan["drift"] == []


def test_plan_new_cluster_uses_explicit_flags():
    plan = make_plan(validate_topology(small(file=True, block=False)), {"clusters": []})
    assert (plan["actions"][0]["file"], plan["actions"][0]["block"]) == (True, False)


def test_plan_is_empty_when_everything_is_there():
    current = {"clusters": [hcluster("c1", [hnode("a", ["n1"], ["10.0.0.1"], devices=["/dev/sdb"]),
                                            hnode("b", ["n2"], ["10.0.0.2"], devices=["/dev/sdb"])])]}
    plan = make_plan(validate_topology(small()), current)
    assert plan["actions"] == [] and plan["drift"] == []


def test_node_matched_by_any_manage_hostname_and_device_by_recorded_path():
    t = small(nodes=1, devices=("/dev/disk/by-id/wwn-1",))
    t["clusters"][0]["nodes"][0]["node"]["hostnames"]["manage"] = ["n1-alias", "n1"]
    current = {"clusters": [hcluster("c1", [hnode("a", ["n1"], ["10.0.0.1"],
                                                  devices=[{"name": "/dev/sdb", "paths": ["/dev/disk/by-id/wwn-1"]}])])]}
    plan = make_plan(validate_topology(t), current)
    assert [a["action"] for a in plan["actions"]] == []
    assert [d["field"] for d in plan["drift"]] == ["manage"]


def test_partial_server_adds_only_what_is_missing_into_the_existing_cluster():
    current = {"clusters": [hcluster("c1", [hnode("a", ["n1"], ["10.0.0.1"], devices=["/dev/sdb"])])]}
    plan = make_plan(validate_topology(small(nodes=2, devices=("/dev/sdb", "/dev/sdc"))), current)
    assert kinds(plan) == [("add_device", "clusters[0].nodes[0].devices[1]"),
                           ("add_node", "clusters[0].nodes[1]"), ("add_device", "clusters[0].nodes[1].devices[0]"),
                           ("add_device", "clusters[0].nodes[1].devices[1]")]
    # the new node joins the cluster Heketi already holds; nothing is created
    assert plan["actions"][1]["cluster"] == "c1" and plan["actions"][1]["_needs"] is None


def test_drift_for_zone_and_storage_is_reported_not_planned():
    current = {"clusters": [hcluster("c1", [hnode("a", ["n1"], ["10.9.9.9"], zone=3, devices=["/dev/sdb"])])]}
    plan = make_plan(validate_topology(small(nodes=1)), current)
    assert plan["actions"] == []
    drift = dict((d["field"], d) for d in plan["drift"])
    assert sorted(drift) == ["storage", "zone"]
    assert drift["zone"]["heketi"] == 3 and drift["zone"]["topology"] == 1
    assert drift["zone"]["path"] == "clusters[0].nodes[0].node.zone"
    assert "cannot change" in drift["zone"]["msg"]


def test_tags_and_flags_are_updated_by_merge():
    t = small(nodes=1, devices=({"name": "/dev/sdb", "tags": {"disk": "ssd"}},), file=True, block=False)
    t["clusters"][0]["nodes"][0]["node"]["tags"] = {"rack": "r2", "keep": "same"}
    current = {"clusters": [hcluster("c1", [hnode("a", ["n1"], ["10.0.0.1"], tags={"rack": "r1", "keep": "same", "x": "y"},
                                                  devices=[{"name": "/dev/sdb", "tags": {"disk": "hdd"}}])],
                                     file=True, block=True)]}
    plan = make_plan(validate_topology(t), current)
    acts = dict((a["action"], a) for a in plan["actions"])
    assert sorted(acts) == ["set_cluster_flags", "set_device_tags", "set_node_tags"]
    assert acts["set_cluster_flags"]["after"] == {"file": True, "block": False}
    assert acts["set_node_tags"]["tags"] == {"rack": "r2"}
    assert acts["set_device_tags"]["tags"] == {"disk": "ssd"}


def test_unstated_flags_and_tags_are_left_alone():
    current = {"clusters": [hcluster("c1", [hnode("a", ["n1"], ["10.0.0.1"], tags={"rack": "r1"}, devices=["/dev/sdb"])],
                                     file=False, block=True)]}
    plan = make_plan(validate_topology(small(nodes=1)), current)
    assert plan["actions"] == []


def test_file_cluster_spread_over_two_heketi_clusters_is_refused():
    current = {"clusters": [hcluster("c1", [hnode("a", ["n1"], ["10.0.0.1"], cluster="c1")]),
                            hcluster("c2", [hnode("b", ["n2"], ["10.0.0.2"], cluster="c2")])]}
    with pytest.raises(TopologyError) as err:
        make_plan(validate_topology(small()), current)
    assert err.value.errors[0].startswith("clusters[0]: its nodes already sit in 2 Heketi clusters (c1: n1; c2: n2)")
    assert "nothing was changed" in err.value.message


def test_two_file_clusters_on_one_heketi_cluster_are_refused():
    t = small(nodes=2)
    t["clusters"].append({"nodes": [t["clusters"][0]["nodes"].pop()]})
    current = {"clusters": [hcluster("c1", [hnode("a", ["n1"], ["10.0.0.1"]), hnode("b", ["n2"], ["10.0.0.2"])])]}
    with pytest.raises(TopologyError) as err:
        make_plan(validate_topology(t), current)
    assert err.value.errors == ["clusters[1]: maps to Heketi cluster c1, like clusters[0]; list those nodes in one file cluster"]


def test_new_node_with_a_storage_hostname_heketi_already_uses_is_refused():
    current = {"clusters": [hcluster("c1", [hnode("a", ["other"], ["10.0.0.2"])])]}
    with pytest.raises(TopologyError) as err:
        make_plan(validate_topology(small()), current)
    assert err.value.errors[0].startswith("clusters[0].nodes[1].node.hostnames.storage[0]: storage hostname 10.0.0.2 "
                                          "is already used by Heketi node a")


def test_manage_hostnames_matching_two_heketi_nodes_are_refused():
    t = small(nodes=1)
    t["clusters"][0]["nodes"][0]["node"]["hostnames"]["manage"] = ["n1", "n2"]
    current = {"clusters": [hcluster("c1", [hnode("a", ["n1"], ["10.0.0.1"]), hnode("b", ["n2"], ["10.0.0.2"])])]}
    with pytest.raises(TopologyError) as err:
        make_plan(validate_topology(t), current)
    assert "belong to 2 different Heketi nodes" in err.value.errors[0]


def test_predict_matches_the_plan():
    current = {"clusters": [hcluster("c1", [hnode("a", ["n1"], ["10.0.0.1"], devices=["/dev/sdb"])])]}
    before = summarize(current)
    plan = make_plan(validate_topology(small(nodes=2, devices=("/dev/sdb", "/dev/sdc"))), current)
    after = predict(current, plan["actions"])
    assert before["clusters"][0]["nodes"][0]["devices"] == [{"name": "/dev/sdb", "tags": {}}]  # untouched
    nodes = after["clusters"][0]["nodes"]
    assert [n["manage"] for n in nodes] == [["n1"], ["n2"]]
    assert [[d["name"] for d in n["devices"]] for n in nodes] == [["/dev/sdb", "/dev/sdc"], ["/dev/sdb", "/dev/sdc"]]


def test_predict_new_cluster():
    plan = make_plan(validate_topology(small(nodes=1, block=False)), {"clusters": []})
    after = predict({"clusters": []}, plan["actions"])
    assert after == {"clusters": [{"id": "(new)", "file": True, "block": False, "nodes": [
        {"manage": ["n1"], "storage": ["10.0.0.1"], "zone": 1, "tags": {}, "devices": [{"name": "/dev/sdb", "tags": {}}]}]}]}


def test_zone_beyond_a_go_int_is_refused():
    t = seed()
    N(t, 0)["node"]["zone"] = 2 ** 63
    with pytest.raises(TopologyError) as err:
        validate_topology(t)
    assert err.value.errors[0].startswith("clusters[0].nodes[0].node.zone: must be an integer from 1 to")


# -------------------------------------------------------------------------------- execution
class ScriptedClient(object):
    """A test double for HeketiClient.request(): records calls, fails the ones it is told to.

    Only the execution order and error handling of execute() are under test here; the protocol
    and Heketi's answers are tested against the real server (tests/integration).
    """

    def __init__(self, fail=None, delay=0.0):
        self.fail = fail or (lambda method, path, body: None)
        self.delay = delay
        self.calls = []
        self.inflight = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.n = 0

    def request(self, method, path, body=None):
        with self.lock:
            self.calls.append((method, path, body))
            self.inflight += 1
            self.peak = max(self.peak, self.inflight)
            self.n += 1
            ident = "%032x" % self.n
        try:
            if self.delay:
                time.sleep(self.delay)
            msg = self.fail(method, path, body)
            if msg:
                raise HeketiError("Heketi answered HTTP 500 to %s %s: %s" % (method, path, msg), status=500, body=msg)
            if path == "/clusters" and method == "POST":
                return 201, {"id": "c" + ident[1:]}
            if path == "/nodes":
                return 200, {"id": "n" + ident[1:]}
            return 204, None
        finally:
            with self.lock:
                self.inflight -= 1


def _plan(topology, current=None):
    return make_plan(validate_topology(topology), current or {"clusters": []})


def test_execute_deletes_a_new_cluster_no_node_could_join():
    client = ScriptedClient(fail=lambda m, p, b: "New Node doesn't have glusterd running" if p == "/nodes" else None)
    plan = _plan(small(nodes=2))
    failures = execute(client, plan["actions"], max_inflight=4)
    assert [(f["path"], f["action"], f["msg"]) for f in failures] == [
        ("clusters[0].nodes[0]", "add_node", "New Node doesn't have glusterd running"),
        ("clusters[0].nodes[1]", "add_node", "New Node doesn't have glusterd running")]
    methods = [(m, p.split("/")[1]) for m, p, b in client.calls]
    assert methods == [("POST", "clusters"), ("POST", "nodes"), ("POST", "nodes"), ("DELETE", "clusters")]
    statuses = [(a["action"], a["status"]) for a in plan["actions"]]
    assert statuses == [("create_cluster", "reverted"), ("add_node", "failed"), ("add_device", "skipped"),
                        ("add_node", "failed"), ("add_device", "skipped")]


def test_execute_goes_on_after_a_failure_and_lists_it():
    bad = {}

    def fail(method, path, body):
        if path == "/devices" and body["name"] == "/dev/sdc" and not bad:
            bad["hit"] = body["node"]
            return "Initializing device /dev/sdc failed (already initialized or contains data?)"
        return None

    client = ScriptedClient(fail=fail)
    plan = _plan(small(nodes=3, devices=("/dev/sdb", "/dev/sdc", "/dev/sdd")))
    failures = execute(client, plan["actions"], max_inflight=3)
    assert len(failures) == 1 and "already initialized" in failures[0]["msg"]
    statuses = Counter(a["status"] for a in plan["actions"])
    assert statuses == {"done": 1 + 3 + 8, "failed": 1}
    assert sum(1 for m, p, b in client.calls if p == "/devices") == 9


def test_execute_keeps_within_max_inflight_and_adds_nodes_in_order():
    client = ScriptedClient(delay=0.02)
    plan = _plan(small(nodes=6, devices=("/dev/sdb", "/dev/sdc")))
    assert execute(client, plan["actions"], max_inflight=3) == []
    assert client.peak <= 3
    nodes = [b["hostnames"]["manage"][0] for m, p, b in client.calls if p == "/nodes"]
    assert nodes == ["n%d" % i for i in range(1, 7)]
    # the devices of one node are added one after another, each after its node
    for i in range(1, 7):
        node_call = [k for k, c in enumerate(client.calls) if c[1] == "/nodes" and c[2]["hostnames"]["manage"] == ["n%d" % i]][0]
        node_id = "n%031x" % (node_call + 1)
        devs = [k for k, c in enumerate(client.calls) if c[1] == "/devices" and c[2]["node"] == node_id]
        assert len(devs) == 2 and all(k > node_call for k in devs)


@pytest.mark.parametrize("where,field,value", [
    ("node", "hostnames", "node1.example.test"),
    ("devices", None, "/dev/sdf"),
])
def test_the_hint_for_a_string_where_a_list_belongs_is_json(where, field, value):
    """The hint is meant to be pasted into topology.json: valid JSON, not Python's repr (['a'])."""
    t = seed()
    if where == "node":
        N(t, 0)["node"]["hostnames"]["manage"] = value
    else:
        N(t, 0)["devices"] = value
    with pytest.raises(TopologyError) as err:
        validate_topology(t)
    [hint] = [e.split("(write ", 1)[1].rstrip(")") for e in err.value.errors if "(write " in e]
    hint = hint.replace("a list, for example ", "")
    assert json.loads(hint) == [value]


def test_nodes_heketi_holds_twice_in_two_clusters_are_named_with_the_fix_not_the_split_advice():
    """Two loads at the same time each made a cluster: the first added n1 to c1, the second n2 and n1 to c2.
    Every later run used to fail advising to split the file, which is the wrong fix."""
    current = {"clusters": [
        hcluster("c1", [hnode("a1", ["n1"], ["10.0.0.1"], devices=["/dev/sdb"], cluster="c1")]),
        hcluster("c2", [hnode("b2", ["n2"], ["10.0.0.2"], devices=["/dev/sdb"], cluster="c2"),
                        hnode("a2", ["n1"], ["10.0.0.1"], cluster="c2")])]}
    current["clusters"][0]["nodes"][0]["devices"][0]["bricks"] = ["br1"]
    with pytest.raises(TopologyError) as err:
        make_plan(validate_topology(small()), current)
    text = " ".join(err.value.errors)
    assert "split it" not in text
    assert "Heketi holds two nodes with the manage hostname n1 (left by two loads at the same time" in text
    assert "a1 (cluster c1, 1 device(s), 1 brick(s)) and a2 (cluster c2, 0 device(s), 0 brick(s))" in text
    assert "Remove the copy that holds no bricks (glusterfs.heketi.heketi_node name=<its id> state=absent" in text


def test_a_node_heketi_holds_twice_is_reported_in_drift_even_when_the_plan_can_be_made():
    current = {"clusters": [hcluster("c1", [hnode("a", ["n1"], ["10.0.0.1"], devices=["/dev/sdb"]),
                                            hnode("b", ["n2"], ["10.0.0.2"], devices=["/dev/sdb"]),
                                            hnode("c", ["n2"], ["10.0.0.2"])])]}
    plan = make_plan(validate_topology(small()), current)
    dups = [d for d in plan["drift"] if d["field"] == "nodes"]
    assert [(d["hostname"], d["ids"]) for d in dups] == [("n2", ["b", "c"]), ("10.0.0.2", ["b", "c"])]
    assert all("left by two loads at the same time" in d["msg"] for d in dups)
