# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: known_hosts
short_description: Heketi's known_hosts file from the storage nodes' host keys gathered by Ansible
version_added: 1.1.0
description:
  - Builds the text of C(/etc/heketi/known_hosts), which Heketi's ssh executor reads through E(SSH_KNOWN_HOSTS)
    and the topology role's reach check uses with C(StrictHostKeyChecking=yes).
  - The host keys are the C(ssh_host_key_*_public) facts each node reported over Ansible's own connection
    (C(ansible.builtin.setup) with the C(ssh_pub_keys) subset), so a key seen for the first time by Heketi is
    never trusted blindly.
  - One line per node and key type; the names are every address Heketi may use for the node, that is C(topology_manage) (a string or a list),
    C(ansible_host) and the inventory name. With a port other than 22 each name is written as C([name]:port).
  - A node without any host key fact, or with a name holding a space, comma or wildcard, is an error naming it.
positional: _input
options:
  _input:
    description: Inventory names of the storage nodes.
    type: list
    elements: str
    required: true
  hostvars:
    description: Ansible's C(hostvars).
    type: dict
    required: true
  port:
    description: The nodes' sshd port (C(heketi_ssh_port)).
    type: int
    default: 22
'''

EXAMPLES = r'''
- name: Write Heketi's known_hosts
  ansible.builtin.copy:
    content: "{{ groups['glusterfs_servers'] | glusterfs.heketi.known_hosts(hostvars, port=22) }}"
    dest: /etc/heketi/known_hosts
    mode: "0640"
'''

RETURN = r'''
_value:
  description: The file's text, for example C(node2,192.0.2.12 ssh-ed25519 AAAA...), one line per node and key type.
  type: str
'''

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

KEY_TYPES = ('ed25519', 'ecdsa', 'rsa', 'dsa')
_NAME = re.compile(r'^[A-Za-z0-9._:%-]+$')
_B64 = re.compile(r'^[A-Za-z0-9+/]+={0,3}$')


def _names(host, hvars):
    names = []
    manage = hvars.get('topology_manage')
    manage = list(manage) if isinstance(manage, (list, tuple)) else [manage]
    for candidate in manage + [hvars.get('ansible_host'), host]:
        if candidate is None:
            continue
        name = to_text(candidate).strip()
        if not _NAME.match(name):
            raise AnsibleFilterError('known_hosts: %s: %r is not a host name or address usable in known_hosts'
                                     % (host, name))
        if name not in names:
            names.append(name)
    return names


def known_hosts(hosts, hostvars, port=22):
    """See DOCUMENTATION."""
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise AnsibleFilterError('known_hosts: port must be an integer, got %r' % (port,))
    lines = []
    for host in hosts:
        hvars = hostvars[host]
        facts = hvars.get('ansible_facts') or {}
        names = _names(host, hvars)
        if port != 22:
            names = ['[%s]:%d' % (name, port) for name in names]
        found = 0
        for key_type in KEY_TYPES:
            public = facts.get('ssh_host_key_%s_public' % key_type)
            if not public:
                continue
            algorithm = facts.get('ssh_host_key_%s_public_keytype' % key_type)
            public = to_text(public).strip()
            if not algorithm or not _B64.match(public):
                raise AnsibleFilterError('known_hosts: %s: the %s host key fact is malformed' % (host, key_type))
            lines.append('%s %s %s' % (','.join(names), to_text(algorithm), public))
            found += 1
        if not found:
            raise AnsibleFilterError(
                'known_hosts: %s reported no ssh host key (facts ssh_host_key_*_public); is sshd installed and are '
                'its keys in /etc/ssh?' % host)
    return '\n'.join(lines) + '\n' if lines else ''


class FilterModule(object):

    def filters(self):
        return {'known_hosts': known_hosts}
