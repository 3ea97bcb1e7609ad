# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ports and allowed sources for firewalld and ufw, shared by the firewall_sources module and the
allowed_sources filters. PRIVATE. Runs on EL 7 nodes (Python 2.7) too: no Python 3-only syntax.

A rule is a tuple (source or None, port, proto): None is "every source" (firewalld --add-port,
ufw allow PORT/PROTO), port is "8080" or "24007-24008" (firewalld's spelling; ufw writes ':').
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

try:
    import ipaddress
except ImportError:  # Python 2.7 on EL 7: the controller's filters have validated the entries already.
    ipaddress = None

_PORT = re.compile(r'^([0-9]{1,5})(?:-([0-9]{1,5}))?/(tcp|udp)$')
_RICH = re.compile(r'^rule family="(ipv4|ipv6)" source address="([^"]+)" port port="([0-9-]+)" protocol="(tcp|udp)" accept$')
_UFW_PLAIN = re.compile(r'^ufw allow ([0-9:]+)/(tcp|udp)(?: comment .*)?$')
_UFW_FROM = re.compile(r'^ufw allow from (\S+) to any port ([0-9:]+) proto (tcp|udp)(?: comment .*)?$')
_FALLBACK_SOURCE = re.compile(r'^[0-9A-Fa-f.:]+(/[0-9]{1,3})?$')


def normalize_port(entry):
    """'24007-24008/tcp' -> ('24007-24008', 'tcp'); ValueError naming what is wrong."""
    match = _PORT.match(entry.strip())
    if not match:
        raise ValueError('is not PORT/PROTO or LOW-HIGH/PROTO (tcp or udp), e.g. 24007-24008/tcp')
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if not 1 <= low <= high <= 65535:
        raise ValueError('must have 1 <= LOW <= HIGH <= 65535')
    return ('%d' % low if low == high else '%d-%d' % (low, high)), match.group(3)


def normalize_source(entry):
    """An address or CIDR network in the form firewalld and ufw print; ValueError when it is neither."""
    entry = entry.strip()
    if ipaddress is None:
        if not _FALLBACK_SOURCE.match(entry):
            raise ValueError('is not an IPv4 or IPv6 address or CIDR network')
        return entry
    try:
        if '/' in entry:
            net = ipaddress.ip_network(str(entry), strict=False)
            if net.prefixlen == net.max_prefixlen:
                return str(net.network_address)
            return str(net)
        return str(ipaddress.ip_address(str(entry)))
    except ValueError:
        raise ValueError('is not an IPv4 or IPv6 address or CIDR network')


def wanted_rules(ports, sources):
    """The set of (source or None, port, proto) the firewall must hold for these ports."""
    if sources is None:
        return set((None, port, proto) for port, proto in ports)
    return set((source, port, proto) for source in sources for port, proto in ports)


def rule_text(rule):
    source, port, proto = rule
    return ('%s %s/%s' % (source, port, proto)) if source else '%s/%s' % (port, proto)


def plan(current, wanted, ports):
    """(to_add, to_remove): only rules of the managed ports are removed."""
    managed = set(ports)
    ours = set(rule for rule in current if (rule[1], rule[2]) in managed)
    return sorted(wanted - ours, key=rule_text), sorted(ours - wanted, key=rule_text)


def parse_firewalld(ports_out, rich_out):
    """Rules (source or None, port, proto) in `firewall-cmd --list-ports` and `--list-rich-rules` output."""
    rules = set()
    for item in ports_out.split():
        try:
            rules.add((None,) + normalize_port(item))
        except ValueError:
            continue
    for line in rich_out.splitlines():
        match = _RICH.match(line.strip())
        if match:
            try:
                rules.add((normalize_source(match.group(2)),) + normalize_port('%s/%s' % (match.group(3), match.group(4))))
            except ValueError:
                continue
    return rules


def parse_ufw(added_out):
    """Rules (source or None, port, proto) in `ufw show added` output."""
    rules = set()
    for line in added_out.splitlines():
        line = line.strip()
        plain = _UFW_PLAIN.match(line)
        sourced = _UFW_FROM.match(line)
        try:
            if plain:
                rules.add((None,) + normalize_port('%s/%s' % (plain.group(1).replace(':', '-'), plain.group(2))))
            elif sourced:
                rules.add((normalize_source(sourced.group(1)),)
                          + normalize_port('%s/%s' % (sourced.group(2).replace(':', '-'), sourced.group(3))))
        except ValueError:
            continue
    return rules


def rich_rule(rule):
    source, port, proto = rule
    return 'rule family="%s" source address="%s" port port="%s" protocol="%s" accept' % (
        'ipv6' if ':' in source else 'ipv4', source, port, proto)


def ufw_spec(rule):
    source, port, proto = rule
    port = port.replace('-', ':')
    if source is None:
        return ['%s/%s' % (port, proto)]
    return ['from', source, 'to', 'any', 'port', port, 'proto', proto]


def normalize_list(entries, normalize, field):
    """Each entry normalized, duplicates dropped, order kept; ValueError naming FIELD[index] and the entry."""
    out = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, str):
            raise ValueError('%s[%d] %r is not a string' % (field, index, entry))
        try:
            value = normalize(entry)
        except ValueError as err:
            raise ValueError('%s[%d] %r %s' % (field, index, entry, err))
        if value not in out:
            out.append(value)
    return out
