# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.heketi_volume against the real Heketi server (mock executor)."""
from __future__ import annotations

import pytest

TOPOLOGY = {"clusters": [{"nodes": [
    {"node": {"hostnames": {"manage": ["node%d" % i], "storage": ["10.0.0.%d" % i]}, "zone": 1},
     "devices": ["/dev/sdf", "/dev/sdg"]}
    for i in range(1, 5)
]}]}


@pytest.fixture
def pool(heketi_server):
    """4 nodes x 2 devices in one cluster, seeded with test-side API calls."""
    heketi_server.load(TOPOLOGY)
    return heketi_server


def volumes(server):
    return {v["name"]: v for v in server.state()["volumes"]}


def writes_since(server, mark):
    return [r for r in server.requests_since(mark) if r[0] not in ("GET", "HEAD")]


def test_create_then_idempotent(pool, run_module):
    args = dict(pool.auth(), name="vol1", size=2)
    res = run_module("heketi_volume", args)
    assert not res.get("failed"), res
    assert res["changed"] is True and res["operation"] == "create"
    held = volumes(pool)
    assert list(held) == ["vol1"]
    assert held["vol1"]["size"] == 2
    assert held["vol1"]["durability"]["type"] == "replicate"
    assert held["vol1"]["durability"]["replicate"]["replica"] == 3
    assert res["volume"]["id"] == held["vol1"]["id"]
    assert res["volume"]["mount"]["glusterfs"]["device"].endswith(":vol1")

    mark = pool.mark()
    again = run_module("heketi_volume", args)
    assert not again.get("failed"), again
    assert again["changed"] is False and again["operation"] == "none"
    assert again["volume"]["id"] == held["vol1"]["id"]
    assert writes_since(pool, mark) == []
    assert list(volumes(pool)) == ["vol1"]


def test_check_mode_create_plans_and_writes_nothing(pool, run_module):
    mark = pool.mark()
    res = run_module("heketi_volume", dict(pool.auth(), name="vol1", size=3), check=True, diff=True)
    assert not res.get("failed"), res
    assert res["changed"] is True and res["operation"] == "create"
    assert res["volume"]["size"] == 3 and res["volume"]["name"] == "vol1"
    assert res["diff"]["before"] == {}
    assert res["diff"]["after"]["size"] == 3 and res["diff"]["after"]["durability"] == "replicate 3"
    assert writes_since(pool, mark) == []
    assert volumes(pool) == {}


def test_diff_mode_on_create_and_expand(pool, run_module):
    res = run_module("heketi_volume", dict(pool.auth(), name="vol1", size=2), diff=True)
    assert res["diff"]["before"] == {}
    assert res["diff"]["after"] == {"name": "vol1", "size": 2, "durability": "replicate 3",
                                    "cluster": volumes(pool)["vol1"]["cluster"]}
    res = run_module("heketi_volume", dict(pool.auth(), name="vol1", size=4), diff=True)
    assert res["diff"]["before"]["size"] == 2 and res["diff"]["after"]["size"] == 4


def test_expand_check_mode_then_real_then_idempotent(pool, run_module):
    run_module("heketi_volume", dict(pool.auth(), name="vol1", size=2))
    vid = volumes(pool)["vol1"]["id"]

    mark = pool.mark()
    planned = run_module("heketi_volume", dict(pool.auth(), name="vol1", size=5), check=True)
    assert planned["changed"] is True and planned["operation"] == "expand"
    assert planned["volume"]["size"] == 5
    assert writes_since(pool, mark) == []
    assert volumes(pool)["vol1"]["size"] == 2

    res = run_module("heketi_volume", dict(pool.auth(), name="vol1", size=5))
    assert not res.get("failed"), res
    assert res["changed"] is True and res["operation"] == "expand"
    held = volumes(pool)["vol1"]
    assert held["size"] == 5 and held["id"] == vid
    assert res["volume"]["size"] == 5
    assert ("POST", "/volumes/%s/expand" % vid, 202) in pool.requests_since(mark)

    mark = pool.mark()
    again = run_module("heketi_volume", dict(pool.auth(), name="vol1", size=5))
    assert again["changed"] is False
    # Without a size the existing volume is left alone as well.
    alone = run_module("heketi_volume", dict(pool.auth(), name="vol1"))
    assert alone["changed"] is False and alone["volume"]["size"] == 5
    assert writes_since(pool, mark) == []


def test_shrink_is_refused_without_a_write(pool, run_module):
    run_module("heketi_volume", dict(pool.auth(), name="vol1", size=4))
    mark = pool.mark()
    res = run_module("heketi_volume", dict(pool.auth(), name="vol1", size=2))
    assert res.get("failed") is True
    assert "size" in res["msg"] and "shrink" in res["msg"] and "4 GiB" in res["msg"]
    assert writes_since(pool, mark) == []
    assert volumes(pool)["vol1"]["size"] == 4


def test_durability_change_is_refused(pool, run_module):
    run_module("heketi_volume", dict(pool.auth(), name="vol1", size=2))
    mark = pool.mark()
    res = run_module("heketi_volume", dict(pool.auth(), name="vol1", size=2, durability="replicate", replica=2))
    assert res.get("failed") is True
    assert res["msg"].startswith("durability:") and "replicate 3" in res["msg"] and "replicate 2" in res["msg"]
    res = run_module("heketi_volume", dict(pool.auth(), name="vol1", durability="none"))
    assert res.get("failed") is True and "durability" in res["msg"]
    assert writes_since(pool, mark) == []


@pytest.mark.parametrize("durability,extra,expect", [
    ("disperse", {"disperse_data": 2, "disperse_redundancy": 1}, {"type": "disperse"}),
    ("none", {}, {"type": "none"}),
    ("replicate", {"replica": 2}, {"type": "replicate"}),
])
def test_create_with_durability(pool, run_module, durability, extra, expect):
    res = run_module("heketi_volume", dict(pool.auth(), name="d1", size=2, durability=durability, **extra))
    assert not res.get("failed"), res
    held = volumes(pool)["d1"]
    assert held["durability"]["type"] == expect["type"]
    if durability == "disperse":
        assert held["durability"]["disperse"] == {"data": 2, "redundancy": 1}
        assert len(held["bricks"]) == 3
    elif durability == "replicate":
        assert held["durability"]["replicate"]["replica"] == 2
        assert len(held["bricks"]) == 2
    else:
        assert len(held["bricks"]) >= 1
    # Same arguments again: nothing to do.
    mark = pool.mark()
    again = run_module("heketi_volume", dict(pool.auth(), name="d1", size=2, durability=durability, **extra))
    assert again["changed"] is False, again
    assert writes_since(pool, mark) == []


def test_delete_check_mode_real_and_again(pool, run_module):
    run_module("heketi_volume", dict(pool.auth(), name="vol1", size=2))
    run_module("heketi_volume", dict(pool.auth(), name="keep", size=2))
    vid = volumes(pool)["vol1"]["id"]

    mark = pool.mark()
    planned = run_module("heketi_volume", dict(pool.auth(), name="vol1", state="absent"), check=True)
    assert planned["changed"] is True and planned["operation"] == "delete"
    assert writes_since(pool, mark) == []
    assert "vol1" in volumes(pool)

    res = run_module("heketi_volume", dict(pool.auth(), name="vol1", state="absent"), diff=True)
    assert not res.get("failed"), res
    assert res["changed"] is True and res["operation"] == "delete"
    assert res["diff"]["before"]["name"] == "vol1" and res["diff"]["after"] == {}
    assert sorted(volumes(pool)) == ["keep"]
    assert ("DELETE", "/volumes/" + vid, 202) in pool.requests_since(mark)

    mark = pool.mark()
    again = run_module("heketi_volume", dict(pool.auth(), name="vol1", state="absent"))
    assert again["changed"] is False and again["operation"] == "none"
    assert writes_since(pool, mark) == []


def test_cluster_choice_and_mismatch(pool, run_module):
    cid = pool.state()["clusters"][0]["id"]
    res = run_module("heketi_volume", dict(pool.auth(), name="vol1", size=2, clusters=[cid]))
    assert not res.get("failed"), res
    assert volumes(pool)["vol1"]["cluster"] == cid

    other = pool.call("POST", "/clusters", {"file": True, "block": False})["id"]
    mark = pool.mark()
    res = run_module("heketi_volume", dict(pool.auth(), name="vol1", size=2, clusters=[other]))
    assert res.get("failed") is True
    assert res["msg"].startswith("clusters:") and cid in res["msg"]
    assert writes_since(pool, mark) == []


@pytest.mark.parametrize("args,field", [
    ({"name": "v", "size": 0}, "size"),
    ({"name": "v", "size": 2, "replica": 0}, "replica"),
    ({"name": "v", "size": 2, "durability": "none", "replica": 2}, "replica"),
    ({"name": "v", "size": 2, "disperse_data": 2}, "disperse_data"),
    ({"name": "v", "size": 2, "clusters": ["not-an-id"]}, "clusters[0]"),
    ({"name": " ", "size": 2}, "name"),
])
def test_bad_arguments_fail_before_any_request(pool, run_module, args, field):
    mark = pool.mark()
    res = run_module("heketi_volume", dict(pool.auth(), **args))
    assert res.get("failed") is True
    assert res["msg"].startswith(field + ":"), res["msg"]
    assert pool.requests_since(mark) == []


def test_create_without_size_names_the_option(pool, run_module):
    mark = pool.mark()
    res = run_module("heketi_volume", dict(pool.auth(), name="nosize"))
    assert res.get("failed") is True and res["msg"].startswith("size:")
    assert writes_since(pool, mark) == []


def test_user_key_is_refused_before_any_request(pool, run_module):
    mark = pool.mark()
    res = run_module("heketi_volume", dict(pool.auth("user"), name="vol1", size=2))
    assert res.get("failed") is True and res["msg"].startswith("user:")
    assert pool.requests_since(mark) == []
    assert pool.user_key not in res.output
    assert volumes(pool) == {}


def test_wrong_key_never_reaches_the_output(pool, run_module):
    bad = "bad-" + pool.admin_key
    res = run_module("heketi_volume", dict(pool.auth(), key=bad, name="vol1", size=2), verbosity=3)
    assert res.get("failed") is True and "401" in res["msg"]
    assert bad not in res.output and pool.admin_key not in res.output
    assert volumes(pool) == {}


def test_server_error_text_is_reported(pool, run_module):
    """A volume Heketi cannot place fails with the server's own words (4 nodes cannot hold replica 5)."""
    res = run_module("heketi_volume", dict(pool.auth(), name="big", size=2, replica=5))
    assert res.get("failed") is True
    assert pool.url in res["msg"]
    assert volumes(pool) == {}


@pytest.mark.parametrize("option", ["performance.cache-size $(id)", "user.x 1;reboot", "user.x `id`", "Bad.name on",
                                    "justone", "user.x a b"])
def test_options_that_would_reach_a_shell_are_refused_before_any_request(pool, run_module, option):
    """Heketi's ssh executor runs volume options through a root shell: the module's rule is the CSI driver's."""
    mark = pool.mark()
    res = run_module("heketi_volume", dict(pool.auth(), name="vol1", size=1, options=["features.shard enable", option]))
    assert res.get("failed") and res["msg"].startswith("options[1]: entry "), res
    assert repr(option) in res["msg"]
    assert pool.requests_since(mark) == [] and volumes(pool) == {}


def test_options_are_set_on_create_and_compared_after(pool, run_module):
    args = dict(pool.auth(), name="vol1", size=1, options=["performance.quick-read  off", "features.shard enable"])
    res = run_module("heketi_volume", args)
    assert not res.get("failed"), res
    held = volumes(pool)["vol1"]
    assert {"performance.quick-read off", "features.shard enable"} <= set(held["glustervolumeoptions"])
    again = run_module("heketi_volume", args)
    assert not again.get("failed") and again["changed"] is False, again
    mark = pool.mark()
    other = run_module("heketi_volume", dict(args, options=["performance.quick-read on"]))
    assert other.get("failed") and "Heketi cannot change the options" in other["msg"], other
    assert writes_since(pool, mark) == []


@pytest.mark.parametrize("name", ["v" * 101, "v" * 300, "has space", "dot.ted", ""])
def test_a_name_glusterfs_or_heketi_would_refuse_is_refused_before_any_request(pool, run_module, name):
    mark = pool.mark()
    res = run_module("heketi_volume", dict(pool.auth(), name=name, size=1))
    assert res.get("failed") and res["msg"].startswith("name: %r is not a volume name" % name), res
    assert pool.requests_since(mark) == [] and volumes(pool) == {}


def test_a_name_of_100_characters_is_taken(pool, run_module):
    res = run_module("heketi_volume", dict(pool.auth(), name="v" * 100, size=1))
    assert not res.get("failed"), res
    assert list(volumes(pool)) == ["v" * 100]
