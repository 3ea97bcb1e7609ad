# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.subject_alt_names: IP: for addresses, DNS: for names, 127.0.0.1 kept first."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.glusterfs.heketi.plugins.filter.subject_alt_names import subject_alt_names


def test_addresses_and_names_in_order_without_duplicates():
    assert subject_alt_names(["127.0.0.1", "::1", "node1", "Node1.Example.com.", "", None, "192.0.2.11", "node1"]) == [
        "IP:127.0.0.1", "IP:::1", "DNS:node1", "DNS:node1.example.com", "IP:192.0.2.11"]


@pytest.mark.parametrize("bad", ["two words", "a,b", "-x.example", "x" * 300])
def test_an_entry_that_is_neither_is_named(bad):
    with pytest.raises(AnsibleFilterError, match=r"heketi_tls_names\[1\]"):
        subject_alt_names(["127.0.0.1", bad])


def test_a_list_is_required():
    with pytest.raises(AnsibleFilterError, match="must be a list"):
        subject_alt_names("node1")
