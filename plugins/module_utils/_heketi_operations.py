# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Heketi's pending operations, read from its database dump (GET /db/dump). PRIVATE.

Heketi records each volume, block volume and device-removal operation in its database before it starts and removes
the record when it ends (apps/glusterfs/pendingop.go, v10.3.0). A record left by a killed or restarted server is
marked ``stale`` at the next start; one whose rollback failed ``failed``. ``GET /operations`` counts them,
``POST /operations/pending/cleanup`` rolls stale and failed ones back.
"""

from __future__ import annotations

import time

# Heketi's PendingOperationType, by value.
OPERATION_KINDS = ('unknown', 'create-volume', 'delete-volume', 'expand-volume', 'create-block-volume',
                   'delete-block-volume', 'remove-device', 'clone-volume')
CLEANABLE = ('stale', 'failed')


def pending_operations(dump, now=None):
    """The pending operations of a GET /db/dump answer, oldest first, with their kind and age in seconds."""
    now = time.time() if now is None else now
    found = []
    for op_id, op in ((dump or {}).get('pendingoperations') or {}).items():
        kind = op.get('Type') or 0
        stamp = int(op.get('Timestamp') or 0)
        found.append({'id': op.get('Id') or op_id,
                      'kind': OPERATION_KINDS[kind] if 0 <= kind < len(OPERATION_KINDS) else 'unknown',
                      'status': op.get('Status') or 'new', 'timestamp': stamp, 'age': max(0, int(now) - stamp),
                      'changes': len(op.get('Actions') or [])})
    return sorted(found, key=lambda o: (o['timestamp'], o['id']))
