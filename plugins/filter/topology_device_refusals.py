# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: topology_device_refusals
short_description: The topology stage's verdict on the device facts the storage nodes reported
version_added: 1.1.0
description:
  - Reads, for every topology node matched to an inventory host, the result of
    M(glusterfs.heketi.storage_device_info) that host registered as C(__topology_device_info) (the
    topology role's C(check_devices.yml), run in a play on the storage nodes).
  - Returns one line per refusal, naming the host, the device and what is wrong, followed by the fix for that kind of
    refusal (RV(glusterfs.heketi.storage_device_info#module:devices[].refusal_kinds)) - a device that does not exist is
    named as missing with how to find the right name; only data on a device (partitions, a partition table, a
    signature) gets the wipe switch as a way out.
  - Fails closed. A host that has no such result (unreachable, failed, skipped, or the play on the storage
    nodes was not run), or whose result is for other devices than the topology lists for it, is a problem.
positional: _input
options:
  _input:
    description: Topology nodes, each a dict with C(host) (inventory name) and C(devices) (dicts with C(name)).
    type: list
    elements: dict
    required: true
  hostvars:
    description: Ansible's C(hostvars).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Stop when a device is unsafe
  ansible.builtin.fail:
    msg: "{{ __bad }}"
  vars:
    __bad: "{{ __topology_model.nodes | selectattr('inventory') | glusterfs.heketi.topology_device_refusals(hostvars) }}"
  when: __bad | length > 0
'''

RETURN = r'''
_value:
  description:
    - "One line per refusal (or per host without device facts), for example
      C(node4: /dev/sdg carries a ext4 signature. Fix: ...)."
  type: list
  elements: str
'''

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

FACT = '__topology_device_info'

# The fix for each kind of refusal (storage_device_info's refusal_kinds). Only data is a matter for a wipe.
FIXES = {
    'missing': ('no such device on {host}: correct the name in topology_devices of {host} (lsblk, or ls -l /dev/disk/by-id '
                'on the node, lists its disks) or drop it from the list; wiping cannot help'),
    'not_block': 'topology_devices lists whole disks (/dev/sdX or a /dev/disk/by-id link): correct the entry of {host}',
    'alias': 'drop the second name from topology_devices of {host}',
    'in_use': ('Heketi never takes a device in use, whatever the wipe switch says: unmount it, swapoff, or release it '
               'from its holder on {host}, or list another device'),
    'unreadable': 'check the disk on {host} (dmesg) and that the play runs as root there (become)',
    'data': ('if its data is not needed, clean it on {host} (wipefs -a), or set both topology_wipe_devices: true and '
             'destroydata: true on that device to let Heketi wipe it'),
}


def topology_device_refusals(nodes, hostvars):
    if not isinstance(nodes, (list, tuple)):
        raise AnsibleFilterError('topology_device_refusals: expected a list of topology nodes, got %s' % type(nodes).__name__)
    wanted = {}
    for node in nodes:
        if not isinstance(node, Mapping) or 'host' not in node:
            raise AnsibleFilterError('topology_device_refusals: every node needs a host, got %r' % (node,))
        wanted.setdefault(node['host'], []).extend(d['name'] for d in node.get('devices') or [])
    out = []
    for host, devices in wanted.items():
        info = hostvars[host].get(FACT) if host in hostvars else None
        reported = info.get('devices') if isinstance(info, Mapping) else None
        if not isinstance(reported, list):
            why = (info or {}).get('msg') or ('skipped' if (info or {}).get('skipped') else '')
            out.append('%s: no device facts, so its devices cannot be shown to be unused (the device check did not run'
                       ' there%s; run tasks_from check_devices.yml in a play on the storage nodes first, as'
                       ' playbooks/topology.yml does, or set topology_check_devices: false)' % (host, ': ' + why if why else ''))
            continue
        if [d.get('path') for d in reported] != devices:
            out.append('%s: the device facts are for %s, not for the devices the topology lists (%s)'
                       % (host, ', '.join(str(d.get('path')) for d in reported), ', '.join(devices)))
            continue
        for dev in reported:
            kinds = dev.get('refusal_kinds') or []
            for index, refusal in enumerate(dev.get('refusals') or []):
                fix = FIXES.get(kinds[index]) if index < len(kinds) else None
                out.append('%s: %s.%s' % (host, refusal, ' Fix: %s.' % fix.format(host=host) if fix else ''))
    return out


class FilterModule(object):
    def filters(self):
        return {'topology_device_refusals': topology_device_refusals}
