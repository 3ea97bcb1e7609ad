#!/usr/bin/python
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Runs on the storage nodes, whose platform Python may be old (EL7: 2.7, EL8: 3.6): the classic
# boilerplate and no newer syntax, unlike the modules that run beside Heketi.
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: storage_device_info
short_description: Read what the block devices of a storage node are, and whether Heketi may take them
version_added: 1.1.0
description:
  - Reads, without writing anything, what each device path given in O(devices) is on the node it runs on
    (the storage node, not the Heketi host), namely the resolved path, C(major:minor), whether it is a block device,
    its filesystem and partition-table signatures (C(blkid -p), a low-level probe that needs no udev), its
    partitions, where it or a partition is mounted or used as swap, and its holders
    (C(/sys/class/block/NAME/holders)) such as active LVM volumes, md arrays, multipath maps or dm-crypt.
  - Fails closed. A device that cannot be opened for reading, or that C(blkid) cannot probe (missing,
    not allowed, an error), is reported as unreadable and refused; it is never reported clean.
  - Compares devices by what they are, not by name. Two paths that resolve to the same C(major:minor)
    (C(/dev/sdb), C(/dev/./sdb), a C(/dev/disk/by-id) link) are one disk; every entry after the first is
    refused naming the first.
  - Says for each device why Heketi must not take it (RV(devices[].refusals)). A partition table, partitions,
    or a foreign signature are refused unless the device is listed in O(wipe) (the user allowed Heketi to
    wipe it); a device that is missing, not a block device, unreadable, mounted, used as swap, held by
    another device or an alias of an earlier entry is refused whatever O(wipe) says. An LVM physical
    volume of a volume group matching O(owned_vg_pattern) (Heketi's own, from an earlier load) is not a
    refusal, and neither are holders that are logical volumes of that group (Heketi's bricks).
author:
  - glusterfs.heketi developers (@glusterfs)
requirements:
  - Linux with C(/sys) and C(/proc).
  - C(blkid) (util-linux) on the node; without it every device is reported unreadable.
  - C(pvs) (lvm2) to name the volume group of an LVM physical volume; without it such a device counts as foreign.
options:
  devices:
    description:
      - Device paths as the topology names them, in the topology's order (which decides which of two aliases is first).
    type: list
    elements: str
    required: true
  wipe:
    description:
      - Paths of O(devices) that Heketi is allowed to wipe (C(destroydata) with the wipe switch on).
      - Partitions, a partition table or a foreign signature on these devices are not refusals.
    type: list
    elements: str
    default: []
  owned_vg_pattern:
    description:
      - Regular expression for the volume groups that belong to Heketi (it names them C(vg_) and 32 hex digits).
    type: str
    default: '^vg_[0-9a-f]{32}$'
extends_documentation_fragment:
  - glusterfs.heketi.attributes
  - glusterfs.heketi.attributes.info_module
notes:
  - The topology role runs it in a play on the storage nodes, so all nodes are inspected at once, under
    Ansible's forks (C(roles/topology/tasks/check_devices.yml)).
seealso:
  - module: glusterfs.heketi.heketi_topology
'''

EXAMPLES = r'''
# The seed's devices, /dev/sdf and /dev/sdg. In a play on the storage nodes (hosts: glusterfs_servers,
# become: true), so every node inspects its own devices at the same time.
- name: Read the devices
  glusterfs.heketi.storage_device_info:
    devices: [/dev/sdf, /dev/sdg]
  register: disks

- name: Stop when Heketi must not take a device
  ansible.builtin.fail:
    msg: "{{ disks.refusals }}"
  when: disks.refusals | length > 0

# The user allowed Heketi to wipe /dev/sdg (destroydata), so an old xfs signature there is no refusal.
- name: Read the devices, /dev/sdg may be wiped
  glusterfs.heketi.storage_device_info:
    devices: [/dev/sdf, /dev/sdg]
    wipe: [/dev/sdg]
  register: disks
'''

RETURN = r'''
devices:
  description: One entry per O(devices) item, in that order.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The path as given.
      type: str
      sample: /dev/disk/by-id/wwn-0x5000c500a1b2c3d4
    resolved:
      description: The path with every link resolved.
      type: str
      sample: /dev/sdf
    exists:
      description: Whether the path exists.
      type: bool
    block:
      description: Whether it is a block device.
      type: bool
    major_minor:
      description: C(major:minor) of the block device, or V(null).
      type: str
      sample: "8:80"
    kernel_name:
      description: The kernel's name for it (C(/sys/dev/block/MAJ:MIN)), or V(null).
      type: str
      sample: sdf
    size:
      description: Size in bytes, or V(null) when unknown.
      type: int
      sample: 2147483648
    readable:
      description: Whether the device could be opened and read and C(blkid) could probe it.
      type: bool
    read_error:
      description: Why it could not be read or probed, or V(null).
      type: str
      sample: "blkid was not found on the node"
    fstype:
      description: Filesystem or other signature C(blkid) found (for example C(xfs), C(LVM2_member)), or V(null).
      type: str
    pttype:
      description: Partition-table type (C(gpt), C(dos)), or V(null).
      type: str
    vg:
      description: Volume group of an LVM physical volume, or V(null).
      type: str
    partitions:
      description: Kernel names of its partitions.
      type: list
      elements: str
      sample: [sdf1]
    mounts:
      description: Mount points of the device or of its partitions (from C(/proc/self/mountinfo)).
      type: list
      elements: str
    swap:
      description: Whether the device or a partition is active swap.
      type: bool
    holders:
      description: Devices holding it or its partitions, with their kind (V(lvm), V(md), V(multipath), V(crypt), V(dm)).
      type: list
      elements: dict
      sample: [{"name": "dm-0", "kind": "lvm", "dm_name": "vg_data-lv0", "of": "sdf"}]
    alias_of:
      description: The earlier entry of O(devices) that is the same disk, or V(null).
      type: str
    in_use:
      description: Whether it is mounted, swap or held by another device (Heketi's own bricks excepted).
      type: bool
    refusals:
      description: Why Heketi must not take it, one sentence each; empty when it may.
      type: list
      elements: str
    refusal_kinds:
      description:
        - The kind of each refusal, in the order of RV(devices[].refusals) - V(missing) (no such path), V(not_block),
          V(alias), V(in_use) (mounted, swap, held), V(unreadable) or V(data) (partitions, a partition table, a
          signature) - so a caller can give each kind its own fix (only V(data) is a matter for a wipe).
      type: list
      elements: str
      version_added: 1.1.0
refusals:
  description: Every refusal of every device, each starting with the device path.
  returned: always
  type: list
  elements: str
  sample: ["/dev/sdg carries a xfs signature", "/dev/disk/by-id/wwn-0x5 is the same disk as /dev/sdf (8:80)"]
'''

import errno
import os
import re
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure, run_module


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except (IOError, OSError):
        return []


class DeviceProbe(object):
    """Reads devices on this node. Every outside source is an attribute, so tests can point it at a
    fake /sys and /proc tree and a fake blkid."""

    def __init__(self, run_command, get_bin_path, sys_root='/sys', proc_root='/proc',
                 owned_vg_pattern=r'^vg_[0-9a-f]{32}$'):
        self.run_command = run_command
        self.get_bin_path = get_bin_path
        self.sys_root = sys_root
        self.proc_root = proc_root
        self.owned_vg = re.compile(owned_vg_pattern)
        self._mounts = None
        self._swaps = None

    # --- the outside world ---------------------------------------------------------------------
    def stat(self, path):
        return os.stat(path)

    def realpath(self, path):
        return os.path.realpath(path)

    def read_start(self, path):
        """Open the device read-only and read its first block; returns None or the error."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as err:
            return 'cannot be opened for reading: %s' % (os.strerror(err.errno) if err.errno else err)
        try:
            os.read(fd, 4096)
        except OSError as err:
            return 'cannot be read: %s' % (os.strerror(err.errno) if err.errno else err)
        finally:
            os.close(fd)
        return None

    def sysdev(self, major_minor, *parts):
        return os.path.join(self.sys_root, 'dev', 'block', major_minor, *parts)

    def mountinfo(self):
        """major:minor -> mount points."""
        if self._mounts is None:
            self._mounts = {}
            for line in (_read(os.path.join(self.proc_root, 'self', 'mountinfo')) or '').splitlines():
                fields = line.split()
                if len(fields) > 4:
                    self._mounts.setdefault(fields[2], []).append(fields[4].replace('\\040', ' '))
        return self._mounts

    def swaps(self):
        if self._swaps is None:
            self._swaps = [line.split()[0] for line in (_read(os.path.join(self.proc_root, 'swaps')) or '').splitlines()[1:]
                           if line.split()]
        return self._swaps

    # --- one device ----------------------------------------------------------------------------
    def partitions(self, major_minor):
        base = self.sysdev(major_minor)
        return [name for name in _listdir(base) if os.path.exists(os.path.join(base, name, 'partition'))]

    def holder(self, name, of):
        base = os.path.join(self.sys_root, 'class', 'block', name)
        entry = {'name': name, 'kind': 'dm' if name.startswith('dm-') else 'other', 'dm_name': None, 'of': of}
        if name.startswith('md'):
            entry['kind'] = 'md'
        uuid = (_read(os.path.join(base, 'dm', 'uuid')) or '').strip()
        dm_name = (_read(os.path.join(base, 'dm', 'name')) or '').strip()
        if dm_name:
            entry['dm_name'] = dm_name
        for prefix, kind in (('LVM-', 'lvm'), ('mpath-', 'multipath'), ('CRYPT-', 'crypt'), ('part', 'partition')):
            if uuid.startswith(prefix):
                entry['kind'] = kind
        return entry

    def probe(self, path):
        """(fstype, pttype, error) from blkid's low-level probe."""
        blkid = self.get_bin_path('blkid')
        if not blkid:
            return None, None, 'blkid was not found on the node'
        rc, out, err = self.run_command([blkid, '-p', '-o', 'export', path], environ_update={'LC_ALL': 'C'})
        # rc 2 is "nothing found", but blkid also exits 2 when it cannot open the device: only a
        # quiet rc 2 means clean.
        if rc not in (0, 2) or (rc == 2 and err.strip()):
            return None, None, 'blkid -p failed (exit %d): %s' % (rc, err.strip() or out.strip() or 'no output')
        values = dict(line.split('=', 1) for line in out.splitlines() if '=' in line)
        return values.get('TYPE') or None, values.get('PTTYPE') or None, None

    def volume_group(self, path):
        pvs = self.get_bin_path('pvs')
        if not pvs:
            return None
        rc, out, dummy = self.run_command([pvs, '--noheadings', '-o', 'vg_name', path], environ_update={'LC_ALL': 'C'})
        return out.strip() or None if rc == 0 else None

    def inspect(self, path):
        dev = {'path': path, 'resolved': None, 'exists': False, 'block': False, 'major_minor': None,
               'kernel_name': None, 'size': None, 'readable': False, 'read_error': None, 'fstype': None,
               'pttype': None, 'vg': None, 'partitions': [], 'mounts': [], 'swap': False, 'holders': [],
               'alias_of': None, 'in_use': False, 'refusals': [], 'refusal_kinds': []}
        dev['resolved'] = self.realpath(path)
        try:
            st = self.stat(path)
        except OSError as err:
            if err.errno not in (errno.ENOENT, errno.ENOTDIR):
                dev['exists'] = True
                dev['read_error'] = 'cannot be looked at: %s' % os.strerror(err.errno)
            return dev
        dev['exists'] = True
        if not stat.S_ISBLK(st.st_mode):
            return dev
        dev['block'] = True
        major_minor = '%d:%d' % (os.major(st.st_rdev), os.minor(st.st_rdev))
        dev['major_minor'] = major_minor
        link = self.sysdev(major_minor)
        if os.path.exists(link):
            dev['kernel_name'] = os.path.basename(os.path.realpath(link))
            sectors = (_read(os.path.join(link, 'size')) or '').strip()
            dev['size'] = int(sectors) * 512 if sectors.isdigit() else None
        dev['partitions'] = self.partitions(major_minor)

        # Mounted: the device or a partition, by major:minor (mountinfo), or active swap.
        numbers = {major_minor: dev['kernel_name']}
        for part in dev['partitions']:
            number = (_read(self.sysdev(major_minor, part, 'dev')) or '').strip()
            if number:
                numbers[number] = part
        mounts = self.mountinfo()
        for number in sorted(numbers):
            dev['mounts'].extend(mounts.get(number, []))
        names = set([path, dev['resolved']] + ['/dev/' + name for name in numbers.values() if name])
        dev['swap'] = any(entry in names or self.realpath(entry) in names for entry in self.swaps())

        # Holders of the device and of each partition.
        for name in [None] + dev['partitions']:
            folder = self.sysdev(major_minor, *([name, 'holders'] if name else ['holders']))
            for holder in _listdir(folder):
                dev['holders'].append(self.holder(holder, name or dev['kernel_name']))

        error = self.read_start(path)
        if error is None:
            dev['fstype'], dev['pttype'], error = self.probe(path)
        dev['read_error'] = error
        dev['readable'] = error is None
        if dev['readable'] and dev['fstype'] == 'LVM2_member':
            dev['vg'] = self.volume_group(path)
        return dev

    def owned(self, dev):
        return dev['fstype'] == 'LVM2_member' and bool(dev['vg']) and bool(self.owned_vg.search(dev['vg']))

    def judge(self, dev, wipe):
        """Fill in in_use and refusals."""
        path = dev['path']

        def refuse(kind, text):
            dev['refusals'].append(text)
            dev['refusal_kinds'].append(kind)
        own = self.owned(dev)
        foreign_holders = [h for h in dev['holders']
                           if not (own and h['kind'] == 'lvm' and (h['dm_name'] or '').startswith(dev['vg'].replace('-', '--') + '-'))]
        dev['in_use'] = bool(dev['mounts'] or dev['swap'] or foreign_holders)
        if not dev['exists']:
            refuse('missing', '%s does not exist' % path)
        elif dev['read_error'] and not dev['block']:
            refuse('not_block', '%s %s' % (path, dev['read_error']))
        elif not dev['block']:
            refuse('not_block', '%s is not a block device' % path)
        if not dev['block']:
            return dev
        if dev['alias_of']:
            refuse('alias', '%s is the same disk as %s (%s): list it once' % (path, dev['alias_of'], dev['major_minor']))
        if dev['mounts']:
            refuse('in_use', '%s is mounted (%s)' % (path, ', '.join(dev['mounts'])))
        if dev['swap']:
            refuse('in_use', '%s is in use as swap' % path)
        if foreign_holders:
            refuse('in_use', '%s is held by %s' % (path, ', '.join(
                '%s (%s%s)' % (h['name'], h['kind'], ' ' + h['dm_name'] if h['dm_name'] else '') for h in foreign_holders)))
        if not dev['readable']:
            refuse('unreadable', '%s is unreadable, so it cannot be shown to be unused: %s' % (path, dev['read_error']))
            return dev
        if path in wipe:
            return dev
        if dev['partitions']:
            refuse('data', '%s holds partitions (%s)' % (path, ' '.join(dev['partitions'])))
        if dev['pttype']:
            refuse('data', '%s carries a %s partition table' % (path, dev['pttype']))
        if dev['fstype'] and not own:
            refuse('data', '%s carries a %s signature%s' % (
                path, dev['fstype'], (' (volume group %s, not Heketi\'s)' % dev['vg']) if dev['vg'] else ''))
        return dev

    def run(self, paths, wipe):
        seen = {}
        devices = []
        for path in paths:
            dev = self.inspect(path)
            if dev['major_minor']:
                if dev['major_minor'] in seen:
                    dev['alias_of'] = seen[dev['major_minor']]
                else:
                    seen[dev['major_minor']] = path
            devices.append(self.judge(dev, set(wipe)))
        return devices


def run(module):
    unknown = [path for path in module.params['wipe'] if path not in module.params['devices']]
    if unknown:
        raise ModuleFailure('wipe names paths that are not in devices: %s' % ', '.join(unknown))
    try:
        probe = DeviceProbe(module.run_command, lambda name: module.get_bin_path(name, opt_dirs=['/sbin', '/usr/sbin']),
                            owned_vg_pattern=module.params['owned_vg_pattern'])
    except re.error as err:
        raise ModuleFailure('owned_vg_pattern is not a valid regular expression: %s' % err)
    devices = probe.run(module.params['devices'], module.params['wipe'])
    return dict(changed=False, devices=devices, refusals=[refusal for dev in devices for refusal in dev['refusals']])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            devices=dict(type='list', elements='str', required=True),
            wipe=dict(type='list', elements='str', default=[]),
            owned_vg_pattern=dict(type='str', default=r'^vg_[0-9a-f]{32}$'),
        ),
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
