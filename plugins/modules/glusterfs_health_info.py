#!/usr/bin/python
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs on the storage nodes, whose platform Python may be old (EL7: 2.7, EL8: 3.6): the classic boilerplate and no
# newer syntax.
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: glusterfs_health_info
short_description: Read the health of a GlusterFS trusted pool from one of its servers
version_added: 1.1.0
description:
  - Asks glusterd on the host it runs on, with read-only C(gluster --xml) commands, for the peers it sees, the GlusterFS
    version and op-version, and, with O(volumes=true), every volume with its bricks (online or not, free space) and
    its self-heal backlog (C(gluster volume heal VOLUME info summary)).
  - Changes nothing. The C(check.yml) playbook runs it on every storage node and turns the answers, with Heketi's, into
    findings (the C(glusterfs.heketi.health_findings) filter).
author:
  - glusterfs.heketi developers (@glusterfs)
requirements:
  - The C(gluster) command and a running glusterd on the host.
options:
  volumes:
    description:
      - Also read every volume, its bricks and its self-heal backlog. One host is enough for that (glusterd answers
        for the whole pool); peers are each host's own view.
    type: bool
    default: true
extends_documentation_fragment:
  - glusterfs.heketi.attributes
  - glusterfs.heketi.attributes.info_module
seealso:
  - module: glusterfs.heketi.heketi_info
'''

EXAMPLES = r'''
- name: Read the pool's health on the first storage node
  glusterfs.heketi.glusterfs_health_info:
    volumes: "{{ inventory_hostname == groups['glusterfs_servers'][0] }}"
  register: gluster_health

- name: Every peer this node sees is connected
  ansible.builtin.assert:
    that: gluster_health.peers | rejectattr('connected') | list | length == 0
'''

RETURN = r'''
version:
  description: The GlusterFS version of this host (C(gluster --version)).
  returned: always
  type: str
  sample: "10.3"
op_version:
  description: The pool's operating version (C(cluster.op-version)) and the highest all its servers support
    (C(cluster.max-op-version)); empty when glusterd does not answer.
  returned: always
  type: dict
  sample: {"current": 100000, "max": 100000}
peers:
  description: The other servers of the pool as this host sees them.
  returned: always
  type: list
  elements: dict
  sample: [{"hostname": "node2", "hostnames": ["node2"], "uuid": "a434b752-ab87-4a5a-896c-62cb95c22eae",
            "connected": true, "state": "Peer in Cluster"}]
volumes:
  description:
    - Every volume; C(bricks) in volume order, each with C(online) (a brick process serving it) and its sizes in bytes
      (0 when offline); C(heal) the entries waiting for self-heal and in split-brain, over all bricks (C(null) when
      the volume is not started or is not replicated or dispersed).
  returned: when O(volumes=true)
  type: list
  elements: dict
  sample: [{"name": "vol_1f3a", "status": "Started", "type": "Replicate", "replica": 3,
            "bricks": [{"name": "node1:/var/lib/heketi/mounts/vg_1/brick_2/brick", "host": "node1", "online": true,
                        "pid": 6142, "size_total": 2136997888, "size_free": 2102702080}],
            "heal": {"pending": 0, "split_brain": 0}}]
'''

import xml.etree.ElementTree as ET

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure, run_module

HEALED_TYPES = ('Replicate', 'Distributed-Replicate', 'Disperse', 'Distributed-Disperse')


def _int(node, tag, default=0):
    text = node.findtext(tag)
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def parse_xml(text, what):
    """The cliOutput document of a gluster --xml command; its opErrstr as the failure when opRet is not 0."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise ModuleFailure('%s: gluster answered no XML (%s): %s' % (what, e, text.strip()[:300]))
    if _int(root, 'opRet') != 0:
        raise ModuleFailure('%s: %s' % (what, root.findtext('opErrstr') or 'gluster failed'))
    return root


def parse_peers(root):
    peers = []
    for peer in root.iter('peer'):
        peers.append({'hostname': peer.findtext('hostname'),
                      'hostnames': [h.text for h in peer.findall('hostnames/hostname')],
                      'uuid': peer.findtext('uuid'), 'connected': peer.findtext('connected') == '1',
                      'state': peer.findtext('stateStr')})
    return peers


def parse_volumes(info_root, status_root):
    """Volumes from `volume info`, brick status from `volume status all detail` (started volumes only)."""
    status = {}
    for vol in status_root.iter('volume'):
        for node in vol.findall('node'):
            status[(vol.findtext('volName'), '%s:%s' % (node.findtext('hostname'), node.findtext('path')))] = node
    volumes = []
    for vol in info_root.iter('volume'):
        name = vol.findtext('name')
        if name is None or vol.find('bricks') is None:
            continue
        bricks = []
        for brick in vol.findall('bricks/brick'):
            brick_name = brick.findtext('name') or (brick.text or '').strip()
            node = status.get((name, brick_name))
            online = node is not None and node.findtext('status') == '1'
            bricks.append({'name': brick_name, 'host': brick_name.rsplit(':', 1)[0], 'online': online,
                           'pid': _int(node, 'pid', None) if node is not None else None,
                           'size_total': _int(node, 'sizeTotal') if online else 0,
                           'size_free': _int(node, 'sizeFree') if online else 0})
        volumes.append({'name': name, 'status': vol.findtext('statusStr'), 'type': vol.findtext('typeStr'),
                        'replica': _int(vol, 'replicaCount', 1), 'bricks': bricks, 'heal': None})
    return volumes


def parse_heal(root):
    pending = split = 0
    for brick in root.iter('brick'):
        pending += _int(brick, 'numberOfEntriesInHealPending') + _int(brick, 'numberOfEntriesPossiblyHealing')
        split += _int(brick, 'numberOfEntriesInSplitBrain')
    return {'pending': pending, 'split_brain': split}


def parse_op_version(root):
    found = {}
    for opt in root.iter('Opt'):
        key = opt.findtext('Option')
        if key in ('cluster.op-version', 'cluster.max-op-version'):
            found['current' if key == 'cluster.op-version' else 'max'] = _int(opt, 'Value', None)
    return found


def run(module):
    gluster = module.get_bin_path('gluster', required=True)

    def xml(what, *args):
        rc, out, err = module.run_command([gluster, '--mode=script', '--xml'] + list(args))
        if rc != 0 and not out.strip().startswith('<'):
            raise ModuleFailure('%s: gluster %s failed (exit %d): %s' % (what, ' '.join(args), rc, (err or out).strip()))
        return parse_xml(out, what)

    rc, out, err = module.run_command([gluster, '--version'])
    version = out.split()[1] if rc == 0 and len(out.split()) > 1 else ''
    result = {'changed': False, 'version': version, 'peers': parse_peers(xml('peers', 'peer', 'status'))}
    try:
        result['op_version'] = parse_op_version(xml('op-version', 'volume', 'get', 'all', 'all'))
    except ModuleFailure:
        result['op_version'] = {}
    if module.params['volumes']:
        info = xml('volumes', 'volume', 'info', 'all')
        started = [v for v in info.iter('volume') if v.findtext('statusStr') == 'Started']
        # glusterd answers "No volumes present" (an error) when none is started
        status = xml('bricks', 'volume', 'status', 'all', 'detail') if started else ET.fromstring('<cliOutput/>')
        volumes = parse_volumes(info, status)
        for vol in volumes:
            if vol['status'] == 'Started' and vol['type'] in HEALED_TYPES:
                vol['heal'] = parse_heal(xml('heal of %s' % vol['name'], 'volume', 'heal', vol['name'], 'info', 'summary'))
        result['volumes'] = volumes
    return result


def main():
    module = AnsibleModule(argument_spec=dict(volumes=dict(type='bool', default=True)), supports_check_mode=True)
    run_module(module, run)


if __name__ == '__main__':
    main()
