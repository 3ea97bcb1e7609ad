# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection options refused by the modules before any request reaches the real Heketi server."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("module", ["heketi_info", "heketi_topology", "heketi_volume"])
def test_missing_key_is_refused_before_any_request(heketi_server, run_module, module):
    args = {"url": heketi_server.url}
    if module == "heketi_topology":
        node = {"hostnames": {"manage": ["n1.test"], "storage": ["192.0.2.1"]}, "zone": 1}
        args["topology"] = {"clusters": [{"nodes": [{"node": node, "devices": ["/dev/sdb"]}]}]}
    if module == "heketi_volume":
        args.update(name="v1", size=1)
    mark = heketi_server.mark()
    res = run_module(module, args)
    assert res.get("failed"), res
    assert res["msg"].startswith("key: no key was given for user 'admin'"), res["msg"]
    assert "signature is invalid" not in res["msg"]
    assert heketi_server.requests_since(mark) == []


def test_url_with_a_password_is_refused_and_not_echoed(heketi_server, run_module):
    url = heketi_server.url.replace("http://", "http://admin:pw-%s@" % heketi_server.admin_key[:12])
    mark = heketi_server.mark()
    res = run_module("heketi_info", {"url": url, "key": heketi_server.admin_key}, verbosity=3)
    assert res.get("failed"), res
    assert "url: must not carry a user name or password" in res["msg"]
    assert heketi_server.admin_key[:12] not in res.output
    assert heketi_server.requests_since(mark) == []
