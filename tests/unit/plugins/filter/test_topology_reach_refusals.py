# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.topology_reach_refusals: the verdict on the ssh reach check, fail closed."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.glusterfs.heketi.plugins.filter.topology_reach_refusals import topology_reach_refusals

KH = "/etc/heketi/known_hosts"


def check(*results):
    """The answers as glusterfs.heketi.ssh_reach_info returns them (its ``nodes``)."""
    return [dict(zip(("host", "manage", "rc", "reason"), r)) for r in results]


def test_all_reached_is_no_refusal():
    assert topology_reach_refusals(check(("node1", "192.0.2.11", 0, "active"), ("node2", "192.0.2.12", 0, "active")),
                                   nodes=2, known_hosts=KH) == []


def test_ssh_and_gluster_failures_are_named_apart():
    out = topology_reach_refusals(check(("node1", "192.0.2.11", 255, "Permission denied (publickey)."),
                                        ("node2", "192.0.2.12", 3, "inactive"), ("node3", "192.0.2.13", 1, "")),
                                  nodes=3, known_hosts=KH)
    assert out == ["node1 (192.0.2.11): ssh failed: Permission denied (publickey).",
                   "node2 (192.0.2.12): gluster --version / glusterd check failed: inactive",
                   "node3 (192.0.2.13): gluster --version / glusterd check failed: exit 1"]


def test_a_changed_host_key_says_what_to_do():
    out = topology_reach_refusals(check(("node2", "192.0.2.12", 255, "Host key verification failed.")), nodes=1,
                                  known_hosts=KH)
    assert out == ["node2 (192.0.2.12): ssh failed: Host key verification failed. (the host key of node2 does not match "
                   "/etc/heketi/known_hosts: if the node was reinstalled, rerun the heketi stage to collect its new key;"
                   " otherwise find out who answers at 192.0.2.12)"]


@pytest.mark.parametrize("output, expected", [
    (check(("node1", "192.0.2.11", 0, "active")), "the ssh check answered for 1 of 2 nodes"),
    ([], "the ssh check answered for 0 of 2 nodes"),
    # What the old script printed (its stdout), or any text: not the module's list.
    ('[{"host": "node1", "manage": "192.0.2.11", "rc": 0, "reason": "active"}]', "the ssh check gave no list of answers"),
    ({"host": "node1"}, "the ssh check gave no list of answers"),
    (None, "the ssh check gave no list of answers"),
    ([{"host": "node1", "manage": "192.0.2.11", "rc": "0"}, {"host": "node2", "manage": "192.0.2.12", "rc": 0}],
     "the ssh check gave 1 entries that are no answer"),
    ([{"manage": "192.0.2.11", "rc": 0}, "node2"], "the ssh check gave 2 entries that are no answer"),
    ([{"host": "node1", "manage": "192.0.2.11", "rc": True}, {"host": "node2", "manage": "192.0.2.12", "rc": 0}],
     "the ssh check gave 1 entries that are no answer"),
])
def test_fails_closed(output, expected):
    out = topology_reach_refusals(output, nodes=2, known_hosts=KH)
    assert out and out[0].startswith(expected)


def test_nodes_must_be_a_number():
    with pytest.raises(AnsibleFilterError, match="nodes must be an integer"):
        topology_reach_refusals([], nodes="four", known_hosts=KH)
