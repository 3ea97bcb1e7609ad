# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: ssh_key_options
short_description: The authorized_keys options of Heketi's key, with every from= entry validated
version_added: 1.1.0
description:
  - Builds the options the C(glusterfs.heketi.heketi) role puts before Heketi's public key in C(authorized_keys)
    on the storage nodes, C(restrict) (no pty, no agent, port or X11 forwarding, no C(~/.ssh/rc)) and, when
    O(restrict_from) is true, C(from="...") with the given sources.
  - Each source must be an IPv4 or IPv6 address, a CIDR network or a host name (OpenSSH's C(*) and C(?) wildcards
    allowed in names). A quote, a comma or a space in an entry is refused, as is an empty list (the key is never
    authorized with C(from=""), which OpenSSH would read as "from nowhere" or mis-parse).
  - Errors name the offending entry by O(field) and index, before anything is changed.
positional: _input
options:
  _input:
    description: The sources allowed to use the key.
    type: list
    elements: str
    required: true
  restrict_from:
    description: Add C(from=) (when false the list is not used and may be empty).
    type: bool
    default: true
  field:
    description: Name of the variable the list came from, used in error messages.
    type: str
    default: heketi_ssh_from_addresses
'''

EXAMPLES = r'''
- name: Work out the options of Heketi's authorized key
  ansible.builtin.set_fact:
    __key_options: >-
      {{ ['192.0.2.10', '2001:db8::10', '192.0.2.0/28', 'heketi.example.com']
         | glusterfs.heketi.ssh_key_options }}
  # restrict,from="192.0.2.10,2001:db8::10,192.0.2.0/28,heketi.example.com"
'''

RETURN = r'''
_value:
  description: The options, for example V(restrict,from="192.0.2.10"), or V(restrict) without C(from=).
  type: str
'''

import ipaddress
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

# A host name label, with OpenSSH's pattern wildcards: letters, digits, '-', '_', '*', '?'.
_LABEL = re.compile(r'^[A-Za-z0-9_*?]([A-Za-z0-9_*?-]{0,61}[A-Za-z0-9_*?])?$')


def _valid_source(entry):
    """None when ``entry`` is an address, a CIDR or a host name, else why not."""
    if not entry:
        return 'is empty'
    if re.search(r'[\s"\',]', entry):
        return 'contains a quote, comma or space, which would break out of from="..."'
    if entry.startswith('!'):
        return 'is a negation; list only the sources allowed'
    try:
        if '/' in entry:
            ipaddress.ip_network(entry, strict=False)
        else:
            ipaddress.ip_address(entry)
        return None
    except ValueError:
        pass
    if '/' in entry or ':' in entry:
        return 'is not a valid address or CIDR network'
    if re.match(r'^[0-9.]+$', entry):
        return 'is not a valid IPv4 address'
    if len(entry) > 253 or not all(_LABEL.match(label) for label in entry.rstrip('.').split('.')):
        return 'is not an address, a CIDR network or a host name'
    return None


def ssh_key_options(sources, restrict_from=True, field='heketi_ssh_from_addresses'):
    """See DOCUMENTATION."""
    if not restrict_from:
        return 'restrict'
    if sources is None or isinstance(sources, (str, bytes, dict)):
        raise AnsibleFilterError('%s must be a list of addresses, CIDR networks or host names' % field)
    entries = [to_text(s).strip() if s is not None else '' for s in sources]
    if not entries:
        raise AnsibleFilterError(
            '%s: no source to restrict Heketi\'s key to (the Heketi host has no default IPv4 or IPv6 address); '
            'list the addresses Heketi connects from, or set heketi_ssh_restrict_from: false' % field)
    for index, entry in enumerate(entries):
        why = _valid_source(entry)
        if why:
            raise AnsibleFilterError('%s[%d] %r %s' % (field, index, entry, why))
    unique = []
    for entry in entries:
        if entry not in unique:
            unique.append(entry)
    return 'restrict,from="%s"' % ','.join(unique)


class FilterModule(object):

    def filters(self):
        return {'ssh_key_options': ssh_key_options}
