#!/usr/bin/python
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: heketi_node
short_description: Disable a Heketi node, drain it (its bricks migrate), or delete it from the pool
version_added: 1.0.0
description:
  - Brings one node managed by Heketi to a state, walking Heketi's state machine itself (online, offline, removed,
    deleted), its devices first.
  - V(removed) is what Heketi calls C(failed) and C(heketi-cli node remove) does it; Heketi removes each device of the
    node, moving every brick to another node, so the volumes keep all their replicas.
  - Before any change, the module checks that the other nodes can take every brick of the node (an online device of
    an online node of the same cluster, with the room, not on a node holding another brick of the same set, in
    another zone when zone checking is strict). When they cannot, for example a replica-3 volume on a cluster of
    three nodes, it fails naming each brick and why, and changes nothing.
  - V(absent) also deletes each device (C(vgremove), C(pvremove) on the node unless O(force_forget)) and then the node,
    which Heketi detaches from the trusted storage pool (C(gluster peer detach)).
  - Nodes are added by M(glusterfs.heketi.heketi_topology); this module does not add nodes.
  - Needs O(user=admin).
author:
  - glusterfs.heketi developers (@glusterfs)
options:
  name:
    description:
      - The node, by Heketi node id, manage hostname or storage hostname.
    type: str
    required: true
    aliases: [id, node]
  state:
    description:
      - V(online) lets Heketi place bricks on the node; V(offline) stops new bricks there.
      - V(removed) moves every brick away (Heketi state C(failed)); the node is taken offline first.
        Heketi cannot bring a removed node back.
      - V(absent) removes the node as above, deletes its devices and then the node (detached from the pool).
    type: str
    choices: [online, offline, removed, absent]
    default: online
  force_forget:
    description:
      - With O(state=absent), delete the node's devices from Heketi's database without touching the node (for a
        dead node).
    type: bool
    default: false
  zone_checking:
    description:
      - The server's C(zone_checking) setting (C(heketi.json)), used by the room check as in M(glusterfs.heketi.heketi_device).
    type: str
    choices: [none, strict]
    default: none
  check_room:
    description:
      - Check before any change that every brick of the node has somewhere to go. See M(glusterfs.heketi.heketi_device).
    type: bool
    default: true
extends_documentation_fragment:
  - glusterfs.heketi.heketi
  - glusterfs.heketi.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports the steps and where each brick of the node can go; sends no write.
  diff_mode:
    support: full
  idempotent:
    support: full
seealso:
  - module: glusterfs.heketi.heketi_device
  - module: glusterfs.heketi.heketi_topology
'''

EXAMPLES = r'''
# The seed's node4 (192.168.1.50) leaves the pool: drain it, delete its devices and the node.
- name: Remove node4 from Heketi and the trusted pool
  glusterfs.heketi.heketi_node:
    url: http://192.168.1.113:8080
    key: "{{ heketi_admin_key }}"
    name: 192.168.1.50
    state: absent

- name: Maintenance window on node3, no new bricks there
  glusterfs.heketi.heketi_node:
    url: http://192.168.1.113:8080
    key: "{{ heketi_admin_key }}"
    name: 192.168.1.49
    state: offline

- name: Could node3 be drained? (check mode plans, changes nothing)
  glusterfs.heketi.heketi_node:
    url: http://192.168.1.113:8080
    key: "{{ heketi_admin_key }}"
    name: 192.168.1.49
    state: removed
  check_mode: true
'''

RETURN = r'''
node:
  description: The node after the task (planned state in check mode), with its devices; empty when it is absent.
  returned: always
  type: dict
  sample: {"id": "4f2a8e0f3a1b4c6d8e9f0a1b2c3d4e5f", "cluster": "8d1e3b54b1c44b3c9e1c0c7fbbfd4b1a", "zone": 1,
           "hostnames": {"manage": ["192.168.1.50"], "storage": ["192.168.1.50"]}, "state": "offline",
           "devices": [{"id": "c0ff...", "name": "/dev/sdf", "state": "online", "bricks": 0}]}
steps:
  description: The changes done (or, in check mode, to be done), in order; device deletions name the device path.
  returned: always
  type: list
  elements: str
  sample: [offline, removed, "deleted device /dev/sdf", "deleted device /dev/sdg", deleted]
moves:
  description: Where each brick of the node can go (Heketi picks the device itself).
  returned: always
  type: list
  elements: dict
diff:
  description: The node's state and devices before and after, in diff mode.
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
    find_node,
    index,
    node_steps,
    node_view,
    part_way,
    plan_removal,
    set_state,
)


def run(module, client):
    p = module.params
    result = {'changed': False, 'steps': [], 'moves': [], 'node': {}}
    topology = client.topology(include_volumes=True)
    nodes, devices, _volumes = index(topology)
    node = find_node(nodes, p['name'], 'name')
    before = node_view(node)
    after = {}
    if node is None:
        if p['state'] != 'absent':
            raise HeketiError('name: Heketi has no node %r (ids, manage and storage hostnames were searched); '
                              'add nodes with heketi_topology' % p['name'], status=404)
    else:
        steps = node_steps(node['state'], p['state'])
        dev_ids = [d['id'] for d in sorted(node.get('devices') or [], key=lambda d: (d.get('name') or '', d['id']))]
        if 'failed' in steps and p['check_room'] and any(devices[d].get('bricks') for d in dev_ids):
            result['moves'] = plan_removal(topology, dev_ids, [node['id']], p['zone_checking'])

        def do(name, call, *args):
            if not module.check_mode:
                try:
                    call(*args)
                except HeketiError as error:
                    raise failed_part_way(client, node, result, name, error)
            result['steps'].append(name)

        for step in steps:
            do('removed' if step == 'failed' else step, set_state, client, 'nodes', node['id'], step)
        if p['state'] == 'absent':
            for dev_id in dev_ids:
                do('deleted device %s' % devices[dev_id].get('name'), delete_device, client, dev_id, p['force_forget'])
            do('deleted', client.delete, '/nodes/' + node['id'])
        result['changed'] = bool(result['steps'])
        if p['state'] == 'absent':
            after = {}
        elif module.check_mode:
            after = dict(before, state=p['state'])
        elif steps:
            after = node_view(dict(client.get('/nodes/' + node['id']), cluster=node['cluster']))
        else:
            after = before
        result['node'] = after
    if module._diff:
        def brief(view):
            return dict((k, view[k]) for k in ('state', 'zone', 'hostnames') if k in view) if view else {}
        result['diff'] = {'before': brief(before), 'after': brief(after)}
    return result


def failed_part_way(client, node, result, failed, error):
    """A ModuleFailure saying what was done, the step that failed, the state reached and how to finish."""
    try:
        reached = node_view(dict(client.get('/nodes/' + node['id']), cluster=node['cluster']))
        left = ', '.join(sorted(d.get('name') or d['id'] for d in reached.get('devices') or []))
        state = '%s%s' % (reached['state'], ' with device(s) %s' % left if left else ' with no device')
    except HeketiError:
        reached, state = None, None
    msg, extra = part_way('node %s' % ((node.get('hostnames') or {}).get('manage') or [node['id']])[0],
                          result['steps'], failed, error, state, FINISH)
    return ModuleFailure(msg, moves=result['moves'], node=reached or {}, **extra)


def validate(module):
    """Checks on the arguments alone, before any request."""
    p = module.params
    if p['user'] not in (None, 'admin'):
        raise ModuleFailure("user: Heketi lets only the admin user manage nodes, got %r" % p['user'])
    if p['force_forget'] and p['state'] != 'absent':
        raise ModuleFailure('force_forget: only applies to state=absent, got state=%s' % p['state'])


def main():
    argument_spec = dict(HEKETI_ARGUMENT_SPEC)
    argument_spec.update(
        name=dict(type='str', required=True, aliases=['id', 'node']),
        state=dict(type='str', default='online', choices=['online', 'offline', 'removed', 'absent']),
        force_forget=dict(type='bool', default=False),
        zone_checking=dict(type='str', default='none', choices=['none', 'strict']),
        check_room=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, run, check=validate)


if __name__ == '__main__':
    main()
