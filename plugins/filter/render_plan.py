# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: render_plan
short_description: What a render folder lacks, from one ansible.builtin.find of it
version_added: 1.1.0
description:
  - Compares the files a role wants in a folder tree (path and text) with what one C(ansible.builtin.find) of
    that tree returned (C(file_type=any), C(get_checksum=true)), and returns only the work left to do, so that
    a rerun where nothing changed runs no module besides that find.
  - A file is written when it is missing, not a regular file, its SHA-1 differs from the wanted text (UTF-8)
    or its mode is not O(file_mode). A folder is created (or its mode fixed) when it is missing or its mode is
    not O(folder_mode).
  - Files of an older layout are removed, that is the files in one of O(folders), not wanted, whose name matches one of
    O(stale) (shell patterns).
  - Folders an earlier run wrote and this one does not want (O(retired), for example a provisioner variant no
    longer rendered) lose the files the role writes there (the names of O(files) and O(stale)); the whole folder
    goes when nothing else is in it, otherwise those files only. Their manifests would hold a stale key.
  - Paths are compared normalised (C(a//b/) is C(a/b)).
positional: _input
options:
  _input:
    description: The C(files) list of an C(ansible.builtin.find) result (C(path), C(mode), C(isdir), C(isreg), C(checksum)).
    type: list
    elements: dict
    required: true
  files:
    description: The wanted files, each a mapping with C(path) and C(content).
    type: list
    elements: dict
    required: true
  folders:
    description: The folders that must exist (found by the same find, so below its root).
    type: list
    elements: str
    default: []
  stale:
    description: Shell patterns of file names an older layout wrote into O(folders).
    type: list
    elements: str
    default: []
  retired:
    description: Folders (below the find's root) no longer wanted.
    type: list
    elements: str
    default: []
  file_mode:
    description: The mode every wanted file must have, as C(find) prints it.
    type: str
    default: "0600"
  folder_mode:
    description: The mode every folder must have.
    type: str
    default: "0700"
'''

EXAMPLES = r'''
- name: Plan the writes
  ansible.builtin.set_fact:
    plan: >-
      {{ found.files | glusterfs.heketi.render_plan(files=[{'path': '/srv/out/a/all.yaml', 'content': text}],
                                                    folders=['/srv/out/a'], stale=['[0-9][0-9]-*.yaml']) }}
  no_log: true
'''

RETURN = r'''
_value:
  description: The work left.
  type: dict
  contains:
    folders:
      description: Folders to create or give O(folder_mode).
      type: list
      elements: str
    write:
      description: The wanted files (C(path), C(content)) to write.
      type: list
      elements: dict
    remove:
      description: Files of the older layout and retired folders (or their files) to delete, sorted.
      type: list
      elements: str
'''

import fnmatch
import hashlib
import os.path

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes, to_text


def _norm(path):
    return os.path.normpath(to_text(path))


def _ours(path, names, stale):
    name = os.path.basename(path)
    return name in names or any(fnmatch.fnmatchcase(name, pattern) for pattern in stale)


def render_plan(found, files, folders=(), stale=(), retired=(), file_mode='0600', folder_mode='0700'):
    """See DOCUMENTATION."""
    if not isinstance(found, list) or not isinstance(files, list):
        raise AnsibleFilterError('render_plan: expects the files of a find result and a list of wanted files')
    have = {_norm(entry['path']): entry for entry in found}
    folders = [_norm(folder) for folder in folders]
    todo_folders = [folder for folder in folders
                    if not (have.get(folder, {}).get('isdir') and have[folder].get('mode') == folder_mode)]
    write = []
    for wanted in files:
        if not isinstance(wanted, dict) or 'path' not in wanted or 'content' not in wanted:
            raise AnsibleFilterError('render_plan: every wanted file needs path and content')
        entry = have.get(_norm(wanted['path']), {})
        if not (entry.get('isreg') and entry.get('mode') == file_mode
                and entry.get('checksum') == hashlib.sha1(to_bytes(wanted['content'])).hexdigest()):
            write.append(wanted)
    keep = {_norm(wanted['path']) for wanted in files}
    remove = [path for path, entry in have.items()
              if path not in keep and not entry.get('isdir') and os.path.dirname(path) in folders
              and _ours(path, (), stale)]
    names = {os.path.basename(path) for path in keep}
    for folder in (_norm(folder) for folder in retired):
        if folder in folders or not have.get(folder, {}).get('isdir'):
            continue
        inside = [path for path in have if os.path.dirname(path) == folder]
        ours = [path for path in inside if not have[path].get('isdir') and _ours(path, names, stale)]
        remove.extend([folder] if len(ours) == len(inside) else ours)
    remove.sort()
    return {'folders': todo_folders, 'write': write, 'remove': remove}


class FilterModule(object):

    def filters(self):
        return {'render_plan': render_plan}
