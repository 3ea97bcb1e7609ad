# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: allowed_sources
short_description: The sources a firewall port is opened to, every entry validated
version_added: 1.1.0
description:
  - Validates and normalizes a list of IPv4 or IPv6 addresses and CIDR networks for
    M(glusterfs.heketi.firewall_sources) (the C(heketi) role's C(heketi_api_allowed_sources), the
    C(glusterfs_server) role's C(glusterfs_server_allowed_sources)). A network with host bits set becomes its
    network, a full-length prefix the address; duplicates are dropped, the order is kept.
  - An entry that is not an address or a CIDR network (a host name included, a firewall rule needs an address) is an
    error naming O(field), the index and the entry, raised while the variables are evaluated, before anything is
    changed.
  - With O(resolved), the addresses that the registered results of an C(ansible.builtin.getent) loop
    (C(database=ahosts), one item per inventory host) found are appended; a host whose name did not resolve is an
    error naming it.
positional: _input
options:
  _input:
    description: Addresses and CIDR networks.
    type: list
    elements: str
    required: true
  field:
    description: Name of the variable the list came from, used in error messages.
    type: str
    default: heketi_api_allowed_sources
  resolved:
    description:
      - The C(results) of a registered C(ansible.builtin.getent) loop with C(fail_key=false) whose C(item) is the
        inventory host name.
    type: list
    elements: dict
    default: []
'''

EXAMPLES = r'''
- name: The sources allowed to reach Heketi's API
  ansible.builtin.set_fact:
    __sources: "{{ ['192.0.2.10', '192.0.2.70/26', '2001:db8::10/128'] | glusterfs.heketi.allowed_sources }}"
  # ['192.0.2.10', '192.0.2.64/26', '2001:db8::10']
'''

RETURN = r'''
_value:
  description: The normalized sources.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.glusterfs.heketi.plugins.module_utils._firewall import normalize_list, normalize_source


def _resolved_addresses(results, field):
    addresses = []
    for result in results:
        host = to_text(result.get('item', '?'))
        if result.get('skipped'):
            continue
        found = (result.get('ansible_facts') or {}).get('getent_ahosts') or {}
        here = [address for address, value in found.items() if value is not None]
        if result.get('failed') or not here:
            key = (result.get('invocation') or {}).get('module_args', {}).get('key', host)
            raise AnsibleFilterError(
                '%s: host %s (%s) does not resolve to an address on the firewall host; give its address as '
                'ansible_host, or list the sources in %s' % (field, host, to_text(key), field))
        addresses.extend(sorted(here))
    return addresses


def allowed_sources(entries, field='heketi_api_allowed_sources', resolved=None):
    """See DOCUMENTATION."""
    if entries is None or isinstance(entries, (str, bytes, dict)):
        raise AnsibleFilterError('%s must be a list of IPv4 or IPv6 addresses or CIDR networks (found %r)' % (field, entries))
    entries = list(entries) + _resolved_addresses(resolved or [], field)
    try:
        return normalize_list(entries, normalize_source, field)
    except ValueError as err:
        raise AnsibleFilterError(to_text(err))


class FilterModule(object):

    def filters(self):
        return {'allowed_sources': allowed_sources}
