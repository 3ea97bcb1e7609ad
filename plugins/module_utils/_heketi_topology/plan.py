# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The plan: what to write to Heketi, as one list of actions (private to glusterfs.heketi).

``make_plan(spec, current)`` compares the validated topology with what Heketi holds (as read by
``HeketiClient.topology()``) and returns ``{'actions': [...], 'drift': [...]}``. Conflicts that
would make a write fail raise TopologyError, still before any write.

Each action is a dict with the public fields the module returns (``action``, ``path``, ``status``
and the details) and private ones, starting with ``_``, that link it to the action it depends on
(``_needs``: the index of the create_cluster or add_node action whose id it needs). Execution
(``execute.py``) and check mode (``predict``) both read this list; nothing else decides what
happens.
"""

from __future__ import annotations

import copy

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology.schema import (
    TopologyError,
    normalise_device,
)

DEVICE_ACTIONS = ('add_device', 'set_device_tags')


def public(actions):
    """The actions as the module returns them (private linkage removed)."""
    return [dict((k, v) for k, v in a.items() if not k.startswith('_')) for a in actions]


def _tag_changes(wanted, current):
    """Tags to send with change_type=update (merge): the wanted keys whose value differs."""
    if not wanted:
        return {}
    current = current or {}
    return dict((k, v) for k, v in wanted.items() if current.get(k) != v)


def _label(node):
    return (node.get('hostnames') or {}).get('manage', ['?'])[0]


def _lower(names):
    return sorted(h.lower() for h in names or [])


class _Plan(object):
    def __init__(self):
        self.actions = []
        self.drift = []

    def add(self, kind, path, needs=None, **details):
        entry = {'action': kind, 'path': path, 'status': 'planned', '_needs': needs}
        entry.update(details)
        self.actions.append(entry)
        return len(self.actions) - 1


def _index(current):
    """Heketi's nodes by lower-case manage and storage hostname, plus duplicates Heketi holds."""
    by_manage, by_storage, cluster_of, dups = {}, {}, {}, []
    for c in current.get('clusters', []):
        for n in c.get('nodes', []):
            cluster_of[n['id']] = c
            for kind, index in (('manage', by_manage), ('storage', by_storage)):
                for h in (n.get('hostnames') or {}).get(kind) or []:
                    other = index.get(h.lower())
                    if other is not None and other['id'] != n['id']:
                        dups.append((kind, h, other, n))
                    else:
                        index[h.lower()] = n
    return by_manage, by_storage, cluster_of, dups


def _copy(node, cluster_of):
    devices = node.get('devices') or []
    bricks = sum(len(d.get('bricks') or []) for d in devices)
    return '%s (cluster %s, %d device(s), %d brick(s))' % (node['id'], cluster_of[node['id']]['id'], len(devices), bricks)


def _duplicate_node_message(kind, host, first, second, cluster_of):
    """Two Heketi nodes with one hostname: which they are and the fix (remove the copy that holds no bricks)."""
    how = ('differing only in case' if (first.get('hostnames') or {}).get(kind) != (second.get('hostnames') or {}).get(kind)
           else 'left by two loads at the same time, or added by hand')
    return ('Heketi holds two nodes with the %s hostname %s (%s): %s and %s. Remove the copy that holds no bricks '
            '(glusterfs.heketi.heketi_node name=<its id> state=absent, then its cluster if it is left empty), then run '
            'again' % (kind, host, how, _copy(first, cluster_of), _copy(second, cluster_of)))


def duplicates(current):
    """Drift entries for duplicates Heketi already holds, whoever created them: two devices of one
    node with the same (normalised) name or recorded path, two nodes with one hostname (differing in
    case). Read from the topology already fetched: no extra request."""
    out = []
    cluster_of = _index(current)[2]
    for kind, host, first, second in _index(current)[3]:
        out.append({
            'path': '', 'field': 'nodes', 'node': second['id'], 'hostname': host, 'ids': [first['id'], second['id']],
            'msg': _duplicate_node_message(kind, host, first, second, cluster_of),
        })
    for c in current.get('clusters', []):
        for n in c.get('nodes', []):
            seen = {}
            for d in n.get('devices') or []:
                names = set([normalise_device(d.get('name') or '')] + [normalise_device(p) for p in d.get('paths') or []])
                clash = sorted(set(seen[x] for x in names if x in seen))
                for x in names:
                    seen.setdefault(x, d['id'])
                if clash:
                    ids = clash + [d['id']]
                    out.append({
                        'path': '', 'field': 'devices', 'node': n['id'], 'hostname': _label(n),
                        'name': d.get('name'), 'ids': ids,
                        'msg': 'Heketi node %s (%s) holds device %s more than once (ids %s): one disk is '
                               'registered twice (two loads at the same time, or an alias); remove the '
                               'duplicate that holds no bricks (glusterfs.heketi.heketi_device state=absent)'
                               % (n['id'], _label(n), d.get('name'), ', '.join(ids)),
                    })
    return out


def make_plan(spec, current):
    """Compare the normalised topology with Heketi's; raise TopologyError on conflicts."""
    errors = []
    by_manage, by_storage, cluster_of, dups = _index(current)
    clusters_by_id = dict((c['id'], c) for c in current.get('clusters', []))
    used_by = {}
    matched = []
    for fc in spec:
        cp = fc['path']
        nodes = []
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
                homes.setdefault(cluster_of[hnode['id']]['id'], []).append(_label(hnode))
            nodes.append((fn, hnode))
        twice = [d for d in dups if any(d[1].lower() == h.lower() for fn, hn in nodes for h in fn['manage'] + fn['storage'])]
        if len(homes) > 1 and twice:
            # Not the file's fault: Heketi holds some of these nodes twice, in different clusters.
            errors.extend('%s: %s' % (cp, _duplicate_node_message(kind, h, first, second, cluster_of))
                          for kind, h, first, second in twice)
        elif len(homes) > 1:
            errors.append('%s: its nodes already sit in %d Heketi clusters (%s); a file cluster must map to one '
                          'Heketi cluster, split it into one file cluster per Heketi cluster'
                          % (cp, len(homes), '; '.join('%s: %s' % (cid, ', '.join(sorted(h))) for cid, h in sorted(homes.items()))))
        hcluster = clusters_by_id[list(homes)[0]] if len(homes) == 1 else None
        if hcluster is not None:
            if hcluster['id'] in used_by:
                errors.append('%s: maps to Heketi cluster %s, like %s; list those nodes in one file cluster'
                              % (cp, hcluster['id'], used_by[hcluster['id']]))
            used_by[hcluster['id']] = cp
        matched.append((fc, hcluster, nodes))
    if errors:
        raise TopologyError(errors, title='The topology conflicts with what Heketi holds, nothing was changed')

    plan = _Plan()
    for fc, hc, nodes in matched:
        cluster_ref = None
        if hc is None:
            cluster_ref = plan.add('create_cluster', fc['path'],
                                   file=True if fc['file'] is None else fc['file'],
                                   block=True if fc['block'] is None else fc['block'])
        else:
            have = {'file': bool(hc['file']), 'block': bool(hc['block'])}
            want = {'file': have['file'] if fc['file'] is None else fc['file'],
                    'block': have['block'] if fc['block'] is None else fc['block']}
            if want != have:
                plan.add('set_cluster_flags', fc['path'], cluster=hc['id'], before=have, after=want)
        for fn, hn in nodes:
            _plan_node(plan, fn, hn, hc, cluster_ref)
    return {'actions': plan.actions, 'drift': plan.drift + duplicates(current)}


def _plan_node(plan, fn, hn, hc, cluster_ref):
    node_ref = None
    if hn is None:
        node_ref = plan.add('add_node', fn['path'], needs=cluster_ref, cluster=hc['id'] if hc else None,
                            manage=fn['manage'], storage=fn['storage'], zone=fn['zone'], tags=fn['tags'] or {})
        hdevs = []
    else:
        _drift(plan.drift, fn, hn)
        changes = _tag_changes(fn['tags'], hn.get('tags'))
        if changes:
            plan.add('set_node_tags', fn['path'], node=hn['id'], hostname=_label(hn), tags=changes,
                     before=dict(hn.get('tags') or {}))
        hdevs = hn.get('devices') or []
    for fd in fn['devices']:
        hd = None
        for d in hdevs:
            if fd['name'] in [normalise_device(p) for p in [d.get('name') or ''] + list(d.get('paths') or [])]:
                hd = d
                break
        if hd is None:
            plan.add('add_device', fd['path'], needs=node_ref, node=hn['id'] if hn else None,
                     hostname=fn['manage'][0], name=fd['name'], destroydata=fd['destroydata'], tags=fd['tags'] or {})
        else:
            changes = _tag_changes(fd['tags'], hd.get('tags'))
            if changes:
                plan.add('set_device_tags', fd['path'], device=hd['id'], node=hn['id'], hostname=fn['manage'][0],
                         name=hd.get('name'), tags=changes, before=dict(hd.get('tags') or {}))


def _drift(drift, fn, hn):
    hostnames = hn.get('hostnames') or {}
    # Hostnames are compared without case, as matching does (DNS names are case-insensitive).
    checks = (
        ('node.zone', 'zone', fn['zone'], hn.get('zone'), fn['zone'], hn.get('zone')),
        ('node.hostnames.manage', 'manage hostnames', _lower(fn['manage']), _lower(hostnames.get('manage')),
         sorted(fn['manage']), sorted(hostnames.get('manage') or [])),
        ('node.hostnames.storage', 'storage hostnames', _lower(fn['storage']), _lower(hostnames.get('storage')),
         sorted(fn['storage']), sorted(hostnames.get('storage') or [])),
    )
    for suffix, what, want, have, shown_want, shown_have in checks:
        if want != have:
            drift.append({
                'path': '%s.%s' % (fn['path'], suffix), 'node': hn['id'], 'hostname': _label(hn),
                'field': suffix.rsplit('.', maxsplit=1)[-1], 'heketi': shown_have, 'topology': shown_want,
                'msg': '%s.%s: Heketi node %s (%s) has %s %s, the topology says %s; Heketi cannot change this '
                       'on an existing node (remove its devices, delete and re-add the node to apply it)'
                       % (fn['path'], suffix, hn['id'], _label(hn), what, shown_have, shown_want),
            })


# --------------------------------------------------------------------------- views for diff

def summarize(topology, ids=False):
    """A compact view of a Heketi topology for diff output (id-free unless ``ids``)."""
    out = []
    for c in topology.get('clusters', []):
        nodes = []
        for n in c.get('nodes', []):
            h = n.get('hostnames') or {}
            view = {
                'manage': list(h.get('manage') or []), 'storage': list(h.get('storage') or []),
                'zone': n.get('zone'), 'tags': dict(n.get('tags') or {}),
                'devices': [{'name': d.get('name'), 'tags': dict(d.get('tags') or {}), '_id': d.get('id')}
                            for d in (n.get('devices') or [])],
                '_id': n.get('id'),
            }
            nodes.append(view)
        out.append({'id': c.get('id'), 'file': bool(c.get('file')), 'block': bool(c.get('block')), 'nodes': nodes})
    return _tidy({'clusters': out}, ids)


def _tidy(view, ids):
    for c in view['clusters']:
        c['nodes'].sort(key=lambda n: n['manage'])
        for n in c['nodes']:
            n['devices'].sort(key=lambda d: d['name'] or '')
            if not ids:
                n.pop('_id', None)
                for d in n['devices']:
                    d.pop('_id', None)
    return view


def predict(current, actions):
    """The summary Heketi would show after the actions ran without failures (check mode)."""
    after = summarize(current, ids=True)
    clusters = dict((c['id'], c) for c in after['clusters'])
    nodes = dict((n['_id'], n) for c in after['clusters'] for n in c['nodes'])
    devices = dict((d['_id'], d) for n in nodes.values() for d in n['devices'])
    made = {}
    for i, a in enumerate(actions):
        kind = a['action']
        if kind == 'create_cluster':
            made[i] = {'id': '(new)', 'file': a['file'], 'block': a['block'], 'nodes': []}
            after['clusters'].append(made[i])
        elif kind == 'set_cluster_flags':
            clusters[a['cluster']].update(a['after'])
        elif kind == 'add_node':
            made[i] = {'manage': list(a['manage']), 'storage': list(a['storage']), 'zone': a['zone'],
                       'tags': dict(a['tags']), 'devices': []}
            home = made[a['_needs']] if a['_needs'] is not None else clusters[a['cluster']]
            home['nodes'].append(made[i])
        elif kind == 'set_node_tags':
            nodes[a['node']]['tags'].update(a['tags'])
        elif kind == 'add_device':
            node = made[a['_needs']] if a['_needs'] is not None else nodes[a['node']]
            node['devices'].append({'name': a['name'], 'tags': dict(a['tags'])})
        elif kind == 'set_device_tags':
            devices[a['device']]['tags'].update(a['tags'])
    return _tidy(copy.deepcopy(after), False)
