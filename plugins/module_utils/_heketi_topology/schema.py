# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one validator of a Heketi topology (topology.json schema), private to glusterfs.heketi.

``validate_topology(data)`` checks the whole document and returns it normalised, or raises
TopologyError listing every problem. Who reads the messages decides how places are named: the
module names JSON paths (``clusters[0].nodes[2].node.zone: must be an integer >= 1, got 0``),
the role's inventory path names the host and its variable (``node3: topology_zone must be an
integer >= 1, got 0``, see ``inventory.py``). Both run the same rules.

The package splits the topology stage by job: ``schema`` (this validator, no Heketi contact),
``inventory`` (the role's model built from the inventory, for the filter ``topology_model``),
``plan`` (compares the validated topology with what Heketi holds and returns the list of actions
that both check mode (``predict``) and execution read) and ``execute`` (performs those actions,
serialized per Heketi server on the host it runs on). Its ``__init__.py`` stays empty, as
ansible-core 2.16 requires of module_utils packages.
"""

from __future__ import annotations

import ipaddress
import json
import re

from ansible.module_utils.common.text.converters import to_text

# Heketi's own rules (pkg/glusterfs/api/types.go). fullmatch everywhere: "$" would accept a
# trailing newline, which Heketi refuses after writes began.
DEVICE_NAME_RE = re.compile(r'/[a-zA-Z0-9_.:/-]+')
TAG_NAME_RE = re.compile(r'[a-zA-Z0-9_.-]+')
# govalidator's DNSName, which Heketi's is.Host uses for hostnames.
DNS_NAME_RE = re.compile(r'([a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62}){1}(\.[a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62})*[._]?')
MAX_TAGS = 32
MAX_ZONE = 2 ** 63 - 1

ROOT_KEYS = ('clusters',)
CLUSTER_KEYS = ('nodes', 'file', 'block')
NODE_ENTRY_KEYS = ('node', 'devices')
NODE_KEYS = ('hostnames', 'zone', 'tags')
HOSTNAME_KEYS = ('manage', 'storage')
DEVICE_KEYS = ('name', 'destroydata', 'tags')


class TopologyError(Exception):
    """The topology (or the plan against Heketi) is not acceptable; nothing was written."""

    def __init__(self, errors, title='The topology is invalid'):
        self.errors = list(errors)
        self.title = title
        super().__init__(self.message)

    @property
    def message(self):
        if len(self.errors) == 1:
            return '%s: %s' % (self.title, self.errors[0])
        return '%s (%d problems): %s' % (self.title, len(self.errors), '; '.join(self.errors))


def _kind(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, int):
        return 'an integer'
    if isinstance(value, float):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    if isinstance(value, dict):
        return 'a mapping'
    if isinstance(value, (list, tuple)):
        return 'a list'
    return type(value).__name__


def _show(value):
    if isinstance(value, str):
        return repr(to_text(value))
    if isinstance(value, (dict, list, tuple)):
        return _kind(value)
    return repr(value)


def valid_host(name):
    """Heketi accepts a hostname when it is an IP address or a DNS name (govalidator IsHost).

    A scoped IPv6 address (fe80::1%eth0) is refused: Python accepts it, Heketi does not.
    """
    if '%' in name:
        return False
    try:
        ipaddress.ip_address(to_text(name))
        return True
    except ValueError:
        pass
    return len(name) <= 255 and DNS_NAME_RE.fullmatch(name) is not None


def normalise_device(name):
    """The textual identity of a device path: /dev//sdb, /dev/./sdb and /dev/sdb/ are /dev/sdb.

    Only the text is compared here; what a path resolves to on the node (a by-id link, major:minor)
    is for the device facts read there.
    """
    parts = []
    for part in name.split('/'):
        if part in ('', '.'):
            continue
        if part == '..':
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return '/' + '/'.join(parts)


def loads_json(text, what):
    """json.loads that refuses duplicate keys (json.loads keeps the last one silently).

    Raises TopologyError naming ``what`` (the file) and the key.
    """
    def pairs(items):
        out = {}
        for key, value in items:
            if key in out:
                raise ValueError('the key %r appears twice in one object (JSON keeps only the last; '
                                 'remove one)' % key)
            out[key] = value
        return out

    try:
        return json.loads(text, object_pairs_hook=pairs)
    except ValueError as e:
        raise TopologyError(['%s is not valid JSON: %s' % (what, to_text(e))], title='Cannot load the topology')


class JsonNames(object):
    """Names places in messages by their path in topology.json."""

    def fmt(self, path, msg):
        return '%s: %s' % (path, msg)

    def node(self, path):
        return path

    def ref(self, path):
        """Another place named inside a message."""
        return path

    def duplicate_host(self, path, kind, host, other):
        return '%s: %s hostname %s is already used by %s' % (path, kind, _show(host), other)


class _Validator(object):
    def __init__(self, names):
        self.names = names
        self.errors = []

    def err(self, path, msg):
        self.errors.append(self.names.fmt(path, msg))

    def keys(self, path, value, allowed):
        for key in value:
            if key not in allowed:
                where = '%s.%s' % (path, key) if path else to_text(key)
                self.err(where, 'unknown key (allowed here: %s)' % ', '.join(allowed))

    def mapping(self, path, value, what):
        if not isinstance(value, dict):
            self.err(path, 'must be a mapping (%s), got %s' % (what, _kind(value)))
            return False
        return True

    def boolean(self, path, value):
        if not isinstance(value, bool):
            self.err(path, 'must be a boolean (true or false), got %s' % _show(value))
            return None
        return value

    def tags(self, path, value):
        if value is None:
            return None
        if not isinstance(value, dict):
            self.err(path, 'must be a mapping of tag names to string values, got %s' % _kind(value))
            return None
        if len(value) > MAX_TAGS:
            self.err(path, 'has %d tags, Heketi supports up to %d' % (len(value), MAX_TAGS))
        out = {}
        for k, v in value.items():
            kp = '%s.%s' % (path, k)
            if not isinstance(k, str) or not k:
                self.err(path, 'tag names must be non-empty strings, got %s' % _show(k))
                continue
            if len(k) > 32 or not TAG_NAME_RE.fullmatch(k):
                self.err(kp, 'invalid tag name: 1 to 32 characters of letters, digits, "_", "." and "-"')
            if not isinstance(v, str):
                self.err(kp, 'tag values must be strings, got %s (quote it)' % _show(v))
                continue
            if len(v) > 64:
                self.err(kp, 'tag values may be up to 64 characters, got %d' % len(v))
            out[to_text(k)] = to_text(v)
        return out

    def hostlist(self, path, value):
        if value is None:
            self.err(path, 'is required: a non-empty list of hostnames or IP addresses')
            return []
        if isinstance(value, str):
            # The hint is JSON (topology.json's own language), so it can be pasted as it is.
            self.err(path, 'must be a list of hostnames, got a string (write %s)' % json.dumps([to_text(value)]))
            return []
        if not isinstance(value, list):
            self.err(path, 'must be a list of hostnames, got %s' % _kind(value))
            return []
        if not value:
            self.err(path, 'must not be empty: list at least one hostname or IP address')
            return []
        out = []
        for k, h in enumerate(value):
            hp = '%s[%d]' % (path, k)
            if not isinstance(h, str):
                self.err(hp, 'must be a hostname or IP address string, got %s' % _show(h))
            elif not h.strip():
                self.err(hp, 'must not be empty')
            elif not valid_host(h):
                self.err(hp, '%s is not a valid hostname or IP address%s' % (
                    _show(h), ' (a scoped IPv6 address with %zone is not accepted by Heketi)' if '%' in h else ''))
            elif h.lower() in [o.lower() for o in out]:
                self.err(hp, '%s is listed twice' % _show(h))
            else:
                out.append(to_text(h))
        return out

    def device(self, dp, dev, names):
        """One device entry; returns its normalised form or None."""
        nd = {'path': dp, 'name': None, 'destroydata': False, 'tags': None}
        if isinstance(dev, str):
            name, name_path = dev, dp
        elif isinstance(dev, dict):
            self.keys(dp, dev, DEVICE_KEYS)
            name = dev.get('name')
            name_path = '%s.name' % dp
            if name is None:
                self.err(name_path, 'is required: the device path, such as /dev/sdb')
                return None
            if 'destroydata' in dev and dev['destroydata'] is not None:
                nd['destroydata'] = bool(self.boolean('%s.destroydata' % dp, dev['destroydata']))
            nd['tags'] = self.tags('%s.tags' % dp, dev.get('tags'))
        else:
            self.err(dp, 'must be a device path string or a mapping with "name", got %s' % _kind(dev))
            return None
        if not isinstance(name, str):
            self.err(name_path, 'must be a device path string, got %s' % _show(name))
            return None
        if not DEVICE_NAME_RE.fullmatch(name):
            self.err(name_path, 'must be an absolute device path such as /dev/sdf, of letters, digits and "_.:/-" '
                     '(Heketi\'s rule ^/[a-zA-Z0-9_.:/-]+$), got %s' % _show(name))
            return None
        norm = normalise_device(name)
        if norm in names:
            first_name, first_path = names[norm]
            if first_name == name:
                self.err(name_path, 'device %s is listed twice on this node (also %s)'
                         % (name, self.names.ref(first_path)))
            else:
                self.err(name_path, 'device %s is %s, listed twice on this node (also %s as %s)'
                         % (name, norm, self.names.ref(first_path), first_name))
            return None
        names[norm] = (name, dp)
        nd['name'] = to_text(norm)
        return nd


def validate_topology(data, names=None):
    """Check a whole topology document; return the normalised form or raise TopologyError.

    ``names`` (default JsonNames) decides how messages name places. Normalised form::

        [{'path': 'clusters[0]', 'file': bool|None, 'block': bool|None,
          'nodes': [{'path': 'clusters[0].nodes[0]', 'manage': [...], 'storage': [...],
                     'zone': int, 'tags': dict|None,
                     'devices': [{'path': ..., 'name': str, 'destroydata': bool, 'tags': dict|None}]}]}]

    Device names come back normalised (``normalise_device``).
    """
    names = names or JsonNames()
    v = _Validator(names)
    if not isinstance(data, dict):
        raise TopologyError(['topology: must be a mapping with a "clusters" list, got %s' % _kind(data)])
    v.keys('', data, ROOT_KEYS)
    clusters = data.get('clusters')
    if clusters is None:
        v.err('clusters', 'is required: a list of clusters, each with a "nodes" list')
        raise TopologyError(v.errors)
    if not isinstance(clusters, list):
        v.err('clusters', 'must be a list, got %s' % _kind(clusters))
        raise TopologyError(v.errors)
    if not clusters:
        v.err('clusters', 'must list at least one cluster')
    seen = {'manage': {}, 'storage': {}}
    out = []
    for i, cluster in enumerate(clusters):
        cp = 'clusters[%d]' % i
        if not v.mapping(cp, cluster, 'with a "nodes" list'):
            continue
        v.keys(cp, cluster, CLUSTER_KEYS)
        ncluster = {'path': cp, 'file': None, 'block': None, 'nodes': []}
        for flag in ('file', 'block'):
            if flag in cluster and cluster[flag] is not None:
                ncluster[flag] = v.boolean('%s.%s' % (cp, flag), cluster[flag])
        nodes = cluster.get('nodes')
        if nodes is None:
            v.err('%s.nodes' % cp, 'is required: a list of nodes')
            nodes = []
        elif not isinstance(nodes, list):
            v.err('%s.nodes' % cp, 'must be a list, got %s' % _kind(nodes))
            nodes = []
        elif not nodes:
            v.err('%s.nodes' % cp, 'must list at least one node (Heketi clusters are never created empty)')
        for j, entry in enumerate(nodes):
            node = _node(v, '%s.nodes[%d]' % (cp, j), entry, seen)
            if node is not None:
                ncluster['nodes'].append(node)
        out.append(ncluster)
    if v.errors:
        raise TopologyError(v.errors)
    return out


def _node(v, np_, entry, seen):
    if not v.mapping(np_, entry, 'with "node" and "devices"'):
        return None
    v.keys(np_, entry, NODE_ENTRY_KEYS)
    node = entry.get('node')
    nn = {'path': np_, 'manage': [], 'storage': [], 'zone': None, 'tags': None, 'devices': []}
    if node is None:
        v.err('%s.node' % np_, 'is required: a mapping with "hostnames" and "zone"')
    elif v.mapping('%s.node' % np_, node, 'with "hostnames" and "zone"'):
        for key in node:
            if key == 'cluster':
                v.err('%s.node.cluster' % np_, 'not supported: the module chooses the Heketi cluster '
                      '(the one that already holds the nodes of this file cluster, or a new one)')
            elif key not in NODE_KEYS:
                v.err('%s.node.%s' % (np_, key), 'unknown key (allowed here: %s)' % ', '.join(NODE_KEYS))
        hp = '%s.node.hostnames' % np_
        hostnames = node.get('hostnames')
        if hostnames is None:
            v.err(hp, 'is required: a mapping with "manage" and "storage" lists')
        elif v.mapping(hp, hostnames, 'with "manage" and "storage" lists'):
            v.keys(hp, hostnames, HOSTNAME_KEYS)
            for kind in HOSTNAME_KEYS:
                nn[kind] = v.hostlist('%s.%s' % (hp, kind), hostnames.get(kind))
                for h in nn[kind]:
                    key = h.lower()
                    if key in seen[kind]:
                        v.errors.append(v.names.duplicate_host('%s.%s[%d]' % (hp, kind, hostnames[kind].index(h)),
                                                               kind, h, v.names.node(seen[kind][key])))
                    else:
                        seen[kind][key] = np_
        zp = '%s.node.zone' % np_
        zone = node.get('zone')
        if zone is None:
            v.err(zp, 'is required: an integer >= 1')
        elif isinstance(zone, bool) or not isinstance(zone, int) or zone < 1:
            v.err(zp, 'must be an integer >= 1, got %s' % _show(zone))
        elif zone > MAX_ZONE:
            v.err(zp, 'must be an integer from 1 to %d (a Go int in Heketi), got %s' % (MAX_ZONE, zone))
        else:
            nn['zone'] = int(zone)
        nn['tags'] = v.tags('%s.node.tags' % np_, node.get('tags'))
    devices = entry.get('devices')
    if devices is None:
        devices = []
    elif not isinstance(devices, list):
        v.err('%s.devices' % np_, 'must be a list of device paths or {name: ...} mappings, got %s%s' % (
            _kind(devices), ' (write a list, for example %s)' % json.dumps([to_text(devices)])
            if isinstance(devices, str) else ''))
        devices = []
    names = {}
    for k, dev in enumerate(devices):
        nd = v.device('%s.devices[%d]' % (np_, k), dev, names)
        if nd is not None:
            nn['devices'].append(nd)
    return nn
