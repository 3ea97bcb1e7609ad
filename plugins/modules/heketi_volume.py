#!/usr/bin/python
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: heketi_volume
short_description: Create, expand and delete GlusterFS volumes through Heketi
version_added: 1.0.0
description:
  - Makes sure a GlusterFS volume managed by Heketi exists with at least a given size, or does not exist.
  - Volumes are matched by O(name); a rerun with the same arguments changes nothing.
  - A volume that is smaller than O(size) is expanded; a volume is never shrunk (Heketi cannot), asking for a
    smaller size fails with a clear message and changes nothing.
  - Heketi cannot change the durability or the cluster of an existing volume; when O(durability) or
    O(clusters) are given and the existing volume differs, the module fails without changing anything.
  - Meant for smoke tests of a deployment and for volumes created outside Kubernetes.
  - Needs O(user=admin). Heketi lets the V(user) issuer start a volume creation but not follow it, read,
    expand or delete volumes, so the module refuses any other user before sending a request.
author:
  - glusterfs.heketi developers (@glusterfs)
options:
  name:
    description:
      - Name of the volume. Heketi keeps volume names unique.
      - 1-100 characters of C([A-Za-z0-9_-]) (Heketi's rule; GlusterFS names files on the storage nodes after the
        volume, host and brick path in at most 255 characters).
    type: str
    required: true
  state:
    description:
      - V(present) creates the volume when it is missing and expands it when it is smaller than O(size).
      - V(absent) deletes the volume when it exists. Its data is lost.
    type: str
    choices: [present, absent]
    default: present
  size:
    description:
      - Size of the volume in GiB.
      - Required to create a volume. For an existing volume, a larger value expands it and a smaller one is refused.
      - When omitted for an existing volume, its size is left as it is.
    type: int
  durability:
    description:
      - How the volume keeps its data. V(replicate) keeps O(replica) copies, V(disperse) uses erasure coding with
        O(disperse_data) data and O(disperse_redundancy) redundancy bricks, V(none) keeps one copy.
      - When creating a volume and not set, V(replicate) is used.
      - For an existing volume, only compared when set.
    type: str
    choices: [replicate, disperse, none]
  replica:
    description:
      - Number of copies with O(durability=replicate).
      - When creating a volume and not set, V(3) is used.
    type: int
  disperse_data:
    description:
      - Number of data bricks per set with O(durability=disperse).
      - When creating a volume and not set, V(4) is used.
    type: int
  disperse_redundancy:
    description:
      - Number of redundancy bricks per set with O(durability=disperse).
      - When creating a volume and not set, V(2) is used.
    type: int
  clusters:
    description:
      - Ids of the Heketi clusters the volume may be created in. Heketi picks one.
      - For an existing volume, it must sit in one of them.
    type: list
    elements: str
  options:
    description:
      - GlusterFS volume options set when the volume is created, each C(<name> <value>), for example
        C(performance.quick-read off).
      - Heketi's ssh executor runs them through a root shell on a storage node, so each must follow the rule the
        collection's CSI driver applies to C(volumeoptions) (the collection README, section Security). The name
        is C([a-z][a-z0-9._-]*) (at most 128 characters), the value 1-256 of C([A-Za-z0-9._:/@%+=-]). Any
        other entry is refused before a request is sent.
      - For an existing volume, each must be among the volume's options; Heketi cannot change them afterwards.
    type: list
    elements: str
    version_added: 1.1.0
extends_documentation_fragment:
  - glusterfs.heketi.heketi
  - glusterfs.heketi.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
seealso:
  - module: glusterfs.heketi.heketi_info
  - module: glusterfs.heketi.heketi_topology
'''

EXAMPLES = r'''
# The seed's flow: Heketi on node1 (192.168.1.113), topology.json loaded, then a volume proves the pool works.
- name: Create a 2 GiB volume replicated on three nodes
  glusterfs.heketi.heketi_volume:
    url: http://192.168.1.113:8080
    user: admin
    key: "{{ heketi_admin_key }}"
    name: smoke
    size: 2
    durability: replicate
    replica: 3
  register: smoke

- name: Mount it from a client
  ansible.posix.mount:
    src: "{{ smoke.volume.mount.glusterfs.device }}"
    path: /mnt/smoke
    fstype: glusterfs
    state: ephemeral

- name: Grow it to 5 GiB (a smaller size is refused)
  glusterfs.heketi.heketi_volume:
    url: http://192.168.1.113:8080
    key: "{{ heketi_admin_key }}"
    name: smoke
    size: 5

- name: Erasure-coded volume in a given cluster
  glusterfs.heketi.heketi_volume:
    url: http://192.168.1.113:8080
    key: "{{ heketi_admin_key }}"
    name: archive
    size: 100
    durability: disperse
    disperse_data: 4
    disperse_redundancy: 2
    clusters:
      - "{{ heketi.clusters[0].id }}"

# The key from Ansible Vault as the option key; never through the task's environment (HEKETI_CLI_KEY
# there ends up in the remote command's environment, visible in ps and -vvv output).
- name: Remove the smoke-test volume
  glusterfs.heketi.heketi_volume:
    url: http://192.168.1.113:8080
    user: admin
    key: "{{ heketi_admin_key }}"
    name: smoke
    state: absent
'''

RETURN = r'''
volume:
  description:
    - The volume as Heketi describes it (C(GET /volumes/{id})) after the task; empty when it is absent.
    - In check mode, for a volume that would be created or expanded, the planned values, without an id.
  returned: always
  type: dict
  sample:
    id: 2b1a9c3d4e5f60718293a4b5c6d7e8f9
    name: smoke
    size: 2
    cluster: 8d1e3b54b1c44b3c9e1c0c7fbbfd4b1a
    durability: {"type": "replicate", "replicate": {"replica": 3}}
    mount: {"glusterfs": {"device": "192.168.1.113:smoke", "options": {"backup-volfile-servers": "192.168.1.48,192.168.1.49"}}}
operation:
  description: What the task did or, in check mode, would do.
  returned: always
  type: str
  choices: [none, create, expand, delete]
  sample: create
diff:
  description: The volume's name, size, durability and cluster before and after, in diff mode.
  returned: when diff mode is on
  type: dict
  sample: {"before": {"name": "smoke", "size": 2}, "after": {"name": "smoke", "size": 5}}
'''


import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi import (
    HEKETI_ARGUMENT_SPEC,
    HeketiError,
    run_module,
)
from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure
from ansible_collections.glusterfs.heketi.plugins.module_utils._storageclass_parameters import volume_option_entry_error

DEFAULTS = {'durability': 'replicate', 'replica': 3, 'disperse_data': 4, 'disperse_redundancy': 2}
# Heketi's own rule (its volumeNameRe), and the length the collection's CSI driver keeps to: GlusterFS 10 refused a
# 255-character name with "Volume file path ... is too long" even with a short brick path.
VOLUME_NAME_MAX = 100
VOLUME_NAME = re.compile(r'^[A-Za-z0-9_-]{1,%d}$' % VOLUME_NAME_MAX)


def requested_durability(params, for_create):
    """The durability block Heketi expects, or None when the user did not ask for one (existing volume)."""
    kind = params['durability']
    if kind is None:
        if not for_create:
            return None
        kind = DEFAULTS['durability']
    if kind == 'replicate':
        return {'type': 'replicate', 'replicate': {'replica': params['replica'] or DEFAULTS['replica']}}
    if kind == 'disperse':
        return {'type': 'disperse', 'disperse': {
            'data': params['disperse_data'] or DEFAULTS['disperse_data'],
            'redundancy': params['disperse_redundancy'] or DEFAULTS['disperse_redundancy'],
        }}
    return {'type': 'none'}


def describe_durability(durability):
    durability = durability or {}
    kind = durability.get('type') or 'none'
    if kind == 'replicate':
        return 'replicate %s' % (durability.get('replicate') or {}).get('replica')
    if kind == 'disperse':
        d = durability.get('disperse') or {}
        return 'disperse %s+%s' % (d.get('data'), d.get('redundancy'))
    return kind


def durability_differs(existing, wanted, params):
    """Compare only what the user set."""
    existing = existing or {}
    if (existing.get('type') or 'none') != wanted['type']:
        return True
    if wanted['type'] == 'replicate' and params['replica'] is not None:
        return (existing.get('replicate') or {}).get('replica') != params['replica']
    if wanted['type'] == 'disperse':
        have = existing.get('disperse') or {}
        if params['disperse_data'] is not None and have.get('data') != params['disperse_data']:
            return True
        if params['disperse_redundancy'] is not None and have.get('redundancy') != params['disperse_redundancy']:
            return True
    return False


def summary(volume):
    if not volume:
        return {}
    return {
        'name': volume.get('name'),
        'size': volume.get('size'),
        'durability': describe_durability(volume.get('durability')),
        'cluster': volume.get('cluster'),
    }


def find_volume(client, name):
    """Return the VolumeInfo of the volume called ``name``, or None."""
    ids = (client.get('/volumes') or {}).get('volumes') or []
    found = []
    for res, err in client.map(lambda vid: client.get('/volumes/' + vid), ids):
        if err is not None:
            if isinstance(err, HeketiError) and err.status == 404:  # deleted while we read
                continue
            raise err
        if res and res.get('name') == name:
            found.append(res)
    if len(found) > 1:
        raise HeketiError('name: %d volumes are called %r (ids %s); Heketi should keep names unique, '
                          'resolve this by hand' % (len(found), name, ', '.join(v['id'] for v in found)))
    return found[0] if found else None


def validate(module):
    """Checks on the arguments alone, before any request."""
    p = module.params
    if p['user'] not in (None, 'admin'):
        raise ModuleFailure("user: heketi_volume needs the admin user, got %r; Heketi lets 'user' list and start "
                            "creating volumes but not follow the operation, read, expand or delete them" % p['user'])
    if not VOLUME_NAME.match(p['name'] or ''):
        raise ModuleFailure('name: %r is not a volume name Heketi and GlusterFS take: 1-%d characters of [A-Za-z0-9_-] '
                            '(GlusterFS names the volume\'s files on every storage node after the volume, the host and '
                            'the brick path, in at most 255 characters; the CSI driver keeps to the same bound)'
                            % (p['name'], VOLUME_NAME_MAX))
    if p['size'] is not None and p['size'] < 1:
        raise ModuleFailure('size: must be an integer >= 1 (GiB), got %s' % p['size'])
    for opt in ('replica', 'disperse_data', 'disperse_redundancy'):
        if p[opt] is not None and p[opt] < 1:
            raise ModuleFailure('%s: must be an integer >= 1, got %s' % (opt, p[opt]))
    if p['replica'] is not None and p['durability'] not in (None, 'replicate'):
        raise ModuleFailure('replica: only applies to durability=replicate, got durability=%s' % p['durability'])
    for opt in ('disperse_data', 'disperse_redundancy'):
        if p[opt] is not None and p['durability'] != 'disperse':
            raise ModuleFailure('%s: only applies to durability=disperse, got durability=%s' % (opt, p['durability']))
    for i, cid in enumerate(p['clusters'] or []):
        if not cid or any(c not in '0123456789abcdefABCDEF' for c in cid):
            raise ModuleFailure('clusters[%d]: must be a Heketi cluster id (hexadecimal), got %r' % (i, cid))
    for i, option in enumerate(p['options'] or []):
        error = volume_option_entry_error(option)
        if error:
            raise ModuleFailure('options[%d]: %s' % (i, error))


def requested_options(params):
    return [' '.join(option.split()) for option in params['options'] or []]


def run(module, client):
    p = module.params
    name = p['name']
    result = {'changed': False, 'operation': 'none', 'volume': {}}
    existing = find_volume(client, name)
    before = summary(existing)

    if p['state'] == 'absent':
        if existing:
            result.update(changed=True, operation='delete')
            if not module.check_mode:
                client.delete('/volumes/' + existing['id'])
        after = {}
    elif existing is None:
        if p['size'] is None:
            raise ModuleFailure('size: required to create volume %r, which does not exist' % name)
        body = {'name': name, 'size': p['size'], 'durability': requested_durability(p, True)}
        if p['clusters']:
            body['clusters'] = p['clusters']
        if p['options']:
            body['glustervolumeoptions'] = requested_options(p)
        result.update(changed=True, operation='create')
        if module.check_mode:
            result['volume'] = dict(body)
        else:
            result['volume'] = client.post('/volumes', body) or {}
        after = summary(result['volume'])
        if module.check_mode and p['clusters']:
            after['cluster'] = ' or '.join(p['clusters'])
    else:
        wanted = requested_durability(p, False)
        if wanted is not None and durability_differs(existing.get('durability'), wanted, p):
            raise ModuleFailure('durability: volume %r exists as %s, the task asks for %s; Heketi cannot change the '
                                'durability of a volume' % (name, describe_durability(existing.get('durability')),
                                                            describe_durability(wanted)),
                                volume=existing)
        have = [' '.join(str(o).split()) for o in existing.get('glustervolumeoptions') or []]
        missing = [o for o in requested_options(p) if o not in have]
        if missing:
            raise ModuleFailure('options: volume %r exists without %s (it has %s); Heketi cannot change the options of a '
                                'volume' % (name, ', '.join(missing), ', '.join(have) or 'none'), volume=existing)
        if p['clusters'] and existing.get('cluster') not in p['clusters']:
            raise ModuleFailure('clusters: volume %r exists in cluster %s, which is not in %s; Heketi cannot move a '
                                'volume' % (name, existing.get('cluster'), p['clusters']), volume=existing)
        size = existing.get('size') or 0
        if p['size'] is not None and p['size'] < size:
            raise ModuleFailure('size: volume %r is %s GiB, the task asks for %s GiB; Heketi cannot shrink a volume'
                                % (name, size, p['size']), volume=existing)
        if p['size'] is not None and p['size'] > size:
            result.update(changed=True, operation='expand')
            if module.check_mode:
                result['volume'] = dict(existing, size=p['size'])
            else:
                result['volume'] = client.post('/volumes/%s/expand' % existing['id'],
                                               {'expand_size': p['size'] - size}) or {}
        else:
            result['volume'] = existing
        after = summary(result['volume'])

    if module._diff:
        result['diff'] = {'before': before, 'after': after}
    return result


def main():
    argument_spec = dict(HEKETI_ARGUMENT_SPEC)
    argument_spec.update(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        size=dict(type='int'),
        durability=dict(type='str', choices=['replicate', 'disperse', 'none']),
        replica=dict(type='int'),
        disperse_data=dict(type='int'),
        disperse_redundancy=dict(type='int'),
        clusters=dict(type='list', elements='str'),
        options=dict(type='list', elements='str'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, run, check=validate)


if __name__ == '__main__':
    main()
