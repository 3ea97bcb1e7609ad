# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: copy_plan
short_description: Which files of a folder on the controller a host lacks, from one find on each side
version_added: 1.1.0
description:
  - Compares the files one C(ansible.builtin.find) found on the controller (C(get_checksum=true)) with what one
    C(ansible.builtin.find) of the destination folder on the host found, and returns the controller's files to copy,
    those missing on the host, not a regular file there, or whose SHA-1, mode, owner or group differ.
  - Files are matched by name. Two module runs in all, so a rerun where nothing changed runs no
    C(ansible.builtin.copy) (which runs a stat and a file module per file).
positional: _input
options:
  _input:
    description: The C(files) of the controller's find (C(path), C(checksum)).
    type: list
    elements: dict
    required: true
  installed:
    description:
      - The C(files) of the host's find of the destination folder (C(path), C(isreg), C(checksum), C(mode),
        C(pw_name), C(gr_name)).
    type: list
    elements: dict
    required: true
  mode:
    description: The mode every copy must have, as C(find) prints it.
    type: str
    default: "0644"
  owner:
    description: The owner every copy must have.
    type: str
    default: root
  group:
    description: The group every copy must have.
    type: str
    default: root
'''

EXAMPLES = r'''
- name: Install the binaries the host lacks
  ansible.builtin.copy:
    src: "{{ item }}"
    dest: /usr/local/bin/
    owner: root
    group: root
    mode: "0755"
  loop: "{{ given.files | glusterfs.heketi.copy_plan(installed=installed.files, mode='0755') }}"
'''

RETURN = r'''
_value:
  description: The controller's paths to copy, in the order of the controller's find.
  type: list
  elements: str
'''

import os.path

from ansible.errors import AnsibleFilterError


def copy_plan(given, installed, mode='0644', owner='root', group='root'):
    """See DOCUMENTATION."""
    if not isinstance(given, list) or not isinstance(installed, list):
        raise AnsibleFilterError('copy_plan: expects the files of two find results')
    have = {os.path.basename(entry['path']): entry for entry in installed}
    todo = []
    for entry in given:
        if not entry.get('checksum'):
            raise AnsibleFilterError('copy_plan: %s has no checksum (find with get_checksum=true)' % entry.get('path'))
        there = have.get(os.path.basename(entry['path']), {})
        if not (there.get('isreg') and there.get('checksum') == entry['checksum'] and there.get('mode') == mode
                and there.get('pw_name') == owner and there.get('gr_name') == group):
            todo.append(entry['path'])
    return todo


class FilterModule(object):

    def filters(self):
        return {'copy_plan': copy_plan}
