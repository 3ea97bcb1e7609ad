#!/usr/bin/python
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: heketi_info
short_description: Read clusters, nodes, devices and volumes from a Heketi server
version_added: 1.0.0
description:
  - Reads what a Heketi server manages, through its REST API, without changing anything.
  - Returns the clusters, the nodes with their zones, hostnames, tags and state, the devices with their
    sizes, state and brick counts, and the volumes with their size, durability and mount point.
  - Also returns the same data nested as C(heketi-cli topology info --json) prints it, and a summary with totals.
  - And the operations Heketi has in flight or pending, its maintenance state, and its database consistency report.
  - Heketi gives clusters, nodes and devices to the V(admin) user only, so O(user) must be V(admin).
author:
  - glusterfs.heketi developers (@glusterfs)
options:
  include_volumes:
    description:
      - Read every volume's details (one request per volume).
      - With V(false), RV(volumes) is empty and the clusters list only the volume ids.
    type: bool
    default: true
  include_operations:
    description:
      - Read the operations summary (C(GET /operations)) and the maintenance state (C(GET /admin)) into RV(operations)
        and RV(admin_state).
    type: bool
    default: true
  include_db_check:
    description:
      - Read Heketi's database consistency report (C(GET /db/check)) into RV(db_check).
    type: bool
    default: true
  include_pending_operations:
    description:
      - Read every pending operation Heketi records, with its kind, status and age, into RV(pending_operations)
        (from C(GET /db/dump), which holds the whole database; off by default for that reason).
    type: bool
    default: false
  include_examine:
    description:
      - Ask Heketi to compare its database with what glusterd and LVM report on every node
        (C(GET /internal/state/examine/gluster), what C(heketi-cli server state examine gluster) calls) and return
        the result in RV(examine). Heketi runs C(gluster volume info) and the LVM reports on each node for it.
    type: bool
    default: false
extends_documentation_fragment:
  - glusterfs.heketi.heketi
  - glusterfs.heketi.attributes
  - glusterfs.heketi.attributes.info_module
seealso:
  - module: glusterfs.heketi.heketi_topology
  - module: glusterfs.heketi.heketi_volume
'''

EXAMPLES = r'''
# The seed's Heketi runs on node1 (192.168.1.113:8080); after loading topology.json, check what it holds.
- name: Read what Heketi manages
  glusterfs.heketi.heketi_info:
    url: http://192.168.1.113:8080
    user: admin
    key: "{{ heketi_admin_key }}"
  register: heketi

- name: Every node of the seed is known, each with its two devices, and the database is consistent
  ansible.builtin.assert:
    that:
      - heketi.db_check.totalinconsistencies == 0
      - heketi.operations.in_flight == 0
      - heketi.summary.nodes == 4
      - heketi.summary.devices == 8
      - heketi.devices | selectattr('state', 'ne', 'online') | list | length == 0

- name: Free space per device, in GiB
  ansible.builtin.debug:
    msg: "{{ item.node_hostnames.manage[0] }} {{ item.name }}: {{ (item.storage.free / 1048576) | round(1) }} GiB free"
  loop: "{{ heketi.devices }}"
  loop_control:
    label: "{{ item.id }}"

# The key as the option key, from Ansible Vault (group_vars/all/vault.yml: heketi_admin_key: !vault ...).
# Not through the task's environment: HEKETI_CLI_KEY set with `environment:` lands in the remote command's
# environment, where ps and -vvv output show it. HEKETI_CLI_* are for what is already in the environment
# (an AWX credential, a shell that sourced /etc/heketi/heketi-cli.env).
- name: Read the clusters only
  glusterfs.heketi.heketi_info:
    url: http://127.0.0.1:8080
    user: admin
    key: "{{ heketi_admin_key }}"
    include_volumes: false
  register: heketi_clusters
'''

RETURN = r'''
clusters:
  description: The clusters Heketi holds.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Cluster id.
      type: str
      sample: 8d1e3b54b1c44b3c9e1c0c7fbbfd4b1a
    file:
      description: Whether file volumes may be created in this cluster.
      type: bool
    block:
      description: Whether block-hosting volumes may be created in this cluster.
      type: bool
    nodes:
      description: Ids of the cluster's nodes.
      type: list
      elements: str
    volumes:
      description: Ids of the cluster's volumes.
      type: list
      elements: str
  sample:
    - id: 8d1e3b54b1c44b3c9e1c0c7fbbfd4b1a
      file: true
      block: true
      nodes: [4f2a8e0f3a1b4c6d8e9f0a1b2c3d4e5f]
      volumes: []
nodes:
  description: Every node, with the ids of its devices.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Node id.
      type: str
    cluster:
      description: Id of the cluster the node belongs to.
      type: str
    zone:
      description: Failure domain of the node.
      type: int
    hostnames:
      description: Management and storage hostnames.
      type: dict
      sample: {"manage": ["192.168.1.113"], "storage": ["192.168.1.113"]}
    state:
      description: V(online), V(offline) or V(failed).
      type: str
    tags:
      description: The node's tags.
      type: dict
    devices:
      description: Ids of the node's devices.
      type: list
      elements: str
devices:
  description: Every device of every node.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Device id.
      type: str
    name:
      description: Device path as it was added.
      type: str
      sample: /dev/sdf
    node:
      description: Id of the node holding the device.
      type: str
    node_hostnames:
      description: Hostnames of the node holding the device.
      type: dict
    cluster:
      description: Id of the cluster the device's node belongs to.
      type: str
    state:
      description: V(online), V(offline) or V(failed).
      type: str
    storage:
      description: Sizes in KiB.
      type: dict
      sample: {"total": 524288000, "free": 524288000, "used": 0}
    tags:
      description: The device's tags.
      type: dict
    paths:
      description: Other paths Heketi knows for the device (udev aliases), when it recorded any.
      type: list
      elements: str
    pv_uuid:
      description:
        - The UUID of the device's LVM physical volume, as Heketi recorded it (empty when it recorded none). Heketi's
          delete runs C(pvremove) through C(/dev/disk/by-id/lvm-pv-uuid-<pv_uuid>) on the node.
      type: str
      version_added: 1.1.0
    bricks:
      description: Number of bricks on the device.
      type: int
volumes:
  description: Every volume, as C(GET /volumes/{id}) returns it. Empty with O(include_volumes=false).
  returned: success
  type: list
  elements: dict
  sample:
    - id: 2b1a9c3d4e5f60718293a4b5c6d7e8f9
      name: smoke
      size: 2
      cluster: 8d1e3b54b1c44b3c9e1c0c7fbbfd4b1a
      durability: {"type": "replicate", "replicate": {"replica": 3}}
      mount: {"glusterfs": {"device": "192.168.1.113:smoke"}}
topology:
  description: The same data nested as C(heketi-cli topology info --json) prints it.
  returned: success
  type: dict
  sample: {"clusters": [{"id": "8d1e3b54b1c44b3c9e1c0c7fbbfd4b1a", "file": true, "block": true, "nodes": [], "volumes": []}]}
operations:
  description:
    - Heketi's operations summary (C(GET /operations)). C(in_flight) counts the operations running now; C(total) the
      pending operations recorded in the database, of which C(new), C(stale) (left by a restart) and C(failed).
  returned: when O(include_operations=true)
  type: dict
  sample: {"total": 0, "in_flight": 0, "stale": 0, "failed": 0, "new": 0}
admin_state:
  description:
    - The server's maintenance state (C(GET /admin)), V(normal), V(read-only) or V(local-client).
    - Heketi 10.3 refuses every write in V(read-only), C(POST /admin) included; only a restart returns it to normal.
  returned: when O(include_operations=true)
  type: str
  sample: normal
db_check:
  description:
    - Heketi's database consistency report (C(GET /db/check)), one entry per kind (C(clusters), C(volumes), C(bricks),
      C(nodes), C(devices), C(blockvolumes), C(dbattributes), C(pendingoperations)) with C(total), C(ok), C(notok),
      C(pending) and C(inconsistencies), plus C(totalinconsistencies).
  returned: when O(include_db_check=true)
  type: dict
  sample: {"totalinconsistencies": 0, "nodes": {"total": 4, "ok": 4, "notok": 0, "pending": 0, "inconsistencies": null}}
pending_operations:
  description:
    - The operations Heketi records as pending, oldest first. C(kind) is Heketi's name of the operation
      (V(create-volume), V(delete-volume), V(expand-volume), V(create-block-volume), V(delete-block-volume),
      V(remove-device), V(clone-volume), V(unknown)); C(status) V(new) (running, or not yet started), V(stale) (left by
      a restart of Heketi) or V(failed); C(timestamp) the Unix time it was recorded; C(age) seconds since then.
  returned: when O(include_pending_operations=true)
  type: list
  elements: dict
  sample: [{"id": "55a780dead861ff1f52609b4c9ec0e93", "kind": "create-volume", "status": "stale",
            "timestamp": 1796672444, "age": 3600, "changes": 4}]
examine:
  description:
    - Heketi's comparison of its database with GlusterFS. C(report) holds Heketi's own lines; C(gluster_volumes) the
      volume names glusterd reports per cluster (a dict of cluster id to names); C(heketi_volumes) the names Heketi holds
      per cluster, without those of pending operations; C(unreachable_clusters) clusters with nodes from which Heketi could fetch nothing.
  returned: when O(include_examine=true)
  type: dict
  sample: {"report": ["heketi volume list matches with volume list of all nodes"], "gluster_volumes": {},
           "heketi_volumes": {}, "unreachable_clusters": []}
summary:
  description: Counts and total sizes (KiB) over all devices.
  returned: success
  type: dict
  sample: {"clusters": 1, "nodes": 4, "devices": 8, "volumes": 0, "total": 4194304000, "free": 4194304000, "used": 0}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi import (
    HEKETI_ARGUMENT_SPEC,
    run_module,
)
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_operations import pending_operations


def collect(client, include_volumes=True):
    """Read the server and return the module's result keys."""
    topology = client.topology(include_volumes=include_volumes)
    clusters, nodes, devices, volumes = [], [], [], []
    totals = {'total': 0, 'free': 0, 'used': 0}
    for cluster in topology['clusters']:
        volume_ids = [v['id'] if isinstance(v, dict) else v for v in cluster.get('volumes') or []]
        clusters.append({
            'id': cluster['id'],
            'file': cluster['file'],
            'block': cluster['block'],
            'nodes': [n['id'] for n in cluster.get('nodes') or []],
            'volumes': volume_ids,
        })
        for node in cluster.get('nodes') or []:
            node_devices = node.get('devices') or []
            nodes.append({
                'id': node['id'],
                'cluster': node.get('cluster') or cluster['id'],
                'zone': node.get('zone'),
                'hostnames': node.get('hostnames') or {},
                'state': node.get('state'),
                'tags': node.get('tags') or {},
                'devices': [d['id'] for d in node_devices],
            })
            for dev in node_devices:
                storage = dev.get('storage') or {}
                for name in totals:
                    totals[name] += int(storage.get(name) or 0)
                devices.append({
                    'id': dev['id'],
                    'name': dev.get('name'),
                    'node': node['id'],
                    'node_hostnames': node.get('hostnames') or {},
                    'cluster': node.get('cluster') or cluster['id'],
                    'state': dev.get('state'),
                    'storage': storage,
                    'tags': dev.get('tags') or {},
                    'paths': dev.get('paths') or [],
                    'pv_uuid': dev.get('pv_uuid') or '',
                    'bricks': len(dev.get('bricks') or []),
                })
        if include_volumes:
            volumes.extend(v for v in cluster.get('volumes') or [] if isinstance(v, dict))
    summary = dict(clusters=len(clusters), nodes=len(nodes), devices=len(devices),
                   volumes=sum(len(c['volumes']) for c in clusters), **totals)
    return dict(clusters=clusters, nodes=nodes, devices=devices, volumes=volumes,
                topology=topology, summary=summary)


def examine_summary(answer):
    """Heketi's examine answer reduced to its report and the volume names on each side, per cluster."""
    answer = answer or {}
    heketidb = answer.get('heketidb') or {}
    heketi_volumes = {}
    for entry in (heketidb.get('volumeentries') or {}).values():
        if (entry.get('Pending') or {}).get('Id'):
            continue  # part of a pending operation (reported as such): GlusterFS may not have it yet
        info = entry.get('Info') or {}
        heketi_volumes.setdefault(info.get('cluster'), []).append(info.get('name'))
    gluster_volumes, unreachable = {}, []
    nodes_of = {cid: (c.get('Info') or {}).get('nodes') or [] for cid, c in (heketidb.get('clusterentries') or {}).items()}
    for cluster in answer.get('clusters') or []:
        cid = cluster.get('ClusterHeketiID')
        names = set()
        data = cluster.get('NodesData') or []
        for node in data:
            volumes = ((node.get('VolumeInfo') or {}).get('Volumes') or {}).get('VolumeList') or []
            names.update(v.get('VolumeName') for v in volumes)
        if not data and nodes_of.get(cid):
            unreachable.append(cid)
        gluster_volumes[cid] = sorted(n for n in names if n)
    for cid, nodes in nodes_of.items():
        if nodes and cid not in gluster_volumes and cid not in unreachable:
            unreachable.append(cid)
    return {'report': answer.get('report') or [], 'gluster_volumes': gluster_volumes,
            'heketi_volumes': {k: sorted(v) for k, v in heketi_volumes.items()}, 'unreachable_clusters': unreachable}


def run(module, client):
    result = collect(client, include_volumes=module.params['include_volumes'])
    if module.params['include_operations']:
        result['operations'] = client.get('/operations') or {}
        result['admin_state'] = (client.get('/admin') or {}).get('state')
    if module.params['include_db_check']:
        result['db_check'] = client.get('/db/check') or {}
    if module.params['include_pending_operations']:
        result['pending_operations'] = pending_operations(client.get('/db/dump'))
    if module.params['include_examine']:
        result['examine'] = examine_summary(client.get('/internal/state/examine/gluster'))
    return dict(result, changed=False)


def main():
    argument_spec = dict(HEKETI_ARGUMENT_SPEC)
    argument_spec.update(include_volumes=dict(type='bool', default=True),
                         include_operations=dict(type='bool', default=True),
                         include_db_check=dict(type='bool', default=True),
                         include_pending_operations=dict(type='bool', default=False),
                         include_examine=dict(type='bool', default=False))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, run)


if __name__ == '__main__':
    main()
