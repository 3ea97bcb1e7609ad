#!/usr/bin/python
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: heketi_backup
short_description: Back up Heketi's database from the running server, checksummed and rotated
version_added: 1.0.0
description:
  - Takes a consistent copy of the live Heketi database (C(GET /backup/db), a bolt transaction's snapshot) and writes
    it into O(dest) as C(<prefix><UTC time>.db), with C(<file>.sha256) beside it in C(sha256sum -c) format.
  - The copy is written to a temporary file, synced and checked to be a bolt database before it is renamed into
    place; a backup interrupted by any failure (Heketi killed, the connection lost, the disk full) leaves every earlier
    backup as it was.
  - When the newest backup already holds the same bytes, no new file is written (V(changed=false)).
  - Then keeps the newest O(keep) backups of O(prefix) in O(dest) and deletes the older ones.
  - With O(backup=false) only verifies and rotates O(dest) (no request to Heketi), for example on the controller after
    fetching the file there.
  - Needs O(user=admin).
author:
  - glusterfs.heketi developers (@glusterfs)
options:
  dest:
    description:
      - Folder holding the backups; created (mode 0700) when missing. Files are written with mode 0640 (the folder's
        group may read them, for the backup timer's account of the heketi_maintenance role).
      - Opened without following a link anywhere on its path. Refused before Heketi is asked for anything, naming
        the folder and the check, are a symbolic link on the path, a folder on the path that belongs to an account
        other than root or the one running the module (Heketi's own data folder, for example), and a folder
        writable by every account.
    type: path
    required: true
  prefix:
    description:
      - Start of the backup file names.
    type: str
    default: heketi-
  keep:
    description:
      - Number of backups kept in O(dest); older ones (by the time stamp in their name) are deleted.
    type: int
    default: 7
  backup:
    description:
      - Take a new backup. With V(false), only verify the newest backup's checksum and rotate O(dest).
    type: bool
    default: true
extends_documentation_fragment:
  - glusterfs.heketi.heketi
  - glusterfs.heketi.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the database from Heketi and reports whether a new file would be written; writes and deletes nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - A rerun without a change in Heketi's database writes no new file.
seealso:
  - module: glusterfs.heketi.heketi_info
'''

EXAMPLES = r'''
- name: Back up Heketi's database on the Heketi host, keep 14
  glusterfs.heketi.heketi_backup:
    url: http://127.0.0.1:8080
    key: "{{ heketi_admin_key }}"
    dest: /var/lib/heketi-backups
    keep: 14
  register: backup

- name: Keep the same file on the controller
  ansible.builtin.fetch:
    src: "{{ backup.path }}"
    dest: backups/{{ inventory_hostname }}/
    flat: true

- name: Rotate the controller's copies (no request to Heketi)
  glusterfs.heketi.heketi_backup:
    dest: backups/{{ inventory_hostname }}
    backup: false
    keep: 30
  delegate_to: localhost
'''

RETURN = r'''
path:
  description: The newest backup (the one written, or the existing one holding the same bytes).
  returned: success, unless O(backup=false) and O(dest) holds no backup
  type: str
  sample: /var/lib/heketi-backups/heketi-20261201T101500Z.db
sha256:
  description: SHA-256 of RV(path).
  returned: when RV(path) is returned
  type: str
size:
  description: Size of the database copy in bytes.
  returned: when RV(path) is returned
  type: int
written:
  description: Whether a new backup file was written (or would be, in check mode).
  returned: success
  type: bool
removed:
  description: Older backups deleted by the rotation (or to be deleted, in check mode).
  returned: success
  type: list
  elements: str
kept:
  description: The backups in O(dest) after the task, oldest first.
  returned: success
  type: list
  elements: str
'''

import hashlib

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi import (
    HEKETI_ARGUMENT_SPEC,
    HeketiClient,
    HeketiError,
)
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_backup import (
    BackupError,
    Folder,
    MissingFolder,
    is_bolt,
)
from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure, run_module


def fetch(client):
    """The raw bytes of GET /backup/db (the shared client decodes bodies as text)."""
    status, _headers, raw = client._raw('GET', '/backup/db')
    if status != 200:
        raise client._error('GET', '/backup/db', status, raw)
    return raw


def validate(module):
    """Checks on the arguments alone, before any request or file change."""
    p = module.params
    if p['keep'] < 1:
        raise ModuleFailure('keep: must be at least 1, got %s' % p['keep'])
    if not p['prefix'] or '/' in p['prefix']:
        raise ModuleFailure('prefix: must be a non-empty file name start without "/", got %r' % p['prefix'])
    if p['backup'] and p['user'] not in (None, 'admin'):
        raise ModuleFailure("user: Heketi gives its database to the admin user only, got %r" % p['user'])


def open_dest(module):
    """O(dest), checked before Heketi is asked for anything; None when it does not exist and is not to be made now
    (check mode, or only verifying)."""
    make = module.params['backup'] and not module.check_mode
    try:
        return Folder(module.params['dest'], create=make)
    except BackupError as e:
        if isinstance(e, MissingFolder) and not make:
            return None
        raise ModuleFailure('dest: %s' % e)


def run(module):
    validate(module)
    p = module.params
    result = {'changed': False, 'written': False, 'removed': [], 'kept': []}
    folder = open_dest(module)
    try:
        current = folder.backups(p['prefix']) if folder else []
        if p['backup']:
            data = fetch(HeketiClient.from_module(module))
            if not is_bolt(data):
                raise BackupError('Heketi answered GET /backup/db with %d bytes that are not a bolt database' % len(data))
            digest = hashlib.sha256(data).hexdigest()
            if module.check_mode:
                same = bool(current) and folder.same(current[-1], digest)
                result.update(written=not same, sha256=digest, size=len(data))
                if same:
                    result['path'] = current[-1]
            else:
                path, digest, skipped = folder.write(data, p['prefix'])
                result.update(path=path, sha256=digest, size=len(data), written=not skipped)
        elif current:
            result.update(path=current[-1], sha256=folder.verify(current[-1]), size=folder.size(current[-1]))
        if module.check_mode:
            count = len(current) + (1 if result['written'] else 0)
            result['removed'] = current[:max(0, count - p['keep'])]
        elif folder:
            result['removed'] = folder.rotate(p['keep'], p['prefix'])
        if folder:
            result['kept'] = [b for b in folder.backups(p['prefix']) if b not in result['removed']]
    finally:
        if folder:
            folder.close()
    result['changed'] = bool(result['written'] or result['removed'])
    return result


def main():
    argument_spec = dict(HEKETI_ARGUMENT_SPEC)
    argument_spec.update(
        dest=dict(type='path', required=True),
        prefix=dict(type='str', default='heketi-'),
        keep=dict(type='int', default=7),
        backup=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    # Not _heketi.run_module: with backup=false the task needs no url or key, so run builds the client itself.
    run_module(module, run, errors=(HeketiError, BackupError, OSError))


if __name__ == '__main__':
    main()
