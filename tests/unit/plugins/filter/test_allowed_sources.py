# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.allowed_sources: every firewall source validated and normalized, naming the entry."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.glusterfs.heketi.plugins.filter.allowed_sources import allowed_sources


def test_addresses_and_networks_are_normalized_deduplicated_in_order():
    assert allowed_sources(["192.0.2.10", "192.0.2.70/26", "2001:DB8::10/128", "192.0.2.10/32", " 192.0.2.10 ",
                            "2001:db8:0:0::/64"]) == ["192.0.2.10", "192.0.2.64/26", "2001:db8::10", "2001:db8::/64"]


def test_an_empty_list_stays_empty():
    assert allowed_sources([]) == []


@pytest.mark.parametrize("entry", ["heketi.example.com", "192.0.2.300", "192.0.2.0/33", "2001:db8::zz", "",
                                   "192.0.2.1,192.0.2.2", "!192.0.2.1", "any", "192.0.2.1 port 22"])
def test_bad_entries_are_refused_naming_the_field_and_index(entry):
    with pytest.raises(AnsibleFilterError) as err:
        allowed_sources(["192.0.2.10", entry], field="glusterfs_server_allowed_sources")
    assert str(err.value).startswith("glusterfs_server_allowed_sources[1] %r " % entry)
    assert "not an IPv4 or IPv6 address or CIDR network" in str(err.value)


@pytest.mark.parametrize("value", ["192.0.2.10", None, {"a": 1}])
def test_a_list_is_required(value):
    with pytest.raises(AnsibleFilterError, match="heketi_api_allowed_sources must be a list"):
        allowed_sources(value)


def test_a_non_string_entry_is_named():
    with pytest.raises(AnsibleFilterError, match=r"heketi_api_allowed_sources\[0\] 10 is not a string"):
        allowed_sources([10])


def getent(host, key, addresses):
    """One item of a registered ansible.builtin.getent loop (database=ahosts, fail_key=false), as the module
    returns it: the address is the key, STREAM/DGRAM/RAW lines under it; an unknown key maps to None."""
    found = {a: [["STREAM", key], ["DGRAM"], ["RAW"]] for a in addresses} if addresses else {key: None}
    return {"item": host, "ansible_facts": {"getent_ahosts": found},
            "invocation": {"module_args": {"database": "ahosts", "key": key}}, "changed": False}


def test_resolved_hosts_are_appended_after_the_list():
    resolved = [getent("k8s-master", "192.0.2.28", ["192.0.2.28"]),
                getent("k8s-node01", "lab-client", ["192.0.2.42", "2001:db8::42"]),
                {"item": "k8s-node02", "skipped": True}]
    assert allowed_sources(["192.0.2.5"], resolved=resolved) == ["192.0.2.5", "192.0.2.28", "192.0.2.42", "2001:db8::42"]


def test_a_host_that_does_not_resolve_is_named():
    resolved = [getent("k8s-node01", "lab-client", ["192.0.2.42"]), getent("k8s-node02", "no-such-host", [])]
    with pytest.raises(AnsibleFilterError) as err:
        allowed_sources([], field="heketi_api_allowed_sources (the default)", resolved=resolved)
    assert str(err.value).startswith("heketi_api_allowed_sources (the default): host k8s-node02 (no-such-host) "
                                     "does not resolve")
