#!/usr/bin/python
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs on the Heketi host, whose platform Python may be old (EL7: 2.7, EL8: 3.6): the classic
# boilerplate and no newer syntax (no concurrent.futures: plain threads).
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: ssh_reach_info
short_description: Check from the Heketi host that Heketi's ssh executor can use every storage node
version_added: 1.2.0
description:
  - Runs on the Heketi host. For every node in O(nodes) it runs C(ssh) to the node's address non-interactively, with
    Heketi's key, as Heketi's executor does, and there runs C(gluster --version) and C(systemctl is-active glusterd)
    (through C(sudo -n) with O(sudo)).
  - For a node given with C(teardown) (the devices a day-2 playbook is about to have Heketi delete), it also checks,
    read-only, what Heketi's delete will need there, in the same ssh session - the device's volume group
    C(vg_<id>) (C(vgs)) and the C(/dev/disk/by-id/lvm-pv-uuid-<PV UUID>) link udev makes, through which Heketi runs
    C(pvremove).
  - Checks the nodes at the same time, at most O(parallel) at once. The answer lists them in the order given.
  - Verifies host keys strictly against O(known_hosts), the file Heketi itself verifies them against
    (C(StrictHostKeyChecking=yes), C(GlobalKnownHostsFile=/dev/null), C(CheckHostIP=no)), and adds nothing to it.
    It uses C(BatchMode=yes) (no password or passphrase prompt), C(LogLevel=ERROR) and C(ConnectTimeout=)O(timeout).
  - Changes nothing, on the Heketi host or on the nodes. The verdict is the caller's
    (the topology role's C(glusterfs.heketi.topology_reach_refusals) filter).
author:
  - glusterfs.heketi developers (@glusterfs)
requirements:
  - The OpenSSH client (C(ssh)) on the Heketi host (the heketi role installs it).
options:
  nodes:
    description:
      - The storage nodes, in the topology's order. Each has C(host), the node's name as reports name it (its
        inventory host), and C(manage), the address Heketi reaches it at. Other keys are ignored, so the topology
        role's model of the nodes can be given as it is.
      - Optional C(teardown), a list of Heketi devices on that node, each with C(id), C(name) and C(pv_uuid) (as
        M(glusterfs.heketi.heketi_info) returns them), whose teardown is checked too (RV(nodes[].teardown)). Other
        keys, such as the topology's C(devices), are ignored.
    type: list
    elements: dict
    required: true
  key_file:
    description: Heketi's private key (C(glusterfs.sshexec.keyfile) of C(heketi.json)).
    type: path
    required: true
  user:
    description: The user Heketi logs in as (C(glusterfs.sshexec.user)).
    type: str
    default: root
  port:
    description: The nodes' ssh port (C(glusterfs.sshexec.port)).
    type: int
    default: 22
  sudo:
    description: Run the commands through C(sudo -n), as Heketi does with C(glusterfs.sshexec.sudo).
    type: bool
    default: false
  timeout:
    description: Seconds C(ssh) waits for each connection (C(ConnectTimeout)).
    type: int
    default: 10
  known_hosts:
    description: The known_hosts file the host keys are verified against (Heketi's C(SSH_KNOWN_HOSTS)).
    type: path
    required: true
  parallel:
    description: How many nodes are checked at once at most.
    type: int
    default: 16
extends_documentation_fragment:
  - glusterfs.heketi.attributes
  - glusterfs.heketi.attributes.info_module
notes:
  - The topology role runs it on the Heketi host before it loads the topology (C(roles/topology/tasks/preflight.yml)).
seealso:
  - module: glusterfs.heketi.heketi_topology
'''

EXAMPLES = r'''
# On the Heketi host: can Heketi's ssh executor use the seed's nodes?
- name: Check that the Heketi host reaches every node over ssh with Heketi's key and can run gluster
  glusterfs.heketi.ssh_reach_info:
    nodes:
      - {host: node1, manage: 192.0.2.11}
      - {host: node2, manage: 192.0.2.12}
    key_file: /etc/heketi/heketi_key
    known_hosts: /etc/heketi/known_hosts
  register: reach

- name: Stop when a node cannot be used
  ansible.builtin.fail:
    msg: "{{ __failed }}"
  vars:
    __failed: "{{ reach.nodes | glusterfs.heketi.topology_reach_refusals(nodes=2, known_hosts='/etc/heketi/known_hosts') }}"
  when: __failed | length > 0
'''

RETURN = r'''
nodes:
  description: One entry per O(nodes) item, in that order.
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: The node's name, as given.
      type: str
      sample: node2
    manage:
      description: The address that was checked, as given.
      type: str
      sample: 192.0.2.12
    rc:
      description:
        - The exit status of C(ssh). 0 means the node is usable, 255 that C(ssh) itself failed (a host key
          mismatch included), any other value that C(gluster --version) or the glusterd check failed.
      type: int
      sample: 255
    reason:
      description:
        - What C(ssh) and the commands printed (standard output and error, on one line). After a host key
          mismatch it is just C(Host key verification failed.), without ssh's warning banner.
      type: str
      sample: "Permission denied (publickey)."
    teardown:
      description:
        - For a node given with C(teardown), one entry per device, in that order. When C(ssh) itself failed
          (RV(nodes[].rc) 255) each device's C(teardown) is V(unknown).
        - C(teardown) is V(ready) (the volume group is there and so is the link Heketi's C(pvremove) goes through,
          or Heketi recorded no PV UUID), V(link_missing) (the volume group is there, the link is not - Heketi's
          delete would remove the volume group and then fail), V(torn_down) (no volume group - an earlier delete
          got that far; only Heketi's forget can finish it) or V(unknown); C(message) says so, with the fix, in one
          sentence (empty for V(ready)).
      type: list
      elements: dict
      returned: for a node given with C(teardown)
      sample: [{"id": "3c1b4e5f60718293a4b5c6d7e8f90a1b", "name": "/dev/sdg", "vg": "vg_3c1b4e5f60718293a4b5c6d7e8f90a1b",
                "link": "/dev/disk/by-id/lvm-pv-uuid-rJ0bIG-3XNc-NoS0-fkKm-batK-dFyX-xbxHym", "teardown": "link_missing",
                "message": "/dev/sdg: /dev/disk/by-id/lvm-pv-uuid-rJ0bIG-... is missing; ..."}]
'''

import re
import threading

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure, run_module

_KEY_FAILED = 'Host key verification failed'
_TEXT = (type(u''), str)
_LINK_PREFIX = '/dev/disk/by-id/lvm-pv-uuid-'
_MARK = 'glusterfs-heketi-device'
_ID = re.compile(r'^[0-9a-fA-F]+$')
_UUID = re.compile(r'^[A-Za-z0-9-]*$')


def device_probe(device, prefix):
    """Shell text printing one line '<mark> <id> vg=0|1 link=0|1' for a device (ids and UUIDs are checked first)."""
    link = _LINK_PREFIX + device['pv_uuid'] if device.get('pv_uuid') else ''
    return ('if %svgs vg_%s >/dev/null 2>&1; then v=1; else v=0; fi; '
            'if [ -z "%s" ] || [ -e "%s" ]; then l=1; else l=0; fi; echo "%s %s vg=$v link=$l"; '
            % (prefix, device['id'], link, link, _MARK, device['id']))


def ssh_argv(ssh, node, key_file, port, user, sudo, timeout, known_hosts):
    """The command Heketi's ssh executor would need to work: the node's gluster and glusterd, non-interactively;
    with the node's devices, also what Heketi's delete of each needs there (read-only)."""
    prefix = 'sudo -n ' if sudo else ''
    command = '%sgluster --version >/dev/null && %ssystemctl is-active glusterd' % (prefix, prefix)
    if node.get('teardown'):
        command = '%s; rc=$?; %sexit $rc' % (command, ''.join(device_probe(d, prefix) for d in node['teardown']))
    return [ssh, '-n', '-i', key_file, '-p', str(port),
            '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
            '-o', 'UserKnownHostsFile=%s' % known_hosts, '-o', 'GlobalKnownHostsFile=/dev/null',
            '-o', 'CheckHostIP=no', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=%d' % timeout,
            '%s@%s' % (user, node['manage']), command]


TEARDOWN_MESSAGES = {
    'ready': '',
    'link_missing': ("{name}: {link}, the link udev makes for its LVM physical volume, is missing; Heketi's delete runs "
                     "vgremove {vg} and then pvremove through that link, so it would stop half-way. Fix: "
                     "'udevadm trigger --action=add --subsystem-match=block && udevadm settle' where udev runs, or "
                     "create the link as udev would: 'ln -s {name} {link}'."),
    'torn_down': ("{name}: its volume group {vg} is already gone (an earlier delete stopped after vgremove); only "
                  "Heketi's forget can finish the delete (a best-effort pvremove, then the device leaves Heketi)."),
    'unknown': "{name}: not checked (ssh to the node failed).",
}


def device_answers(devices, rc, out):
    """The devices' teardown verdicts from the probe lines in ``out`` (see RETURN)."""
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == _MARK:
            found[parts[1]] = (parts[2] == 'vg=1', parts[3] == 'link=1')
    answers = []
    for device in devices or []:
        link = _LINK_PREFIX + device['pv_uuid'] if device.get('pv_uuid') else ''
        if rc == 255 or device['id'] not in found:
            teardown = 'unknown'
        else:
            vg, linked = found[device['id']]
            teardown = 'torn_down' if not vg else ('ready' if linked else 'link_missing')
        answers.append(dict(id=device['id'], name=device.get('name'), vg='vg_' + device['id'], link=link,
                            teardown=teardown, message=TEARDOWN_MESSAGES[teardown].format(
                                name=device.get('name'), link=link, vg='vg_' + device['id'])))
    return answers


def reason(output):
    """ssh's and the commands' output on one line; after a changed host key only ssh's own verdict."""
    if _KEY_FAILED in output:
        return _KEY_FAILED + '.'
    return output.replace('\r', '').replace('\n', ' ').replace('\t', ' ').strip()


def check_all(nodes, argv_of, run, parallel=16):
    """One answer per node, in the nodes' order; at most ``parallel`` ssh run at once.

    ``run(argv)`` returns (exit status, standard output, standard error), as AnsibleModule.run_command does
    (which copies the environment for each call and so may run in several threads at once)."""
    answers = [None] * len(nodes)
    todo = list(enumerate(nodes))
    lock = threading.Lock()

    def work():
        while True:
            with lock:
                if not todo:
                    return
                index, node = todo.pop(0)
            rc, out, err = run(argv_of(node))
            shown = '\n'.join(line for line in out.splitlines() if not line.startswith(_MARK + ' '))
            answers[index] = dict(host=node['host'], manage=node['manage'], rc=rc, reason=reason(shown + err))
            if node.get('teardown'):
                answers[index]['teardown'] = device_answers(node['teardown'], rc, out)

    threads = [threading.Thread(target=work) for _unused in range(max(1, min(parallel, len(nodes))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def node_errors(nodes):
    """One message per entry of ``nodes`` without a text host and manage."""
    errors = ['nodes[%d] needs a host and a manage address (text), got %r' % (index, node)
              for index, node in enumerate(nodes)
              if not all(isinstance(node.get(key), _TEXT) and node.get(key) for key in ('host', 'manage'))]
    for index, node in enumerate(nodes):
        devices = node.get('teardown') or []
        if not isinstance(devices, list):
            errors.append('nodes[%d].teardown must be a list, got %r' % (index, devices))
            continue
        for number, device in enumerate(devices):
            if not (isinstance(device, dict) and isinstance(device.get('id'), _TEXT) and _ID.match(device['id'])
                    and isinstance(device.get('pv_uuid') or '', _TEXT) and _UUID.match(device.get('pv_uuid') or '')):
                errors.append('nodes[%d].teardown[%d] needs a Heketi device id (hexadecimal) and a pv_uuid of letters, '
                              'digits and dashes, got %r' % (index, number, device))
    return errors


def run(module):
    p = module.params
    errors = node_errors(p['nodes'])
    if errors:
        raise ModuleFailure('; '.join(errors))
    if p['parallel'] < 1:
        raise ModuleFailure('parallel must be at least 1, got %d' % p['parallel'])
    ssh = module.get_bin_path('ssh')
    if ssh is None:
        raise ModuleFailure('ssh was not found on the Heketi host: install the OpenSSH client (the heketi role does)')

    def argv_of(node):
        return ssh_argv(ssh, node, p['key_file'], p['port'], p['user'], p['sudo'], p['timeout'], p['known_hosts'])

    def run_ssh(argv):
        return module.run_command(argv, environ_update={'LC_ALL': 'C'})

    return dict(changed=False, nodes=check_all(p['nodes'], argv_of, run_ssh, parallel=p['parallel']))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            nodes=dict(type='list', elements='dict', required=True),
            key_file=dict(type='path', required=True, no_log=False),
            user=dict(type='str', default='root'),
            port=dict(type='int', default=22),
            sudo=dict(type='bool', default=False),
            timeout=dict(type='int', default=10),
            known_hosts=dict(type='path', required=True),
            parallel=dict(type='int', default=16),
        ),
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
