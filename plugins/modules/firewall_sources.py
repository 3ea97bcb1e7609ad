#!/usr/bin/python
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Runs on the GlusterFS nodes too, EL 7 (Python 2.7) included: no Python 3-only syntax here.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: firewall_sources
short_description: Open ports in the active firewalld or ufw, to every source or only to the sources listed
version_added: 1.1.0
description:
  - Manages the allow rules of O(ports) in the firewall that is active on the host, the first of O(backends)
    found running (firewalld) or active (ufw). An inactive firewall is left inactive and nothing is changed
    (RV(backend=none)); the module never starts, stops, enables or disables a firewall.
  - With O(sources) a list, each port is open only to those sources (firewalld rich rules
    C(rule family="ipv4" source address="A" port port="P" protocol="tcp" accept) in the permanent and the runtime
    configuration; ufw C(allow from A to any port P proto tcp)), and a plain open port (firewalld
    C(--add-port), ufw C(allow P/tcp)) for the same port, as an earlier version of the roles opened it, is removed,
    so the port is no longer open to everyone. Rules of that shape for the same port from a source no longer listed
    are removed. An empty list leaves the port open to nobody but the host itself (loopback is always accepted
    by firewalld and ufw).
  - Without O(sources) (null) each port is open to every source (a plain port) and the per-source rules of that shape
    for the port are removed.
  - Rules for other ports and rules of any other shape (logging, rejects, other zones) are never touched.
author:
  - glusterfs.heketi developers (@glusterfs)
options:
  ports:
    description:
      - Ports as V(PORT/PROTO) or V(LOW-HIGH/PROTO), PROTO V(tcp) or V(udp), for example V(24007-24008/tcp).
    type: list
    elements: str
    required: true
  sources:
    description:
      - IPv4 or IPv6 addresses or CIDR networks allowed to reach O(ports). Null (the default) means every source.
      - A network with host bits set (V(192.0.2.5/24)) is taken as its network (V(192.0.2.0/24)); a full-length
        prefix (V(/32), V(/128)) as the address.
    type: list
    elements: str
  backends:
    description:
      - The firewalls to look for, in order; the first active one is managed.
    type: list
    elements: str
    choices: [firewalld, ufw]
    default: [firewalld, ufw]
  zone:
    description:
      - firewalld zone. Empty means the default zone.
    type: str
    default: ''
  comment:
    description:
      - Comment on the ufw rules the module adds (ufw C(comment)); firewalld rich rules carry none.
    type: str
    default: glusterfs.heketi
extends_documentation_fragment:
  - glusterfs.heketi.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the firewall's rules and reports the rules that would be added and removed.
  diff_mode:
    support: full
  idempotent:
    support: full
  platform:
    platforms: posix
    support: full
    description: Hosts running firewalld (C(firewall-cmd)) or ufw.
notes:
  - Errors in O(ports) or O(sources) are reported, naming the entry, before the firewall is read or changed.
seealso:
  - module: ansible.posix.firewalld
  - module: community.general.ufw
'''

EXAMPLES = r'''
- name: Heketi's API only for the Kubernetes nodes and the controller
  glusterfs.heketi.firewall_sources:
    ports: [8080/tcp]
    sources: [192.0.2.10, 192.0.2.64/26, "2001:db8::10"]

- name: The GlusterFS ports open to every source in firewalld's internal zone
  glusterfs.heketi.firewall_sources:
    ports: [24007-24008/tcp, 49152-60999/tcp]
    backends: [firewalld]
    zone: internal
'''

RETURN = r'''
backend:
  description: The firewall managed, or V(none) when none of O(backends) is active (nothing changed).
  returned: always
  type: str
  sample: ufw
rules:
  description: The allow rules of O(ports) after the task (planned in check mode), as V(PORT/PROTO) or V(SOURCE PORT/PROTO).
  returned: always
  type: list
  elements: str
  sample: ["192.0.2.10 8080/tcp"]
added:
  description:
    - The rules added (in firewalld, to the permanent or the runtime configuration or both).
    - When a command fails part-way, the failed task still returns O(ports)' rules added and removed before it
      (with RV(backend)); they stay applied, and a rerun adds and removes the rest.
  returned: always
  type: list
  elements: str
  sample: ["192.0.2.10 8080/tcp"]
removed:
  description: The rules removed, for example a plain V(8080/tcp) that was open to every source.
  returned: always
  type: list
  elements: str
  sample: ["8080/tcp"]
'''

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.glusterfs.heketi.plugins.module_utils._firewall import (
    normalize_list, normalize_port, normalize_source, parse_firewalld, parse_ufw, plan, rich_rule, rule_text, ufw_spec, wanted_rules)
from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure, run_module


class Firewall(object):

    def __init__(self, module):
        self.module = module

    def run(self, cmd, check_rc=True):
        rc, out, err = self.module.run_command(cmd, environ_update={'LC_ALL': 'C'})
        if check_rc and rc != 0:
            raise ModuleFailure('%s failed (rc %d): %s' % (' '.join(cmd), rc, (err or out).strip()),
                                rc=rc, stdout=out, stderr=err, cmd=cmd)
        return rc, out, err

    def active_backend(self, backends):
        for backend in backends:
            if backend == 'firewalld':
                path = self.module.get_bin_path('firewall-cmd')
                if path and self.run([path, '--state'], check_rc=False)[1].strip() == 'running':
                    return backend, path
            elif backend == 'ufw':
                path = self.module.get_bin_path('ufw', opt_dirs=['/usr/sbin', '/sbin'])
                if path:
                    out = self.run([path, 'status'], check_rc=False)[1]
                    if re.search(r'^Status: active', out, re.M):
                        return backend, path
        return 'none', None


def _apply(module, firewall, backend, path, ports, wanted, added, removed):
    """Change the backend's rules on ``ports`` to ``wanted``, appending to ``added`` and ``removed`` as each
    command succeeds. Returns the rules on ``ports`` before the change."""
    params = module.params
    before = []
    if backend == 'firewalld':
        zone = ['--zone=%s' % params['zone']] if params['zone'] else []
        for permanent in (['--permanent'], []):
            base = [path] + permanent + zone
            current = parse_firewalld(firewall.run(base + ['--list-ports'])[1],
                                      firewall.run(base + ['--list-rich-rules'])[1])
            to_add, to_remove = plan(current, wanted, ports)
            if permanent:
                before = sorted(rule_text(r) for r in current if (r[1], r[2]) in ports)
            for verb, rules, done in (('remove', to_remove, removed), ('add', to_add, added)):
                for rule in rules:
                    if not module.check_mode:
                        firewall.run(base + (['--%s-port=%s/%s' % ((verb,) + rule[1:])] if rule[0] is None
                                             else ['--%s-rich-rule=%s' % (verb, rich_rule(rule))]))
                    if rule_text(rule) not in done:
                        done.append(rule_text(rule))
    else:
        current = parse_ufw(firewall.run([path, 'show', 'added'])[1])
        before = sorted(rule_text(r) for r in current if (r[1], r[2]) in ports)
        to_add, to_remove = plan(current, wanted, ports)
        for rule in to_remove:
            if not module.check_mode:
                firewall.run([path, 'delete', 'allow'] + ufw_spec(rule))
            removed.append(rule_text(rule))
        for rule in to_add:
            if not module.check_mode:
                firewall.run([path, 'allow'] + ufw_spec(rule) + ['comment', params['comment']])
            added.append(rule_text(rule))
    return before


def run(module):
    params = module.params
    try:
        ports = normalize_list(params['ports'], normalize_port, 'ports')
        sources = None if params['sources'] is None else normalize_list(params['sources'], normalize_source, 'sources')
    except ValueError as err:
        raise ModuleFailure(str(err))
    if "'" in params['comment']:
        raise ModuleFailure('comment must not contain a single quote')

    firewall = Firewall(module)
    backend, path = firewall.active_backend(params['backends'])
    result = dict(changed=False, backend=backend, rules=[], added=[], removed=[])
    if backend == 'none':
        return result
    wanted = wanted_rules(ports, sources)
    added, removed = [], []
    try:
        before = _apply(module, firewall, backend, path, ports, wanted, added, removed)
    except ModuleFailure as failure:
        # What was applied before the failure stays applied: the result says so; a rerun completes the rest.
        failure.result.update(changed=bool(added or removed), backend=backend, added=added, removed=removed)
        raise

    after = sorted(rule_text(r) for r in wanted)
    result.update(changed=bool(added or removed), rules=after, added=added, removed=removed)
    if module._diff:
        result['diff'] = dict(before='\n'.join(before) + '\n' if before else '',
                              after='\n'.join(after) + '\n' if after else '')
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            ports=dict(type='list', elements='str', required=True),
            sources=dict(type='list', elements='str'),
            backends=dict(type='list', elements='str', choices=['firewalld', 'ufw'], default=['firewalld', 'ufw']),
            zone=dict(type='str', default=''),
            comment=dict(type='str', default='glusterfs.heketi'),
        ),
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
