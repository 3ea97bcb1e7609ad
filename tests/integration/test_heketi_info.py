# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.heketi_info against the real Heketi server (mock executor).

The server is populated with the real heketi-cli (not with the collection), and what the module returns
is compared with what the server answers to requests signed by the test itself.
"""
from __future__ import annotations

import json

import pytest

TOPOLOGY = {"clusters": [{"nodes": [
    {"node": {"hostnames": {"manage": ["node%d" % i], "storage": ["10.0.0.%d" % i]}, "zone": 1 + i % 2,
              "tags": {"rack": "r%d" % i}},
     "devices": ["/dev/sdf", {"name": "/dev/sdg", "destroydata": False, "tags": {"disk": "ssd"}}]}
    for i in range(1, 5)
]}]}


@pytest.fixture
def loaded(heketi_server):
    """A server holding 4 nodes x 2 devices and one 2 GiB replica-3 volume, seeded with test-side API calls."""
    heketi_server.load(TOPOLOGY)
    heketi_server.call("POST", "/volumes", {"size": 2, "name": "info1",
                                            "durability": {"type": "replicate", "replicate": {"replica": 3}}})
    return heketi_server


def test_info_after_heketi_cli_topology_load(heketi_server, heketi_cli, run_module, tmp_path):
    """What the real heketi-cli loaded (node tags, device objects) is what the module reports."""
    topo = tmp_path / "topology.json"
    topo.write_text(json.dumps(TOPOLOGY))
    heketi_cli(heketi_server, "topology", "load", "--json=%s" % topo)
    res = run_module("heketi_info", heketi_server.auth())
    assert not res.get("failed"), res
    assert {n["hostnames"]["manage"][0]: (n["zone"], n["tags"]) for n in res["nodes"]} == {
        "node%d" % i: (1 + i % 2, {"rack": "r%d" % i}) for i in range(1, 5)}
    assert sorted((d["node_hostnames"]["manage"][0], d["name"], json.dumps(d["tags"])) for d in res["devices"]) == sorted(
        [("node%d" % i, "/dev/sdf", "{}") for i in range(1, 5)]
        + [("node%d" % i, "/dev/sdg", '{"disk": "ssd"}') for i in range(1, 5)])
    cli = json.loads(heketi_cli(heketi_server, "topology", "info", "--json").stdout)
    assert sorted(n["id"] for c in cli["clusters"] for n in c["nodes"]) == sorted(n["id"] for n in res["nodes"])


def test_harness_logs_every_request(heketi_server, heketi_cli):
    """The request log the other tests rely on sees writes and auth failures."""
    mark = heketi_server.mark()
    heketi_cli(heketi_server, "cluster", "create")
    heketi_cli(heketi_server, "cluster", "list", key="not-the-key", check=False)
    seen = heketi_server.requests_since(mark)
    assert ("POST", "/clusters", 201) in seen
    assert ("GET", "/clusters", 401) in seen


def test_info_returns_what_the_server_holds(loaded, run_module):
    mark = loaded.mark()
    res = run_module("heketi_info", loaded.auth())
    assert not res.get("failed"), res
    assert res["changed"] is False
    assert [r for r in loaded.requests_since(mark) if r[0] != "GET"] == []

    state = loaded.state()
    server_nodes = {n["id"]: n for c in state["clusters"] for n in c["nodes"]}
    server_devices = {d["id"]: (n, d) for n in server_nodes.values() for d in n["devices"]}

    assert sorted(c["id"] for c in res["clusters"]) == sorted(c["id"] for c in state["clusters"])
    assert sorted(n["id"] for n in res["nodes"]) == sorted(server_nodes)
    assert sorted(d["id"] for d in res["devices"]) == sorted(server_devices)
    for node in res["nodes"]:
        have = server_nodes[node["id"]]
        assert node["hostnames"] == have["hostnames"]
        assert node["zone"] == have["zone"]
        assert node["tags"] == have.get("tags", {})
        assert node["cluster"] == have["cluster"]
        assert node["state"] == have["state"]
        assert sorted(node["devices"]) == sorted(d["id"] for d in have["devices"])
    for dev in res["devices"]:
        node, have = server_devices[dev["id"]]
        assert dev["name"] == have["name"]
        assert dev["node"] == node["id"]
        assert dev["storage"] == have["storage"]
        assert dev["state"] == have["state"]
        assert dev["tags"] == have.get("tags", {})
        assert dev["bricks"] == len(have.get("bricks") or [])
    # What heketi-cli put there comes back: tags from the file, both device forms.
    assert {n["hostnames"]["manage"][0]: n["tags"] for n in res["nodes"]} == {
        "node%d" % i: {"rack": "r%d" % i} for i in range(1, 5)}
    assert sorted((d["name"], json.dumps(d["tags"])) for d in res["devices"]) == sorted(
        [("/dev/sdf", "{}")] * 4 + [("/dev/sdg", '{"disk": "ssd"}')] * 4)

    assert [v["name"] for v in res["volumes"]] == ["info1"]
    vol = res["volumes"][0]
    assert vol == state["volumes"][0]
    assert vol["size"] == 2 and vol["durability"]["replicate"]["replica"] == 3
    # The bricks of the volume show up on the devices.
    assert sum(d["bricks"] for d in res["devices"]) == len(vol["bricks"])

    totals = {k: sum(pair[1]["storage"][k] for pair in server_devices.values()) for k in ("total", "free", "used")}
    assert res["summary"] == dict(clusters=1, nodes=4, devices=8, volumes=1, **totals)
    assert totals["used"] > 0
    # The nested form holds the same nodes as the flat lists.
    assert sorted(n["id"] for c in res["topology"]["clusters"] for n in c["nodes"]) == sorted(server_nodes)


def test_info_on_an_empty_server(heketi_server, run_module):
    res = run_module("heketi_info", heketi_server.auth())
    assert not res.get("failed"), res
    assert res["clusters"] == [] and res["nodes"] == [] and res["devices"] == [] and res["volumes"] == []
    assert res["summary"] == {"clusters": 0, "nodes": 0, "devices": 0, "volumes": 0, "total": 0, "free": 0, "used": 0}


def test_info_check_mode_reads_the_same_and_writes_nothing(loaded, run_module):
    normal = run_module("heketi_info", loaded.auth())
    mark = loaded.mark()
    checked = run_module("heketi_info", loaded.auth(), check=True)
    assert not checked.get("failed"), checked
    assert checked["changed"] is False
    assert [r for r in loaded.requests_since(mark) if r[0] != "GET"] == []
    assert loaded.requests_since(mark), "check mode must still read the server"
    for key in ("clusters", "nodes", "devices", "volumes", "summary"):
        assert checked[key] == normal[key]


def test_info_without_volumes(loaded, run_module):
    mark = loaded.mark()
    res = run_module("heketi_info", dict(loaded.auth(), include_volumes=False))
    assert not res.get("failed"), res
    assert res["volumes"] == []
    assert res["summary"]["volumes"] == 1
    assert len(res["clusters"][0]["volumes"]) == 1
    assert not any(req[1].startswith("/volumes/") for req in loaded.requests_since(mark))


def test_info_connection_from_environment(loaded, run_module):
    env = {"HEKETI_CLI_SERVER": loaded.url, "HEKETI_CLI_USER": "admin", "HEKETI_CLI_KEY": loaded.admin_key}
    res = run_module("heketi_info", {}, env=env)
    assert not res.get("failed"), res
    assert res["summary"]["nodes"] == 4
    assert loaded.admin_key not in res.output


def test_info_wrong_key_is_a_clear_error_and_never_shown(loaded, run_module):
    bad = "wrong-" + loaded.admin_key[::-1]
    res = run_module("heketi_info", dict(loaded.auth(), key=bad), verbosity=3)
    assert res.get("failed") is True
    assert "401" in res["msg"] and "'admin'" in res["msg"]
    assert "signature is invalid" in res["msg"]
    assert bad not in res.output and loaded.admin_key not in res.output


def test_info_user_key_is_refused_with_the_reason(loaded, run_module):
    res = run_module("heketi_info", loaded.auth("user"))
    assert res.get("failed") is True
    assert "Administrator access required" in res["msg"]
    assert "admin" in res["msg"]
    assert loaded.user_key not in res.output


def test_info_server_down_names_the_url(heketi_server, run_module):
    heketi_server.stop()
    res = run_module("heketi_info", heketi_server.auth())
    assert res.get("failed") is True
    assert heketi_server.url in res["msg"]
