#!/usr/bin/python
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: heketi_device
short_description: Take a Heketi device offline, remove it (its bricks migrate), delete it, or add it
version_added: 1.0.0
description:
  - Brings one device managed by Heketi to a state, walking Heketi's state machine itself
    (online, offline, removed, deleted), one step after the other.
  - V(removed) is what Heketi calls C(failed) and C(heketi-cli device remove) does it; every brick on the device is
    moved to another device (C(gluster volume replace-brick)), so the volumes keep all their replicas.
  - Before any change, the module checks that Heketi has somewhere to put every brick of the device (an online device
    of an online node in the same cluster, with the room, not on a node that holds another brick of the same set,
    and in another zone when zone checking is strict). When there is none it fails naming each brick and why, and
    changes nothing.
  - A device that does not exist is added with O(state=online) when O(node) and O(name) are given.
  - Needs O(user=admin).
author:
  - glusterfs.heketi developers (@glusterfs)
options:
  id:
    description:
      - Heketi id of the device. Either O(id), or O(node) and O(name).
    type: str
  node:
    description:
      - The node holding the device, by Heketi node id, manage hostname or storage hostname.
    type: str
  name:
    description:
      - Path of the device as Heketi knows it, for example V(/dev/sdf).
    type: str
  state:
    description:
      - V(online) lets Heketi place bricks on the device; a missing device is added (O(node) and O(name) needed).
      - V(offline) stops Heketi from placing new bricks there; existing bricks stay.
      - V(removed) moves every brick away (Heketi state C(failed)); the device is taken offline first.
        Heketi cannot bring a removed device back online.
      - V(absent) removes the device as above and deletes it from Heketi, which runs C(vgremove) and C(pvremove) on the
        node unless O(force_forget) is set. The disk's data is not wiped.
      - V(resynced) asks Heketi to read the size of the device's volume group again (C(GET /devices/{id}/resync), what
        C(heketi-cli device resync) calls), after C(pvresize) on the node grew it; its state stays as it is. Refused
        for a device Heketi does not know (never added). Changed when Heketi's size of the device changed; in check
        mode reported as changed (the new size is known only once Heketi has read it).
    type: str
    choices: [online, offline, removed, absent, resynced]
    default: online
  force_forget:
    description:
      - With O(state=absent), delete the device from Heketi's database without touching the node (for a dead disk
        whose volume group cannot be removed any more).
    type: bool
    default: false
  destroydata:
    description:
      - When adding a device, let Heketi wipe it (C(wipefs --all)) if C(pvcreate) finds a signature on it.
    type: bool
    default: false
  zone_checking:
    description:
      - The server's C(zone_checking) setting (C(heketi.json)); with V(strict) the room check also requires a zone
        not used by the other bricks of each set. A volume's own C(user.heketi.zone-checking) option wins.
    type: str
    choices: [none, strict]
    default: none
  check_room:
    description:
      - Check before any change that every brick of the device has somewhere to go.
      - The REST API does not show which bricks form a set in a volume of several sets; for such volumes the check
        counts every brick of the volume as one set, which can refuse a removal Heketi would do. Set V(false) to let
        Heketi decide; Heketi then moves brick after brick and stops at the first one it cannot place (nothing is lost,
        the device stays offline with the remaining bricks).
    type: bool
    default: true
extends_documentation_fragment:
  - glusterfs.heketi.heketi
  - glusterfs.heketi.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports the steps and, for a removal, where each brick can go; sends no write.
  diff_mode:
    support: full
  idempotent:
    support: full
notes:
  - The device removal migrates bricks with Heketi's executor. With the C(mock) executor, Heketi 10.3 cannot migrate a
    brick (its mock C(gluster volume info) answers with placeholder bricks, Heketi fails with C(Id not found)).
seealso:
  - module: glusterfs.heketi.heketi_node
  - module: glusterfs.heketi.heketi_info
  - name: Heketi maintenance
    description: Heketi's own description of device and node removal.
    link: https://github.com/heketi/heketi/blob/master/docs/admin/maintenance.md
'''

EXAMPLES = r'''
# The seed's node2 (192.168.1.48) has a failing /dev/sdg: move its bricks away and delete it from Heketi.
- name: Retire /dev/sdg of node2
  glusterfs.heketi.heketi_device:
    url: http://192.168.1.113:8080
    key: "{{ heketi_admin_key }}"
    node: 192.168.1.48
    name: /dev/sdg
    state: absent

- name: Stop new bricks on a device without moving the existing ones
  glusterfs.heketi.heketi_device:
    url: http://192.168.1.113:8080
    key: "{{ heketi_admin_key }}"
    id: 3c1b4e5f60718293a4b5c6d7e8f90a1b
    state: offline

- name: Add the replacement disk
  glusterfs.heketi.heketi_device:
    url: http://192.168.1.113:8080
    key: "{{ heketi_admin_key }}"
    node: 192.168.1.48
    name: /dev/sdh
    state: online

- name: Would the bricks of /dev/sdf fit elsewhere? (check mode plans, changes nothing)
  glusterfs.heketi.heketi_device:
    url: http://192.168.1.113:8080
    key: "{{ heketi_admin_key }}"
    node: 192.168.1.48
    name: /dev/sdf
    state: removed
  check_mode: true
  register: plan
'''

RETURN = r'''
device:
  description: The device after the task (planned state in check mode); empty when it is absent.
  returned: always
  type: dict
  sample: {"id": "3c1b4e5f60718293a4b5c6d7e8f90a1b", "name": "/dev/sdg", "node": "4f2a8e0f3a1b4c6d8e9f0a1b2c3d4e5f",
           "state": "removed", "bricks": 0, "storage": {"total": 524288000, "free": 524288000, "used": 0}}
steps:
  description: The state changes done (or, in check mode, to be done), in order.
  returned: always
  type: list
  elements: str
  sample: [offline, removed, deleted]
moves:
  description: For a removal, where each brick of the device can go (Heketi picks the device itself).
  returned: always
  type: list
  elements: dict
  sample: [{"brick": "56b0b2258ce5fd981fb3970bec4548f6", "volume": "2b70892b394b2a2ae3065330f2be1f26",
            "volume_name": "vol_2b70", "size": 1056768, "from_device": "df4a61b0c79ca9abbe82239f930926ec",
            "from_node": "02e8f29c4666a82498fe5a10440a1925", "to_device": "91c0...", "to_node": "02e8..."}]
diff:
  description: The device's state and brick count before and after, in diff mode.
  returned: when diff mode is on
  type: dict
failed_step:
  description:
    - On a failure part-way through, the step that failed; RV(steps) then lists the steps that went through, and
      C(changed) is true when any did, or when Heketi accepted the failing step (a delete that ran C(vgremove) on the
      node before its C(pvremove) failed). The message says the state reached and how to finish.
  returned: on a failure after the first request that changes something
  type: str
  sample: deleted
reached:
  description: On a failure part-way through, the state Heketi reports now (V(unknown) when it could not be read).
  returned: on a failure after the first request that changes something
  type: str
  sample: removed
'''


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi import (
    HEKETI_ARGUMENT_SPEC,
    HeketiError,
    run_module,
)
from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_state import (
    FINISH,
    delete_device,
    device_steps,
    device_view,
    find_device,
    find_node,
    index,
    part_way,
    plan_removal,
    set_state,
)

STEP_NAMES = {'online': 'online', 'offline': 'offline', 'failed': 'removed', 'delete': 'deleted'}


def run(module, client):
    p = module.params
    result = {'changed': False, 'steps': [], 'moves': [], 'device': {}}
    topology = client.topology(include_volumes=True)
    nodes, devices, _volumes = index(topology)
    dev = find_device(nodes, devices, p['id'], p['node'], p['name'])
    before = device_view(dev)

    if p['state'] == 'resynced':
        return resync(module, client, dev, before, result)
    if dev is None:
        if p['state'] == 'absent':
            after = {}
        elif p['id']:
            raise HeketiError('id: Heketi has no device %s' % p['id'], status=404)
        elif p['state'] != 'online':
            raise HeketiError('name: node %s has no device %s; only state=online adds one' % (p['node'], p['name']),
                              status=404)
        else:
            node = find_node(nodes, p['node'])
            result.update(changed=True, steps=['added'])
            after = {'name': p['name'], 'node': node['id'], 'state': 'online', 'bricks': 0}
            if not module.check_mode:
                client.post('/devices', {'name': p['name'], 'node': node['id'], 'destroydata': p['destroydata']})
                after = device_view(find_device(*index(client.topology(include_volumes=False))[:2],
                                                node_ref=node['id'], name=p['name'])) or after
        result['device'] = after
    else:
        steps = device_steps(dev['state'], p['state'])
        if 'failed' in steps and dev.get('bricks') and p['check_room']:
            result['moves'] = plan_removal(topology, [dev['id']], zone_checking=p['zone_checking'])
        after = dict(before)
        for step in steps:
            if not module.check_mode:
                try:
                    if step == 'delete':
                        delete_device(client, dev['id'], p['force_forget'])
                    else:
                        set_state(client, 'devices', dev['id'], step)
                except HeketiError as error:
                    raise failed_part_way(client, dev, result, STEP_NAMES[step], error)
            result['changed'] = True
            result['steps'].append(STEP_NAMES[step])
        if p['state'] == 'absent':
            after = {}
        elif module.check_mode:
            after['state'] = p['state']
            if p['state'] == 'removed':
                after['bricks'] = 0
        elif steps:
            after = device_view(dict(client.get('/devices/' + dev['id']), node=dev['node']))
        result['device'] = after
    if module._diff:
        keys = ('state', 'bricks', 'name', 'node')
        result['diff'] = {'before': dict((k, before[k]) for k in keys if k in before),
                          'after': dict((k, after[k]) for k in keys if k in after)}
    return result


def failed_part_way(client, dev, result, failed, error):
    """A ModuleFailure saying what was done, the step that failed, the state reached and how to finish."""
    try:
        reached = device_view(dict(client.get('/devices/' + dev['id']), node=dev['node']))
    except HeketiError:
        reached = None
    msg, extra = part_way('node %s device %s' % (dev['node'], dev.get('name')), result['steps'], failed, error,
                          reached['state'] if reached else None, FINISH)
    return ModuleFailure(msg, moves=result['moves'], device=reached or {}, **extra)


def resync(module, client, dev, before, result):
    """GET /devices/{id}/resync, for a device Heketi knows; changed when its size changed."""
    p = module.params
    if dev is None:
        raise HeketiError('%s: Heketi knows no such device%s; a device is grown only once Heketi manages it' % (
            'id' if p['id'] else 'name', ' %s on node %s' % (p['name'], p['node']) if p['name'] else ' ' + str(p['id'])),
            status=404)
    after = before
    if module.check_mode:
        result.update(changed=True, steps=['resync'])
    else:
        client.get('/devices/%s/resync' % dev['id'])
        after = device_view(dict(client.get('/devices/' + dev['id']), node=dev['node']))
        grown = (after.get('storage') or {}).get('total') != (before.get('storage') or {}).get('total')
        result.update(changed=grown, steps=['resynced'] if grown else [])
    result['device'] = after
    if module._diff:
        result['diff'] = {'before': {'storage': before.get('storage')}, 'after': {'storage': after.get('storage')}}
    return result


def main():
    argument_spec = dict(HEKETI_ARGUMENT_SPEC)
    argument_spec.update(
        id=dict(type='str'),
        node=dict(type='str'),
        name=dict(type='str'),
        state=dict(type='str', default='online', choices=['online', 'offline', 'removed', 'absent', 'resynced']),
        force_forget=dict(type='bool', default=False),
        destroydata=dict(type='bool', default=False),
        zone_checking=dict(type='str', default='none', choices=['none', 'strict']),
        check_room=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_one_of=[('id', 'name')], mutually_exclusive=[('id', 'name'), ('id', 'node')],
                           required_together=[('node', 'name')])
    run_module(module, run, check=validate)


def validate(module):
    """Checks on the arguments alone, before any request."""
    p = module.params
    if p['id'] and any(c not in '0123456789abcdefABCDEF' for c in p['id']):
        raise ModuleFailure('id: must be a Heketi device id (hexadecimal), got %r' % p['id'])
    if p['name'] is not None and not p['name'].startswith('/'):
        raise ModuleFailure('name: must be a device path such as /dev/sdf, got %r' % p['name'])
    if p['user'] not in (None, 'admin'):
        raise ModuleFailure("user: Heketi lets only the admin user manage devices, got %r" % p['user'])
    if p['force_forget'] and p['state'] != 'absent':
        raise ModuleFailure('force_forget: only applies to state=absent, got state=%s' % p['state'])


if __name__ == '__main__':
    main()
