# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.ssh_key_options: restrict always, from= validated entry by entry."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.glusterfs.heketi.plugins.filter.ssh_key_options import ssh_key_options


def test_addresses_networks_and_names_are_accepted():
    assert ssh_key_options(["192.0.2.10", "2001:db8::10", "192.0.2.0/28", "heketi.example.com", "node*.lab"]) == (
        'restrict,from="192.0.2.10,2001:db8::10,192.0.2.0/28,heketi.example.com,node*.lab"')


def test_duplicates_are_dropped_and_restrict_is_always_there():
    assert ssh_key_options(["192.0.2.10", "192.0.2.10"]) == 'restrict,from="192.0.2.10"'
    assert ssh_key_options([], restrict_from=False) == "restrict"


@pytest.mark.parametrize("entry,why", [
    ('192.0.2.1"', "quote, comma or space"),
    ("192.0.2.1,10.0.0.1", "quote, comma or space"),
    ("192.0.2.1 evil", "quote, comma or space"),
    ("'x'", "quote, comma or space"),
    ("", "is empty"),
    ("!192.0.2.1", "negation"),
    ("192.0.2.300", "not a valid IPv4 address"),
    ("192.0.2.0/33", "not a valid address or CIDR"),
    ("2001:db8::zz", "not a valid address or CIDR"),
    ("bad_host-.example", "not an address, a CIDR network or a host name"),
    ('x"/command="id', "quote, comma or space"),
])
def test_bad_entries_are_refused_naming_the_field_and_index(entry, why):
    with pytest.raises(AnsibleFilterError) as err:
        ssh_key_options(["192.0.2.10", entry], field="heketi_ssh_from_addresses")
    assert str(err.value).startswith("heketi_ssh_from_addresses[1] %r" % entry)
    assert why in str(err.value)


def test_an_empty_list_is_an_error_never_from_empty():
    with pytest.raises(AnsibleFilterError, match="no source to restrict"):
        ssh_key_options([], field="node1 default addresses")


@pytest.mark.parametrize("value", ["192.0.2.10", None, {"a": 1}])
def test_a_list_is_required(value):
    with pytest.raises(AnsibleFilterError, match="must be a list"):
        ssh_key_options(value)
