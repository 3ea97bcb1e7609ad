# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The topology role's model: the topology from the inventory or the user's topology.json, checked by
the one validator (``schema.py``), the wipe switch applied, every node matched to the inventory host
whose devices are checked, and the device facts read on the nodes judged (private to glusterfs.heketi).

Used by the filter plugin ``topology_model``; contacts no host. The devices are judged on each node
(module ``storage_device_info``).
"""

from __future__ import annotations

import re

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology.schema import (
    JsonNames,
    TopologyError,
    _show,
    loads_json,
    validate_topology,
)

# The volume groups Heketi creates on its devices: a device already one of Heketi's PVs is not foreign.

_NODE_PATH_RE = re.compile(r'^(clusters\[\d+\]\.nodes\[\d+\])(.*)$')
_VARIABLES = (
    ('.node.hostnames.manage', 'topology_manage'),
    ('.node.hostnames.storage', 'topology_storage'),
    ('.node.zone', 'topology_zone'),
    ('.node.tags', 'topology_tags'),
    ('.devices', 'topology_devices'),
)


class InventoryNames(JsonNames):
    """Names places by the inventory host and its variable: ``node3: topology_zone must be ...``."""

    def __init__(self, hosts, scalar):
        self.hosts = hosts      # node path -> inventory host
        self.scalar = scalar    # (host, variable) given as a string, not a list: no [index] in names

    def _split(self, path):
        m = _NODE_PATH_RE.match(path)
        if not m or m.group(1) not in self.hosts:
            return None, path
        host, rest = self.hosts[m.group(1)], m.group(2)
        for suffix, variable in _VARIABLES:
            if rest.startswith(suffix):
                tail = rest[len(suffix):]
                if (host, variable) in self.scalar:
                    tail = re.sub(r'^\[\d+\]', '', tail)
                return host, variable + tail
        return host, rest.lstrip('.')

    def fmt(self, path, msg):
        host, where = self._split(path)
        if host is None:
            return '%s: %s' % (path, msg)
        return '%s: %s %s' % (host, where, msg) if where else '%s: %s' % (host, msg)

    def node(self, path):
        return self.hosts.get(path, path)

    def ref(self, path):
        return self._split(path)[1]

    def duplicate_host(self, path, kind, host, other):
        me, variable = self._split(path)
        variable = re.sub(r'\[\d+\]$', '', variable)
        return ('%s: %s address %s is also used by %s (each node needs its own %s address; check %s / ansible_host)'
                % (me, variable, host, other, kind, variable))


def _as_list(value):
    return [value] if isinstance(value, str) else value


def from_inventory(hosts, hostvars, defaults):
    """The topology.json document built from the storage hosts' variables, and its InventoryNames.

    Returns (document, names, errors): errors are the inventory-only rules (a node needs devices, a
    cluster key); everything Heketi's schema says is checked by validate_topology with the names.
    """
    errors = []
    clusters = []
    by_key = {}
    paths = {}
    scalar = set()
    for host in hosts:
        hv = hostvars[host]

        def var(name, default, hv=hv):
            return hv[name] if name in hv else default

        devices = var('topology_devices', defaults.get('devices', []))
        if isinstance(devices, list) and not devices:
            errors.append('%s: topology_devices is empty (set it, or topology_default_devices)' % host)
        zone = var('topology_zone', defaults.get('zone', 1))
        if isinstance(zone, str) and zone.strip().isdigit():
            zone = int(zone)  # inventory files give strings
        manage = var('topology_manage', var('ansible_host', host))
        storage = var('topology_storage', manage)
        for variable, value in (('topology_manage', manage), ('topology_storage', storage)):
            if isinstance(value, str):
                scalar.add((host, variable))
        tags = var('topology_tags', {})
        key = var('topology_cluster', defaults.get('cluster', 'default'))
        if not isinstance(key, str) or not key:
            errors.append('%s: topology_cluster must be a non-empty string, got %s' % (host, _show(key)))
            key = '(invalid)'
        if key not in by_key:
            by_key[key] = {'nodes': []}
            clusters.append(by_key[key])
        node = {'hostnames': {'manage': _as_list(manage), 'storage': _as_list(storage)}, 'zone': zone}
        if tags != {}:
            node['tags'] = tags
        paths['clusters[%d].nodes[%d]' % (clusters.index(by_key[key]), len(by_key[key]['nodes']))] = host
        by_key[key]['nodes'].append({'node': node, 'devices': devices})
    return {'clusters': clusters}, InventoryNames(paths, scalar), errors


def to_document(spec, wipe):
    """The validated topology as topology.json, destroydata kept only where the wipe switch is on.

    Returns (document, gated): gated lists the devices whose destroydata: true was dropped.
    """
    gated = []
    clusters = []
    for c in spec:
        out = {'nodes': []}
        for flag in ('file', 'block'):
            if c[flag] is not None:
                out[flag] = c[flag]
        for n in c['nodes']:
            node = {'hostnames': {'manage': n['manage'], 'storage': n['storage']}, 'zone': n['zone']}
            if n['tags']:
                node['tags'] = n['tags']
            devices = []
            for d in n['devices']:
                if d['destroydata'] and not wipe:
                    gated.append(d['path'])
                destroy = d['destroydata'] and wipe
                if destroy or d['tags']:
                    entry = {'name': d['name'], 'destroydata': destroy}
                    if d['tags']:
                        entry['tags'] = d['tags']
                    devices.append(entry)
                else:
                    devices.append(d['name'])
            out['nodes'].append({'node': node, 'devices': devices})
        clusters.append(out)
    return {'clusters': clusters}, gated


def addresses(hosts, hostvars):
    """Every name an inventory host is known by (inventory name, ansible_host, topology_manage), lower case."""
    out = {}
    for host in hosts:
        hv = hostvars[host]
        names = [host, hv['ansible_host'] if 'ansible_host' in hv else host]
        manage = hv['topology_manage'] if 'topology_manage' in hv else []
        names += [m for m in _as_list(manage) if isinstance(m, str)] if isinstance(manage, (str, list)) else []
        for name in names:
            if isinstance(name, str):
                out.setdefault(name.lower(), host)
    return out


def model(hosts, hostvars, group, src, src_text, defaults, wipe, check_devices, targets=None):
    """The role's whole model. Returns {'errors', 'topology', 'load', 'nodes', 'gated', 'untargeted'};
    errors name hosts and variables (inventory) or the file and JSON path (topology_src).

    ``targets``: the inventory hosts this run targets (``--limit``), None for all. A node matched to an
    inventory host outside them is neither device-checked (``nodes``) nor loaded (``load``, the topology
    without it; ``topology`` stays whole), and is listed in ``untargeted``: a run limited to a new host
    changes only that host, and never hands Heketi a device nobody inspected."""
    result = {'errors': [], 'topology': None, 'load': None, 'nodes': [], 'gated': [], 'untargeted': []}
    if src:
        try:
            data = loads_json(src_text, 'topology_src=%s' % src)
            spec = validate_topology(data)
        except TopologyError as e:
            result['errors'] = ['topology_src=%s: %s' % (src, err) if not err.startswith('topology_src=') else err
                                for err in e.errors]
            return result
    else:
        if not hosts:
            result['errors'] = ['topology_src is empty and the inventory group %s has no hosts: set one of them'
                                % group]
            return result
        data, names, errors = from_inventory(hosts, hostvars, defaults)
        try:
            spec = validate_topology(data, names=names)
        except TopologyError as e:
            errors += e.errors
        if errors:
            result['errors'] = errors
            return result
    result['topology'], result['gated'] = to_document(spec, wipe)
    known = addresses(hosts, hostvars)
    targeted = None if targets is None else set(targets)
    unmatched = []
    loaded = []
    for c in spec:
        loaded.append(dict(c, nodes=[]))
        for n in c['nodes']:
            host = next((known[m.lower()] for m in n['manage'] if m.lower() in known), None)
            if host is None:
                unmatched.append('%s (manage %s)' % (n['path'], n['manage'][0]))
            elif targeted is not None and host not in targeted:
                result['untargeted'].append(host)
                continue
            loaded[-1]['nodes'].append(n)
            result['nodes'].append({
                'path': n['path'], 'host': host or n['manage'][0], 'inventory': host is not None,
                'manage': n['manage'][0],
                'devices': [{'name': d['name'], 'destroydata': d['destroydata'] and wipe} for d in n['devices']],
            })
    result['load'] = to_document([c for c in loaded if c['nodes']], wipe)[0] if result['untargeted'] else result['topology']
    if unmatched and check_devices:
        result['errors'].append(
            'topology_src=%s: %d node(s) match no host of the inventory group %s (by inventory name, ansible_host '
            'or topology_manage), so their devices cannot be checked: %s. Add each to that group (or set '
            'topology_manage to its manage address on its host), or set topology_check_devices: false to load '
            'them unchecked' % (src, len(unmatched), group, ', '.join(unmatched)))
    return result
