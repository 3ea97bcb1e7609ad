#!/usr/bin/python
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: heketi_mode
short_description: Put Heketi in read-only maintenance mode and wait until no operation is in flight
version_added: 1.0.0
description:
  - Sets Heketi's maintenance state (C(POST /admin)) and, with O(wait_idle), waits until C(GET /operations) reports no
    operation in flight; fails when operations are still in flight after O(wait_idle) seconds.
  - In V(read-only) Heketi answers every write with HTTP 503 C(Service disabled for maintenance); in V(local-client)
    only writes from the Heketi host itself are served.
  - The state is kept in the server's memory only; a restart brings the server back in its configured
    C(default_state) (normally V(normal)).
  - Heketi 10.3 also refuses C(POST /admin) itself in V(read-only) and V(local-client) (503, checked on the server),
    so only a restart leaves those states. Asking for V(normal) then fails with that explanation and changes nothing.
  - Needs O(user=admin).
author:
  - glusterfs.heketi developers (@glusterfs)
options:
  state:
    description:
      - The maintenance state to set. Leave unset to only wait (O(wait_idle)) and report.
    type: str
    choices: [normal, read-only, local-client]
  wait_idle:
    description:
      - Seconds to wait, after setting O(state), for C(in_flight) of C(GET /operations) to reach 0. V(0) does not wait.
    type: int
    default: 0
  poll_interval:
    description:
      - Seconds between two reads of C(GET /operations) while waiting.
    type: float
    default: 1.0
extends_documentation_fragment:
  - glusterfs.heketi.heketi
  - glusterfs.heketi.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports the change without sending it; the wait reads the operations once.
  diff_mode:
    support: full
  idempotent:
    support: full
seealso:
  - module: glusterfs.heketi.heketi_info
  - module: glusterfs.heketi.heketi_backup
'''

EXAMPLES = r'''
- name: Stop every write, then wait up to 10 minutes for running operations to finish
  glusterfs.heketi.heketi_mode:
    url: http://127.0.0.1:8080
    key: "{{ heketi_admin_key }}"
    state: read-only
    wait_idle: 600

- name: Is anything running? (fails if operations are still in flight after 30 s)
  glusterfs.heketi.heketi_mode:
    url: http://127.0.0.1:8080
    key: "{{ heketi_admin_key }}"
    wait_idle: 30
'''

RETURN = r'''
mode:
  description: The maintenance state after the task (planned in check mode).
  returned: success, and when O(wait_idle) ran out (the state set stays set)
  type: str
  sample: read-only
previous_mode:
  description: The maintenance state before the task.
  returned: success, and when O(wait_idle) ran out
  type: str
  sample: normal
operations:
  description: The last C(GET /operations) answer.
  returned: success, and when O(wait_idle) ran out
  type: dict
  sample: {"total": 0, "in_flight": 0, "stale": 0, "failed": 0, "new": 0}
waited:
  description: Seconds spent waiting for C(in_flight) to reach 0.
  returned: success, and when O(wait_idle) ran out
  type: float
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi import (
    HEKETI_ARGUMENT_SPEC,
    HeketiError,
    run_module,
)
from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure


def run(module, client):
    p = module.params
    previous = (client.get('/admin') or {}).get('state')
    result = {'changed': False, 'previous_mode': previous, 'mode': previous}
    if p['state'] and p['state'] != previous:
        result.update(changed=True, mode=p['state'])
        if not module.check_mode:
            try:
                client.post('/admin', {'state': p['state']})
            except HeketiError as e:
                if e.status == 503:
                    raise HeketiError('state: Heketi is in %s mode and refuses POST /admin (%s); only a restart of the '
                                      'server returns it to its default state' % (previous, e.body), status=503)
                raise
            result['mode'] = (client.get('/admin') or {}).get('state')
    start = time.time()
    ops = client.get('/operations') or {}
    while p['wait_idle'] > 0 and ops.get('in_flight') and not module.check_mode:
        if time.time() - start >= p['wait_idle']:
            # The mode set above stays set: the failure reports it (changed, mode) with the last answer.
            result.update(operations=ops, waited=round(time.time() - start, 2))
            raise ModuleFailure('wait_idle: %s operation(s) still in flight after %ss (operations %s); nothing else '
                                'was changed' % (ops.get('in_flight'), p['wait_idle'], ops), **result)
        time.sleep(p['poll_interval'])
        ops = client.get('/operations') or {}
    result.update(operations=ops, waited=round(time.time() - start, 2))
    if module._diff:
        result['diff'] = {'before': {'mode': previous}, 'after': {'mode': result['mode']}}
    return result


def validate(module):
    """Checks on the arguments alone, before any request."""
    p = module.params
    if p['wait_idle'] < 0:
        raise ModuleFailure('wait_idle: must be 0 or more seconds, got %s' % p['wait_idle'])
    if p['poll_interval'] <= 0:
        raise ModuleFailure('poll_interval: must be more than 0 seconds, got %s' % p['poll_interval'])


def main():
    argument_spec = dict(HEKETI_ARGUMENT_SPEC)
    argument_spec.update(
        state=dict(type='str', choices=['normal', 'read-only', 'local-client']),
        wait_idle=dict(type='int', default=0),
        poll_interval=dict(type='float', default=1.0),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, run, check=validate)


if __name__ == '__main__':
    main()
