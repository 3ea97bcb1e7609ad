# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r'''
name: scrape_targets
short_description: Prometheus scrape targets (HOST:PORT) of inventory hosts
version_added: 1.1.0
description:
  - Each host of the list as C(ADDRESS:PORT) for a Prometheus C(static_configs) entry, the address its
    C(ansible_host) (else its inventory name; an IPv6 address in brackets), the port its own O(port_var) (else O(port)).
  - The C(glusterfs_metrics) role renders its scrape configuration with it.
positional: _input
options:
  _input:
    description: Inventory host names.
    type: list
    elements: str
    required: true
  hostvars:
    description: The play's C(hostvars).
    type: dict
    required: true
  port:
    description: The port of a host that does not set O(port_var).
    type: int
    required: true
  port_var:
    description: The host variable that may set the port (for example V(heketi_port)); empty = always O(port).
    type: str
    default: ''
'''

EXAMPLES = r'''
- name: Heketi's target
  ansible.builtin.debug:
    msg: "{{ groups['heketi'] | glusterfs.heketi.scrape_targets(hostvars, 8080, 'heketi_port') }}"
  # ['192.0.2.11:8080']
'''

RETURN = r'''
_value:
  description: The targets, in the order of the hosts, without duplicates.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text


def scrape_targets(hosts, hostvars, port, port_var=''):
    """See DOCUMENTATION."""
    targets = []
    for host in hosts or []:
        host_vars = hostvars.get(host, {}) if hasattr(hostvars, 'get') else {}
        address = to_text(host_vars.get('ansible_host') or host)
        host_port = host_vars.get(port_var, port) if port_var else port
        try:
            host_port = int(host_port)
        except (TypeError, ValueError):
            raise AnsibleFilterError('%s of %s: %r is not a port number' % (port_var, host, host_port))
        if not 0 < host_port < 65536:
            raise AnsibleFilterError('%s of %s: %d is not a port number' % (port_var or 'port', host, host_port))
        target = '%s:%d' % ('[%s]' % address if ':' in address else address, host_port)
        if target not in targets:
            targets.append(target)
    return targets


class FilterModule:
    def filters(self):
        return {'scrape_targets': scrape_targets}
