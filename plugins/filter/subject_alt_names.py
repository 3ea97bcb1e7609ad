# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: subject_alt_names
short_description: The subjectAltName entries of Heketi's TLS certificate
version_added: 1.1.0
description:
  - Turns the names and addresses clients use to reach Heketi into C(community.crypto) subject alternative names,
    C(IP:) for an IPv4 or IPv6 address and C(DNS:) for a host name, without duplicates and in the order given.
  - Empty entries are skipped; an entry that is neither an address nor a host name is an error naming it.
positional: _input
options:
  _input:
    description: Names and addresses (the role passes 127.0.0.1, the host's names and addresses, and O(field)).
    type: list
    elements: str
    required: true
  field:
    description: Name of the variable in error messages.
    type: str
    default: heketi_tls_names
'''

EXAMPLES = r'''
- name: SANs for 127.0.0.1, the host's name and its address
  ansible.builtin.set_fact:
    __sans: "{{ ['127.0.0.1', 'node1', 'node1.example.com', '192.0.2.11'] | glusterfs.heketi.subject_alt_names }}"
  # ['IP:127.0.0.1', 'DNS:node1', 'DNS:node1.example.com', 'IP:192.0.2.11']
'''

RETURN = r'''
_value:
  description: The entries, each C(IP:<address>) or C(DNS:<name>).
  type: list
  elements: str
'''

import ipaddress
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

_LABEL = re.compile(r'^(\*|[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)$')


def subject_alt_names(names, field='heketi_tls_names'):
    """See DOCUMENTATION."""
    if names is None or isinstance(names, (str, bytes, dict)):
        raise AnsibleFilterError('%s must be a list of host names and addresses' % field)
    out = []
    for index, raw in enumerate(names):
        name = to_text(raw).strip() if raw is not None else ''
        if not name:
            continue
        try:
            entry = 'IP:%s' % ipaddress.ip_address(name)
        except ValueError:
            labels = name.rstrip('.').split('.')
            if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
                raise AnsibleFilterError('%s[%d] %r is neither an IP address nor a host name' % (field, index, name))
            entry = 'DNS:%s' % name.rstrip('.').lower()
        if entry not in out:
            out.append(entry)
    return out


class FilterModule(object):

    def filters(self):
        return {'subject_alt_names': subject_alt_names}
