#!/usr/bin/python
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: heketi_operations
short_description: Clean up Heketi's stale and failed operations, never under a running one
version_added: 1.1.0
description:
  - Reads Heketi's pending operations (C(GET /db/dump)) and, with O(state=clean), asks Heketi to roll back every
    stale or failed one (C(POST /operations/pending/cleanup), what C(heketi-cli server operations cleanup) calls). Heketi
    removes what such an operation had made (bricks, logical volumes, database entries).
  - Refuses, changing nothing, while Heketi runs any operation (C(in_flight) of C(GET /operations) above 0), and
    names them; a cleanup under a running operation would roll back work still in progress.
  - A stale operation is one left by a Heketi that was killed or restarted while it ran; a failed one, one whose
    rollback failed. Operations that fail to clean up stay as V(failed) and are reported in RV(operations).
  - Needs O(user=admin).
author:
  - glusterfs.heketi developers (@glusterfs)
options:
  state:
    description:
      - V(clean) cleans up every stale and failed operation; V(present) only reads them (RV(pending)).
    type: str
    choices: [clean, present]
    default: present
extends_documentation_fragment:
  - glusterfs.heketi.heketi
  - glusterfs.heketi.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports the operations that would be cleaned up (RV(cleaned)) without asking Heketi to.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - Once no stale or failed operation is left, a rerun changes nothing.
seealso:
  - module: glusterfs.heketi.heketi_info
'''

EXAMPLES = r'''
- name: Roll back the operations a killed Heketi left behind (refused while one runs)
  glusterfs.heketi.heketi_operations:
    url: http://127.0.0.1:8080
    key: "{{ heketi_admin_key }}"
    state: clean
  register: cleanup

- name: What remains
  ansible.builtin.debug:
    msg: "{{ cleanup.operations }}"
'''

RETURN = r'''
pending:
  description: Heketi's pending operations before the task, oldest first (see M(glusterfs.heketi.heketi_info)).
  returned: success
  type: list
  elements: dict
  sample: [{"id": "55a780dead861ff1f52609b4c9ec0e93", "kind": "create-volume", "status": "stale",
            "timestamp": 1796672444, "age": 3600, "changes": 4}]
cleaned:
  description: The stale and failed operations cleaned up (or that would be, in check mode).
  returned: success
  type: list
  elements: dict
operations:
  description: C(GET /operations) after the task.
  returned: success
  type: dict
  sample: {"total": 0, "in_flight": 0, "stale": 0, "failed": 0, "new": 0}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi import (
    HEKETI_ARGUMENT_SPEC,
    run_module,
)
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_operations import (
    CLEANABLE,
    pending_operations,
)
from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure


def run(module, client):
    pending = pending_operations(client.get('/db/dump'))
    counts = client.get('/operations') or {}
    cleanable = [op for op in pending if op['status'] in CLEANABLE]
    result = {'changed': False, 'pending': pending, 'cleaned': [], 'operations': counts}
    if module.params['state'] != 'clean' or not cleanable:
        return result
    if counts.get('in_flight'):
        running = [op for op in pending if op['status'] not in CLEANABLE]
        raise ModuleFailure(
            'state: refusing to clean up while Heketi runs %d operation(s) (%s): a cleanup now would roll back work '
            'in progress; nothing was changed, rerun when they have finished' % (
                counts['in_flight'], ', '.join('%s %s for %d s' % (op['id'], op['kind'], op['age']) for op in running)
                or 'not yet recorded'), **result)
    result.update(changed=True, cleaned=cleanable)
    if not module.check_mode:
        client.post('/operations/pending/cleanup', {})
        result['operations'] = client.get('/operations') or {}
    return result


def main():
    argument_spec = dict(HEKETI_ARGUMENT_SPEC)
    argument_spec.update(state=dict(type='str', choices=['clean', 'present'], default='present'))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, run)


if __name__ == '__main__':
    main()
