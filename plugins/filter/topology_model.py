# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: topology_model
short_description: The topology role's checked model of Heketi's topology
version_added: 1.1.0
description:
  - Builds the topology from the storage hosts' variables (C(topology_devices), C(topology_zone), C(topology_manage),
    C(topology_storage), C(topology_cluster), C(topology_tags)), or reads the user's C(topology.json) text, and checks
    it with the validator M(glusterfs.heketi.heketi_topology) uses, so both refuse the same mistakes.
  - Inventory mistakes name the host and the variable (for example C(node3) and C(topology_zone)),
    mistakes in a file its JSON path. Duplicate JSON keys, device paths that are one device written twice
    (C(/dev/sdb) and C(/dev//sdb)), trailing newlines and scoped IPv6 addresses are refused.
  - C(destroydata) is kept only when O(wipe) is true, whatever the source.
  - Every node is matched to the inventory host whose devices are checked; with O(check_devices) a node
    that matches none is an error.
positional: _input
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: The storage hosts (C(groups[topology_storage_group])).
    type: list
    elements: str
    required: true
  group:
    description: The name of that group, for messages.
    type: str
    required: true
  src:
    description: Path of the user's topology.json (empty = build from the inventory).
    type: str
    default: ""
  src_text:
    description: The content of O(src).
    type: str
    default: ""
  defaults:
    description: C(devices), C(zone) and C(cluster) of hosts that do not set them.
    type: dict
    default: {}
  wipe:
    description: C(topology_wipe_devices).
    type: bool
    default: false
  check_devices:
    description: C(topology_check_devices).
    type: bool
    default: true
  targets:
    description:
      - The inventory hosts the run targets (what C(--limit) leaves), or omitted for all. The nodes of other hosts are
        neither device-checked nor loaded.
    type: list
    elements: str
'''

EXAMPLES = r'''
- name: Build and check the topology
  ansible.builtin.set_fact:
    __topology_model: >-
      {{ hostvars | glusterfs.heketi.topology_model(hosts=groups['glusterfs_servers'], group='glusterfs_servers',
         defaults={'devices': ['/dev/sdf'], 'zone': 1, 'cluster': 'default'}) }}
'''

RETURN = r'''
_value:
  description: The model.
  type: dict
  contains:
    errors:
      description: Every mistake found; empty when the topology can be loaded.
      type: list
      elements: str
    topology:
      description: The whole topology.json document (device paths normalised, C(destroydata) gated).
      type: dict
    load:
      description: What this run loads, the topology without the nodes of the hosts outside O(targets).
      type: dict
    untargeted:
      description: The inventory hosts of the topology outside O(targets) (neither device-checked nor loaded).
      type: list
      elements: str
    nodes:
      description: Per node C(path), C(host) (the inventory host), C(inventory) (whether one matched), C(manage)
        and C(devices) (C(name), C(destroydata)).
      type: list
      elements: dict
    gated:
      description: The devices whose C(destroydata=true) was dropped because O(wipe) is false.
      type: list
      elements: str
'''

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology.inventory import model


def topology_model(hostvars, hosts, group, src='', src_text='', defaults=None, wipe=False, check_devices=True,
                   targets=None):
    return model(list(hosts or []), hostvars, group, src, src_text, defaults or {}, boolean(wipe, strict=False),
                 boolean(check_devices, strict=False), None if targets is None else list(targets))


class FilterModule(object):
    def filters(self):
        return {'topology_model': topology_model}
