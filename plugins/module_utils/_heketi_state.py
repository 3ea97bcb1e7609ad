# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Heketi's node and device state machine, shared by heketi_device and heketi_node. PRIVATE.

What the server enforces (read from heketi/heketi v10.3.0 apps/glusterfs/device_entry.go,
node_entry.go, app_device.go, app_node.go, brick_allocate.go; checked on the running server):

* device: online <-> offline; offline -> failed ("remove": every brick is replaced elsewhere);
  failed -> offline is accepted (v10.3.0), failed -> online is refused; online -> failed is refused
  ("Device must be offline before remove operation is performed").
* DELETE /devices/{id}: only from failed (400 "is not in failed state"), 409 while bricks remain.
* node: online <-> offline; offline -> failed removes each device; failed -> online/offline refused.
  DELETE /nodes/{id}: 409 while the node has devices; Heketi then detaches the peer.
* a brick moved away from a device goes to an online device of an online node of the same cluster,
  never the old device, never a node holding another brick of the same brick set, with room for
  the brick (and, with zone checking strict, in a zone no other brick of the set uses). When no
  device qualifies, Heketi fails with "no device was found to replace it".

``plan_removal`` repeats that rule on what the API shows, so the modules refuse BEFORE changing
anything. The API does not give the brick order of a volume (Heketi reads it from gluster), so
for a volume of several brick sets the check treats all its bricks as one set (conservative).
"""

from __future__ import annotations

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi import HeketiError

# Heketi calls "removed" failed.
SHOWN = {'online': 'online', 'offline': 'offline', 'failed': 'removed'}


class Refusal(HeketiError):
    """Heketi would refuse the step (or lose data): nothing was changed."""


def index(topology):
    """Nodes, devices and volumes of a topology (``HeketiClient.topology()``) by id."""
    nodes, devices, volumes = {}, {}, {}
    for cluster in topology.get('clusters') or []:
        for node in cluster.get('nodes') or []:
            node = dict(node, cluster=node.get('cluster') or cluster.get('id'))
            nodes[node['id']] = node
            for dev in node.get('devices') or []:
                devices[dev['id']] = dict(dev, node=node['id'], cluster=node['cluster'])
        for vol in cluster.get('volumes') or []:
            if isinstance(vol, dict):
                volumes[vol['id']] = vol
    return nodes, devices, volumes


def find_node(nodes, ref, field='node'):
    """The node whose id, manage or storage hostname is ``ref``."""
    ref = (ref or '').strip()
    if not ref:
        raise Refusal('%s: must name a node (its id, manage or storage hostname)' % field)
    if ref in nodes:
        return nodes[ref]
    found = [n for n in nodes.values()
             if ref in ((n.get('hostnames') or {}).get('manage') or [])
             or ref in ((n.get('hostnames') or {}).get('storage') or [])]
    if len(found) > 1:
        raise Refusal('%s: %r names %d nodes (%s); give the node id'
                      % (field, ref, len(found), ', '.join(n['id'] for n in found)))
    return found[0] if found else None


def find_device(nodes, devices, device_id=None, node_ref=None, name=None):
    """The device given by id, or by node and path (None when it does not exist)."""
    if device_id:
        return devices.get(device_id)
    node = find_node(nodes, node_ref)
    if node is None:
        raise Refusal('node: Heketi has no node %r (ids, manage and storage hostnames were searched)' % node_ref)
    found = [devices[d['id']] for d in node.get('devices') or [] if d.get('name') == name]
    if len(found) > 1:
        raise Refusal('name: node %s holds %d devices called %s (%s); Heketi allows duplicate names, '
                      'give the device id' % (node_ref, len(found), name, ', '.join(d['id'] for d in found)))
    return found[0] if found else None


def set_size(volume):
    """Bricks per brick set of a volume."""
    durability = volume.get('durability') or {}
    kind = durability.get('type') or 'none'
    if kind == 'replicate':
        return int((durability.get('replicate') or {}).get('replica') or 1)
    if kind == 'disperse':
        d = durability.get('disperse') or {}
        return int(d.get('data') or 0) + int(d.get('redundancy') or 0)
    return 1


def _zone_strict(volume, default):
    for opt in volume.get('glustervolumeoptions') or []:
        parts = str(opt).split()
        if len(parts) == 2 and parts[0] == 'user.heketi.zone-checking':
            return parts[1] == 'strict'
    return default == 'strict'


def plan_removal(topology, device_ids, node_ids=(), zone_checking='none'):
    """Where Heketi could move every brick of ``device_ids`` (all on nodes ``node_ids`` when a node goes).

    Returns a list of moves ``{brick, volume, from_device, from_node, to_device, to_node, size}``.
    Raises Refusal naming each brick that has nowhere to go, before anything is changed.
    """
    nodes, devices, volumes = index(topology)
    leaving = set(device_ids)
    leaving_nodes = set(node_ids)
    free = dict((d['id'], int((d.get('storage') or {}).get('free') or 0)) for d in devices.values())
    # nodes (and zones) holding each volume's bricks that stay where they are
    holders = {}
    for dev in devices.values():
        for brick in dev.get('bricks') or []:
            holders.setdefault(brick.get('volume'), []).append((brick['id'], dev['node']))
    moves, problems = [], []
    for dev_id in device_ids:
        dev = devices[dev_id]
        bricks = dev.get('bricks') or []
        used = int((dev.get('storage') or {}).get('used') or 0)
        data = sum(int(b.get('size') or 0) for b in bricks) or 1
        for brick in sorted(bricks, key=lambda b: -int(b.get('size') or 0)):
            vol = volumes.get(brick.get('volume')) or {'id': brick.get('volume'), 'durability': {}}
            size = set_size(vol)
            # space the brick takes on a device (thin pool, metadata), as its device accounts it
            need = int(int(brick.get('size') or 0) * used / data) if used else int(brick.get('size') or 0)
            if size <= 1:
                kind = (vol.get('durability') or {}).get('type') or 'none'
                problems.append('brick %s of volume %s: the volume has no replica (durability %s); Heketi cannot '
                                'move its bricks' % (brick['id'], vol.get('name') or vol['id'], kind))
                continue
            others = [n for b, n in holders.get(vol['id'], []) if b != brick['id']]
            strict = _zone_strict(vol, zone_checking)
            zones = set(nodes[n].get('zone') for n in others if n in nodes)
            best = None
            for cand in devices.values():
                node = nodes[cand['node']]
                if (cand['id'] in leaving or cand['node'] in leaving_nodes or cand['cluster'] != dev['cluster']
                        or cand.get('state') != 'online' or node.get('state') != 'online'
                        or cand['node'] in others or (strict and node.get('zone') in zones)
                        or free[cand['id']] < need):
                    continue
                if best is None or free[cand['id']] > free[best['id']]:
                    best = cand
            if best is None:
                zone_note = ' and outside their zones %s (zone checking strict)' % sorted(zones) if strict else ''
                reason = ('no online device with %d KiB free on an online node outside the %d node(s) holding the '
                          'other bricks of its set%s' % (need, len(set(others)), zone_note))
                problems.append('brick %s of volume %s (replica set of %d) on device %s: %s'
                                % (brick['id'], vol.get('name') or vol['id'], size, dev_id, reason))
                continue
            free[best['id']] -= need
            holders[vol['id']] = [(b, n) for b, n in holders.get(vol['id'], []) if b != brick['id']]
            holders[vol['id']].append((brick['id'], best['node']))
            moves.append({'brick': brick['id'], 'volume': vol['id'], 'volume_name': vol.get('name'), 'size': need,
                          'from_device': dev_id, 'from_node': dev['node'],
                          'to_device': best['id'], 'to_node': best['node']})
    if problems:
        raise Refusal('Heketi has no room for the bricks, nothing was changed: ' + '; '.join(problems))
    return moves


def device_view(dev):
    """What the modules return and diff for a device."""
    if not dev:
        return {}
    return {'id': dev['id'], 'name': dev.get('name'), 'node': dev.get('node'),
            'state': SHOWN.get(dev.get('state'), dev.get('state')),
            'bricks': len(dev.get('bricks') or []), 'storage': dev.get('storage') or {}}


def node_view(node):
    if not node:
        return {}
    return {'id': node['id'], 'cluster': node.get('cluster'), 'zone': node.get('zone'),
            'hostnames': node.get('hostnames') or {},
            'state': SHOWN.get(node.get('state'), node.get('state')),
            'devices': [device_view(dict(d, node=node['id'])) for d in node.get('devices') or []]}


def device_steps(current, target):
    """The API steps that bring a device from Heketi state ``current`` to module state ``target``."""
    steps = []
    if target == 'online':
        if current == 'failed':
            raise Refusal('state: the device is removed (Heketi state failed) and Heketi refuses to move a removed '
                          'device to online; delete it (state=absent) and add it again')
        if current == 'offline':
            steps.append('online')
        return steps
    if target == 'offline':
        if current != 'offline':  # Heketi accepts failed -> offline (the device keeps no bricks)
            steps.append('offline')
        return steps
    if current == 'online':
        steps.append('offline')
    if current in ('online', 'offline'):
        steps.append('failed')
    if target == 'absent':
        steps.append('delete')
    return steps


def node_steps(current, target):
    """The node-level API steps (devices are handled by the caller for absent)."""
    steps = []
    if target in ('online', 'offline'):
        if current == 'failed':
            raise Refusal('state: the node is removed (Heketi state failed); Heketi cannot move a removed node to '
                          '%s. Delete it (state=absent) and add it again' % target)
        if current != target:
            steps.append(target)
        return steps
    if current == 'online':
        steps.append('offline')
    if current in ('online', 'offline'):
        steps.append('failed')
    return steps


def part_way(what, done, failed, error, reached, finish):
    """The message and result keys of a failure part-way through a removal (the module raises ModuleFailure with them).

    ``done``: the steps that went through; ``failed``: the step that did not; ``error``: Heketi's error; ``reached``:
    the state Heketi reports now (or None when it could not be read). A step Heketi accepted (202) and then failed
    may have changed the nodes too (a device delete runs vgremove before pvremove), so ``changed`` is true then.
    """
    changed = bool(done) or bool(getattr(error, 'accepted', False))
    msg = ('%s: %s; %s failed: %s. Heketi reports it %s now. %s'
           % (what, (', '.join(done) + ' done') if done else 'no step done', failed, error,
              reached if reached else 'in a state that could not be read', finish))
    return msg, dict(changed=changed, steps=list(done), failed_step=failed, reached=reached or 'unknown',
                     status=getattr(error, 'status', None))


FINISH = ('To finish, run the same task again: it continues from the state reached. If the delete fails again because '
          'the volume group is already gone on the node, set force_forget=true (replace_device.yml and remove_node.yml '
          'detect that and let Heketi forget the device themselves). To undo instead: a device or node that is removed '
          '(Heketi state failed) cannot go back online; delete it and add it again.')


def set_state(client, kind, obj_id, state):
    client.post('/%s/%s/state' % (kind, obj_id), {'state': state})


def delete_device(client, dev_id, force_forget=False):
    client.delete('/devices/' + dev_id, {'forceforget': True} if force_forget else None)
