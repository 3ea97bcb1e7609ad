# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: topology_reach_refusals
short_description: The topology stage's verdict on the ssh reach check run from the Heketi host
version_added: 1.1.0
description:
  - Reads the list the topology role's reach check (M(glusterfs.heketi.ssh_reach_info), run on the Heketi host with
    Heketi's key) returned as RV(glusterfs.heketi.ssh_reach_info#module:nodes), one entry per node with C(host), C(manage),
    C(rc) and C(reason).
  - Returns one line per node Heketi cannot use, naming the node, its address and why; an exit status of 255
    is ssh's own failure, any other non-zero status the C(gluster --version) or glusterd check.
  - A changed host key gets what to do about it (collect the reinstalled node's new key, or find out who answers).
  - Fails closed. An answer for fewer nodes than were checked, or input that is not such a list (an entry without
    C(host), C(manage) or an integer C(rc) included), is a problem too.
positional: _input
options:
  _input:
    description: The check's answers (RV(glusterfs.heketi.ssh_reach_info#module:nodes)).
    type: list
    elements: dict
    required: true
  nodes:
    description: How many nodes were checked.
    type: int
    required: true
  known_hosts:
    description: The known_hosts file the check verified host keys against (named in the advice).
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Stop when a node cannot be reached
  ansible.builtin.fail:
    msg: "{{ __failed }}"
  vars:
    __failed: "{{ __reach.nodes | glusterfs.heketi.topology_reach_refusals(nodes=4, known_hosts='/etc/heketi/known_hosts') }}"
  when: __failed | length > 0
'''

RETURN = r'''
_value:
  description: >-
    One line per problem, for example C(node2 (192.0.2.12): ssh failed: Permission denied (publickey).).
  type: list
  elements: str
'''

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

_KEY_CHANGED = ('Host key verification failed', 'HOST IDENTIFICATION HAS CHANGED')


def _is_answer(entry):
    return (isinstance(entry, Mapping) and all(entry.get(key) is not None for key in ('host', 'manage'))
            and isinstance(entry.get('rc'), int) and not isinstance(entry.get('rc'), bool))


def topology_reach_refusals(results, nodes, known_hosts):
    """See DOCUMENTATION."""
    try:
        nodes = int(nodes)
    except (TypeError, ValueError):
        raise AnsibleFilterError('topology_reach_refusals: nodes must be an integer, got %r' % (nodes,))
    if not isinstance(results, (list, tuple)):
        return ['the ssh check gave no list of answers: %s' % to_text(results)[:200]]
    wrong = [entry for entry in results if not _is_answer(entry)]
    if wrong:
        return ['the ssh check gave %d entries that are no answer (host, manage, rc): %s'
                % (len(wrong), to_text(wrong)[:200])]
    out = []
    if len(results) != nodes:
        out.append('the ssh check answered for %d of %d nodes' % (len(results), nodes))
    for r in results:
        if r.get('rc') == 0:
            continue
        reason = to_text(r.get('reason') or '').strip() or 'exit %s' % r.get('rc')
        what = 'ssh failed: ' if r.get('rc') == 255 else 'gluster --version / glusterd check failed: '
        line = '%s (%s): %s%s' % (r.get('host'), r.get('manage'), what, reason)
        if r.get('rc') == 255 and any(marker in reason for marker in _KEY_CHANGED):
            line += (' (the host key of %s does not match %s: if the node was reinstalled, rerun the heketi stage to'
                     ' collect its new key; otherwise find out who answers at %s)' % (r.get('host'), known_hosts, r.get('manage')))
        out.append(line)
    return out


class FilterModule(object):

    def filters(self):
        return {'topology_reach_refusals': topology_reach_refusals}
