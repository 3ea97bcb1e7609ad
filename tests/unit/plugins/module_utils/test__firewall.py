# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The firewall rule logic of glusterfs.heketi.firewall_sources: parsing what firewalld and ufw print (the
samples are the real output of firewalld 1.3.3 and ufw 0.36.2 on Debian 12), and the plan of rules to add
and remove. The rules applied to a running firewall are tested in tests/integration/test_firewall_lab.py."""
from __future__ import annotations

import pytest

from ansible_collections.glusterfs.heketi.plugins.module_utils._firewall import (
    normalize_list, normalize_port, normalize_source, parse_firewalld, parse_ufw, plan, rich_rule, ufw_spec,
    wanted_rules)

UFW_SHOW_ADDED = """Added user rules (see 'ufw status' for running firewall):
ufw allow 8080/tcp comment 'old x'
ufw allow 24007:24008/tcp
ufw allow from 192.0.2.10 to any port 8080 proto tcp comment 'Heketi (g)'
ufw allow from 192.0.2.0/24 to any port 8080 proto tcp
ufw allow from 2001:db8::/64 to any port 49152:60999 proto tcp
ufw deny from 192.0.2.99 to any port 8080 proto tcp
ufw allow 22/tcp
"""
FIREWALLD_PORTS = "8080/tcp 24007-24008/tcp 53/udp\n"
FIREWALLD_RICH = """rule family="ipv4" source address="192.0.2.0/24" port port="8080" protocol="tcp" accept
rule family="ipv6" source address="2001:db8::/64" port port="49152-60999" protocol="tcp" accept
rule family="ipv4" source address="192.0.2.99" port port="8080" protocol="tcp" reject
rule family="ipv4" source address="192.0.2.7" port port="8080" protocol="tcp" log prefix="x" accept
"""


def test_ports_are_normalized_and_checked():
    assert normalize_port("8080/tcp") == ("8080", "tcp")
    assert normalize_port("24007-24008/tcp") == ("24007-24008", "tcp")
    assert normalize_port("53-53/udp") == ("53", "udp")
    for bad in ("8080", "0/tcp", "70000/tcp", "9-8/tcp", "8080/sctp", "80:90/tcp"):
        with pytest.raises(ValueError):
            normalize_port(bad)


def test_sources_are_normalized():
    assert normalize_source("192.0.2.5/24") == "192.0.2.0/24"
    assert normalize_source("192.0.2.5/32") == "192.0.2.5"
    assert normalize_source("2001:DB8::1") == "2001:db8::1"
    with pytest.raises(ValueError):
        normalize_source("node1")


def test_normalize_list_names_field_and_index():
    with pytest.raises(ValueError, match=r"^ports\[1\] '8080' is not PORT/PROTO"):
        normalize_list(["8080/tcp", "8080"], normalize_port, "ports")
    assert normalize_list(["8080/tcp", "8080/tcp"], normalize_port, "ports") == [("8080", "tcp")]


def test_ufw_rules_are_read_from_show_added():
    assert parse_ufw(UFW_SHOW_ADDED) == {
        (None, "8080", "tcp"), (None, "24007-24008", "tcp"), ("192.0.2.10", "8080", "tcp"),
        ("192.0.2.0/24", "8080", "tcp"), ("2001:db8::/64", "49152-60999", "tcp"), (None, "22", "tcp")}


def test_firewalld_rules_only_plain_ports_and_plain_accept_rich_rules():
    assert parse_firewalld(FIREWALLD_PORTS, FIREWALLD_RICH) == {
        (None, "8080", "tcp"), (None, "24007-24008", "tcp"), (None, "53", "udp"),
        ("192.0.2.0/24", "8080", "tcp"), ("2001:db8::/64", "49152-60999", "tcp")}


def test_restricting_removes_the_plain_port_and_stale_sources_only_of_managed_ports():
    current = parse_ufw(UFW_SHOW_ADDED)
    ports = [("8080", "tcp")]
    to_add, to_remove = plan(current, wanted_rules(ports, ["192.0.2.0/24", "192.0.2.42"]), ports)
    assert to_add == [("192.0.2.42", "8080", "tcp")]
    assert sorted(to_remove, key=str) == sorted([(None, "8080", "tcp"), ("192.0.2.10", "8080", "tcp")], key=str)


def test_open_to_all_removes_the_per_source_rules():
    current = parse_firewalld(FIREWALLD_PORTS, FIREWALLD_RICH)
    ports = [("49152-60999", "tcp"), ("24007-24008", "tcp")]
    to_add, to_remove = plan(current, wanted_rules(ports, None), ports)
    assert to_add == [(None, "49152-60999", "tcp")]
    assert to_remove == [("2001:db8::/64", "49152-60999", "tcp")]


def test_an_empty_source_list_closes_the_port():
    current = parse_ufw(UFW_SHOW_ADDED)
    ports = [("8080", "tcp")]
    to_add, to_remove = plan(current, wanted_rules(ports, []), ports)
    assert to_add == [] and len(to_remove) == 3


def test_converged_rules_plan_nothing():
    ports = [("8080", "tcp")]
    wanted = wanted_rules(ports, ["192.0.2.0/24"])
    assert plan(wanted | {(None, "22", "tcp")}, wanted, ports) == ([], [])


def test_the_commands_firewalld_and_ufw_get():
    assert rich_rule(("2001:db8::/64", "49152-60999", "tcp")) == (
        'rule family="ipv6" source address="2001:db8::/64" port port="49152-60999" protocol="tcp" accept')
    assert ufw_spec(("192.0.2.10", "24007-24008", "tcp")) == [
        "from", "192.0.2.10", "to", "any", "port", "24007:24008", "proto", "tcp"]
    assert ufw_spec((None, "24007-24008", "tcp")) == ["24007:24008/tcp"]
    # What the module writes is what the parsers read back: a rerun plans nothing.
    assert parse_firewalld("", rich_rule(("192.0.2.10", "8080", "tcp"))) == {("192.0.2.10", "8080", "tcp")}
    assert parse_ufw("ufw allow " + " ".join(ufw_spec(("192.0.2.10", "8080", "tcp"))) + " comment 'x'") == {
        ("192.0.2.10", "8080", "tcp")}
