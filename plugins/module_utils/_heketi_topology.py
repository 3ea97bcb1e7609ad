# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Validation and reconciliation of a Heketi topology (topology.json schema).

Private to the glusterfs.heketi collection. Three steps, no write before the
last one:

1. ``validate_topology(data)`` checks the whole document and returns it in a
   normalised form, or raises TopologyError listing every problem with its
   path (``clusters[0].nodes[2].node.zone: must be an integer >= 1, got 0``).
2. ``make_plan(spec, current)`` compares it with what Heketi holds (as read by
   ``HeketiClient.topology()``) and decides what to add or update; conflicts
   that would make a write fail are raised here, still before any write.
3. ``execute(client, plan, ...)`` performs the plan: clusters and nodes one
   after another, devices concurrently across nodes within a bound.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import threading

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi import HeketiError

try:
    from concurrent.futures import ThreadPoolExecutor
except ImportError:  # pragma: no cover
    ThreadPoolExecutor = None

# Heketi's own rules (pkg/glusterfs/api/types.go).
DEVICE_NAME_RE = re.compile(r'^/[a-zA-Z0-9_.:/-]+$')
TAG_NAME_RE = re.compile(r'^[a-zA-Z0-9_.-]+$')
# govalidator's DNSName, which Heketi's is.Host uses for hostnames.
DNS_NAME_RE = re.compile(r'^([a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62}){1}(\.[a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62})*[._]?$')
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
        super(TopologyError, self).__init__(self.message)

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
    """Heketi accepts a hostname when it is an IP address or a DNS name (govalidator IsHost)."""
    try:
        ipaddress.ip_address(to_text(name))
        return True
    except ValueError:
        pass
    return len(name) <= 255 and DNS_NAME_RE.match(name) is not None


class _Validator(object):
    def __init__(self):
        self.errors = []

    def err(self, path, msg):
        self.errors.append('%s: %s' % (path, msg))

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
            if len(k) > 32 or not TAG_NAME_RE.match(k):
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
            self.err(path, 'must be a list of hostnames, got a string (write [%s])' % _show(value))
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
                self.err(hp, '%s is not a valid hostname or IP address' % _show(h))
            elif h in out:
                self.err(hp, '%s is listed twice' % _show(h))
            else:
                out.append(to_text(h))
        return out


def validate_topology(data):
    """Check a whole topology document; return the normalised form or raise TopologyError.

    Normalised form::

        [{'path': 'clusters[0]', 'file': bool|None, 'block': bool|None,
          'nodes': [{'path': 'clusters[0].nodes[0]', 'manage': [...], 'storage': [...],
                     'zone': int, 'tags': dict|None,
                     'devices': [{'path': ..., 'name': str, 'destroydata': bool, 'tags': dict|None}]}]}]
    """
    v = _Validator()
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
    manage_seen = {}
    storage_seen = {}
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
            np_ = '%s.nodes[%d]' % (cp, j)
            if not v.mapping(np_, entry, 'with "node" and "devices"'):
                continue
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
                    nn['manage'] = v.hostlist('%s.manage' % hp, hostnames.get('manage'))
                    nn['storage'] = v.hostlist('%s.storage' % hp, hostnames.get('storage'))
                    for kind, seen, names in (('manage', manage_seen, nn['manage']),
                                              ('storage', storage_seen, nn['storage'])):
                        for k, h in enumerate(names):
                            key = h.lower()
                            if key in seen:
                                v.err('%s.%s[%d]' % (hp, kind, hostnames[kind].index(h)),
                                      '%s hostname %s is already used by %s' % (kind, _show(h), seen[key]))
                            else:
                                seen[key] = np_
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
                v.err('%s.devices' % np_, 'must be a list of device paths or mappings, got %s' % _kind(devices))
                devices = []
            names = {}
            for k, dev in enumerate(devices):
                dp = '%s.devices[%d]' % (np_, k)
                nd = {'path': dp, 'name': None, 'destroydata': False, 'tags': None}
                if isinstance(dev, str):
                    name = dev
                    name_path = dp
                elif isinstance(dev, dict):
                    v.keys(dp, dev, DEVICE_KEYS)
                    name = dev.get('name')
                    name_path = '%s.name' % dp
                    if name is None:
                        v.err(name_path, 'is required: the device path, such as /dev/sdb')
                        continue
                    if 'destroydata' in dev and dev['destroydata'] is not None:
                        nd['destroydata'] = bool(v.boolean('%s.destroydata' % dp, dev['destroydata']))
                    nd['tags'] = v.tags('%s.tags' % dp, dev.get('tags'))
                else:
                    v.err(dp, 'must be a device path string or a mapping with "name", got %s' % _kind(dev))
                    continue
                if not isinstance(name, str):
                    v.err(name_path, 'must be a device path string, got %s' % _show(name))
                    continue
                if not DEVICE_NAME_RE.match(name):
                    v.err(name_path, 'must be an absolute path of letters, digits and "_.:/-" '
                          '(Heketi\'s rule ^/[a-zA-Z0-9_.:/-]+$), got %s' % _show(name))
                    continue
                if name in names:
                    v.err(name_path, 'device %s is listed twice on this node (also %s)' % (name, names[name]))
                    continue
                names[name] = dp
                nd['name'] = to_text(name)
                nn['devices'].append(nd)
            ncluster['nodes'].append(nn)
        out.append(ncluster)
    if v.errors:
        raise TopologyError(v.errors)
    return out


# --------------------------------------------------------------------------- reconcile

def _tag_changes(wanted, current):
    """Tags to send with change_type=update (merge): the wanted keys whose value differs."""
    if not wanted:
        return {}
    current = current or {}
    return dict((k, v) for k, v in wanted.items() if current.get(k) != v)


def _label(node):
    return (node.get('hostnames') or {}).get('manage', ['?'])[0]


def make_plan(spec, current):
    """Compare the normalised topology with Heketi's; raise TopologyError on conflicts.

    Returns a dict with ``clusters`` (per file cluster: the Heketi cluster, what
    to create or update, per node and device), ``actions`` (the ordered list
    reported to the user) and ``drift``.
    """
    errors = []
    drift = []
    actions = []
    by_manage = {}
    by_storage = {}
    cluster_of = {}
    for c in current.get('clusters', []):
        for n in c.get('nodes', []):
            cluster_of[n['id']] = c
            for h in (n.get('hostnames') or {}).get('manage') or []:
                by_manage[h.lower()] = n
            for h in (n.get('hostnames') or {}).get('storage') or []:
                by_storage[h.lower()] = n
    clusters_by_id = dict((c['id'], c) for c in current.get('clusters', []))
    used_by = {}
    plan_clusters = []
    for fc in spec:
        cp = fc['path']
        nodes_plan = []
        homes = {}
        for fn in fc['nodes']:
            matches = []
            for h in fn['manage']:
                hn = by_manage.get(h.lower())
                if hn is not None and hn not in matches:
                    matches.append(hn)
            if len(matches) > 1:
                owners = ', '.join('%s (%s)' % (m['id'], _label(m)) for m in matches)
                errors.append('%s.node.hostnames.manage: these hostnames belong to %d different Heketi nodes (%s); '
                              'a node must match at most one' % (fn['path'], len(matches), owners))
                continue
            hnode = matches[0] if matches else None
            if hnode is None:
                for k, h in enumerate(fn['storage']):
                    owner = by_storage.get(h.lower())
                    if owner is not None:
                        errors.append('%s.node.hostnames.storage[%d]: storage hostname %s is already used by Heketi '
                                      'node %s (manage %s), which none of this node\'s manage hostnames match'
                                      % (fn['path'], k, h, owner['id'], _label(owner)))
            else:
                home = cluster_of[hnode['id']]
                homes.setdefault(home['id'], []).append(_label(hnode))
            nodes_plan.append({'spec': fn, 'heketi': hnode})
        if len(homes) > 1:
            errors.append('%s: its nodes already sit in %d Heketi clusters (%s); a file cluster must map to one '
                          'Heketi cluster, split it into one file cluster per Heketi cluster'
                          % (cp, len(homes), '; '.join('%s: %s' % (cid, ', '.join(sorted(h))) for cid, h in sorted(homes.items()))))
        hcluster = clusters_by_id[list(homes)[0]] if len(homes) == 1 else None
        if hcluster is not None:
            if hcluster['id'] in used_by:
                errors.append('%s: maps to Heketi cluster %s, like %s; list those nodes in one file cluster'
                              % (cp, hcluster['id'], used_by[hcluster['id']]))
            used_by[hcluster['id']] = cp
        plan_clusters.append({'path': cp, 'spec': fc, 'heketi': hcluster, 'nodes': nodes_plan})
    if errors:
        raise TopologyError(errors, title='The topology conflicts with what Heketi holds, nothing was changed')

    for pc in plan_clusters:
        fc, hc, cp = pc['spec'], pc['heketi'], pc['path']
        pc['create'] = None
        pc['flags'] = None
        if hc is None:
            flags = {'file': True if fc['file'] is None else fc['file'],
                     'block': True if fc['block'] is None else fc['block']}
            pc['create'] = _action(actions, 'create_cluster', cp, file=flags['file'], block=flags['block'])
        else:
            want = {'file': hc['file'] if fc['file'] is None else fc['file'],
                    'block': hc['block'] if fc['block'] is None else fc['block']}
            if want != {'file': bool(hc['file']), 'block': bool(hc['block'])}:
                pc['flags'] = _action(actions, 'set_cluster_flags', cp, cluster=hc['id'],
                                      before={'file': bool(hc['file']), 'block': bool(hc['block'])}, after=want)
        for np_ in pc['nodes']:
            fn, hn = np_['spec'], np_['heketi']
            np_['add'] = None
            np_['tags'] = None
            np_['devices'] = []
            if hn is None:
                np_['add'] = _action(actions, 'add_node', fn['path'], manage=fn['manage'], storage=fn['storage'],
                                     zone=fn['zone'], tags=fn['tags'] or {})
                hdevs = []
            else:
                _drift(drift, fn, hn)
                changes = _tag_changes(fn['tags'], hn.get('tags'))
                if changes:
                    np_['tags'] = _action(actions, 'set_node_tags', fn['path'], node=hn['id'], hostname=_label(hn),
                                          tags=changes, before=dict(hn.get('tags') or {}))
                hdevs = hn.get('devices') or []
            for fd in fn['devices']:
                hd = None
                for d in hdevs:
                    if d.get('name') == fd['name'] or fd['name'] in (d.get('paths') or []):
                        hd = d
                        break
                dp = {'spec': fd, 'heketi': hd, 'add': None, 'tags': None}
                if hd is None:
                    dp['add'] = _action(actions, 'add_device', fd['path'], hostname=fn['manage'][0], name=fd['name'],
                                        destroydata=fd['destroydata'], tags=fd['tags'] or {})
                else:
                    changes = _tag_changes(fd['tags'], hd.get('tags'))
                    if changes:
                        dp['tags'] = _action(actions, 'set_device_tags', fd['path'], device=hd['id'],
                                             hostname=fn['manage'][0], name=hd.get('name'), tags=changes,
                                             before=dict(hd.get('tags') or {}))
                np_['devices'].append(dp)
    return {'clusters': plan_clusters, 'actions': actions, 'drift': drift}


def _action(actions, kind, path, **details):
    entry = {'action': kind, 'path': path, 'status': 'planned'}
    entry.update(details)
    actions.append(entry)
    return entry


def _drift(drift, fn, hn):
    hostnames = hn.get('hostnames') or {}
    checks = (
        ('node.zone', 'zone', fn['zone'], hn.get('zone')),
        ('node.hostnames.manage', 'manage hostnames', sorted(fn['manage']), sorted(hostnames.get('manage') or [])),
        ('node.hostnames.storage', 'storage hostnames', sorted(fn['storage']), sorted(hostnames.get('storage') or [])),
    )
    for suffix, what, want, have in checks:
        if want != have:
            drift.append({
                'path': '%s.%s' % (fn['path'], suffix), 'node': hn['id'], 'hostname': _label(hn),
                'field': suffix.rsplit('.', maxsplit=1)[-1], 'heketi': have, 'topology': want,
                'msg': '%s.%s: Heketi node %s (%s) has %s %s, the topology says %s; Heketi cannot change this '
                       'on an existing node (remove its devices, delete and re-add the node to apply it)'
                       % (fn['path'], suffix, hn['id'], _label(hn), what, have, want),
            })


# --------------------------------------------------------------------------- views for diff

def summarize(topology):
    """A compact, id-free view of a Heketi topology for diff output."""
    out = []
    for c in topology.get('clusters', []):
        nodes = []
        for n in c.get('nodes', []):
            h = n.get('hostnames') or {}
            nodes.append({
                'manage': list(h.get('manage') or []), 'storage': list(h.get('storage') or []),
                'zone': n.get('zone'), 'tags': dict(n.get('tags') or {}),
                'devices': sorted(({'name': d.get('name'), 'tags': dict(d.get('tags') or {})}
                                   for d in (n.get('devices') or [])), key=lambda d: d['name'] or ''),
            })
        nodes.sort(key=lambda n: n['manage'])
        out.append({'id': c.get('id'), 'file': bool(c.get('file')), 'block': bool(c.get('block')), 'nodes': nodes})
    return {'clusters': out}


def predict(before, plan):
    """The summary Heketi would show after the plan ran without failures (check mode)."""
    after = copy.deepcopy(before)
    by_id = dict((c['id'], c) for c in after['clusters'])
    node_view = {}
    for c in after['clusters']:
        for n in c['nodes']:
            for h in n['manage']:
                node_view[h.lower()] = n
    for pc in plan['clusters']:
        if pc['create']:
            cview = {'id': '(new)', 'file': pc['create']['file'], 'block': pc['create']['block'], 'nodes': []}
            after['clusters'].append(cview)
        else:
            cview = by_id[pc['heketi']['id']]
            if pc['flags']:
                cview.update(pc['flags']['after'])
        for np_ in pc['nodes']:
            fn = np_['spec']
            if np_['add']:
                nview = {'manage': list(fn['manage']), 'storage': list(fn['storage']), 'zone': fn['zone'],
                         'tags': dict(fn['tags'] or {}), 'devices': []}
                cview['nodes'].append(nview)
            else:
                nview = node_view[_label(np_['heketi']).lower()]
                if np_['tags']:
                    nview['tags'].update(np_['tags']['tags'])
            for dp in np_['devices']:
                if dp['add']:
                    nview['devices'].append({'name': dp['spec']['name'], 'tags': dict(dp['spec']['tags'] or {})})
                elif dp['tags']:
                    for d in nview['devices']:
                        if d['name'] == dp['heketi'].get('name'):
                            d['tags'].update(dp['tags']['tags'])
                            break
    for c in after['clusters']:
        c['nodes'].sort(key=lambda n: n['manage'])
        for n in c['nodes']:
            n['devices'].sort(key=lambda d: d['name'] or '')
    return after


# --------------------------------------------------------------------------- execution

class _Runner(object):
    def __init__(self, client, max_inflight):
        self.client = client
        self.slots = threading.BoundedSemaphore(max(1, max_inflight))
        self.max_inflight = max(1, max_inflight)
        self.failures = []
        self.lock = threading.Lock()

    def write(self, action, method, path, body, slot=True):
        """One write; marks the action done or failed. Returns the data or None on failure."""
        try:
            if slot:
                with self.slots:
                    data = self.client.request(method, path, body)[1]
            else:
                data = self.client.request(method, path, body)[1]
        except HeketiError as e:
            action['status'] = 'failed'
            action['error'] = e.message
            with self.lock:
                self.failures.append({'path': action['path'], 'action': action['action'], 'status': e.status,
                                      'msg': e.body or e.message, 'error': e.message})
            return None
        action['status'] = 'done'
        return data if data is not None else {}

    def skip(self, action, why):
        action['status'] = 'skipped'
        action['error'] = why

    def node_devices(self, node_id, np_):
        for dp in np_['devices']:
            fd = dp['spec']
            if dp['add']:
                body = {'name': fd['name'], 'node': node_id, 'destroydata': bool(fd['destroydata'])}
                if fd['tags']:
                    body['tags'] = fd['tags']
                self.write(dp['add'], 'POST', '/devices', body)
            elif dp['tags']:
                self.write(dp['tags'], 'POST', '/devices/%s/tags' % dp['heketi']['id'],
                           {'change_type': 'update', 'tags': dp['tags']['tags']}, slot=False)


def execute(client, plan, max_inflight=8):
    """Run the plan. Returns the list of failures (empty when everything worked)."""
    runner = _Runner(client, max_inflight)
    pool = None
    futures = []
    if ThreadPoolExecutor is not None and max_inflight > 1:
        pool = ThreadPoolExecutor(max_workers=max_inflight)
    try:
        for pc in plan['clusters']:
            cluster_id = pc['heketi']['id'] if pc['heketi'] else None
            created = False
            if pc['create']:
                data = runner.write(pc['create'], 'POST', '/clusters',
                                    {'file': pc['create']['file'], 'block': pc['create']['block']}, slot=False)
                if data is None:
                    for np_ in pc['nodes']:
                        _skip_node(runner, np_, 'cluster creation failed')
                    continue
                cluster_id = data.get('id')
                pc['create']['cluster'] = cluster_id
                created = True
            if pc['flags']:
                runner.write(pc['flags'], 'POST', '/clusters/%s/flags' % cluster_id, pc['flags']['after'], slot=False)
            joined = 0
            for np_ in pc['nodes']:
                fn = np_['spec']
                if np_['add']:
                    body = {'zone': fn['zone'], 'hostnames': {'manage': fn['manage'], 'storage': fn['storage']},
                            'cluster': cluster_id}
                    if fn['tags']:
                        body['tags'] = fn['tags']
                    data = runner.write(np_['add'], 'POST', '/nodes', body)
                    if data is None:
                        _skip_node(runner, np_, 'node add failed', node_too=False)
                        continue
                    node_id = data.get('id')
                    np_['add']['node'] = node_id
                    joined += 1
                else:
                    node_id = np_['heketi']['id']
                    joined += 1
                    if np_['tags']:
                        runner.write(np_['tags'], 'POST', '/nodes/%s/tags' % node_id,
                                     {'change_type': 'update', 'tags': np_['tags']['tags']}, slot=False)
                if not np_['devices']:
                    continue
                if pool is not None:
                    futures.append(pool.submit(runner.node_devices, node_id, np_))
                else:
                    runner.node_devices(node_id, np_)
            if created and joined == 0:
                # Never leave an empty cluster behind.
                try:
                    client.request('DELETE', '/clusters/%s' % cluster_id)
                    pc['create']['status'] = 'reverted'
                    pc['create']['error'] = 'no node could join it, so it was deleted again'
                except HeketiError as e:
                    runner.failures.append({'path': pc['path'], 'action': 'delete_empty_cluster', 'status': e.status,
                                            'msg': e.body or e.message, 'error': e.message})
        for f in futures:
            f.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return runner.failures


def _skip_node(runner, np_, why, node_too=True):
    if node_too and np_.get('add'):
        runner.skip(np_['add'], why)
    if np_.get('tags'):
        runner.skip(np_['tags'], why)
    for dp in np_.get('devices') or []:
        for key in ('add', 'tags'):
            if dp.get(key):
                runner.skip(dp[key], why)
