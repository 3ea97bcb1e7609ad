# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: os_vars_files
short_description: The OS-specific vars files a role looks for, most specific first
version_added: 1.1.0
description:
  - The one rule by which every role of the collection picks its OS data from its C(vars/) folder, for
    C(ansible.builtin.first_found) and C(ansible.builtin.include_vars).
  - Most specific first, C(<distribution>_<major>.yml) (for instance C(Rocky_9.yml)), then
    C(<os_family>_<major>.yml) (C(RedHat_7.yml)), then C(<os_family>.yml) (C(Debian.yml)).
  - Facts missing (the play gathered none) are an error naming them, not a silent fallback to another OS.
positional: _input
options:
  _input:
    description: The host's C(ansible_facts), with C(distribution), C(distribution_major_version) and C(os_family).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Load the OS-specific data
  ansible.builtin.include_vars:
    file: "{{ lookup('ansible.builtin.first_found', {'files': ansible_facts | glusterfs.heketi.os_vars_files, 'paths': [role_path ~ '/vars']}) }}"
'''

RETURN = r'''
_value:
  description: File names, for example V(["Rocky_9.yml", "RedHat_9.yml", "RedHat.yml"]).
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

_FACTS = ('distribution', 'distribution_major_version', 'os_family')


def os_vars_files(facts):
    """See DOCUMENTATION."""
    if not isinstance(facts, dict):
        raise AnsibleFilterError('os_vars_files: expects ansible_facts (a dict), got %s' % type(facts).__name__)
    missing = [name for name in _FACTS if not to_text(facts.get(name) or '').strip()]
    if missing:
        raise AnsibleFilterError('os_vars_files: the facts %s are missing: gather facts first (gather_subset min)'
                                 % ', '.join(missing))
    distribution, major, family = (to_text(facts[name]).strip() for name in _FACTS)
    return ['%s_%s.yml' % (distribution, major), '%s_%s.yml' % (family, major), '%s.yml' % family]


class FilterModule(object):

    def filters(self):
        return {'os_vars_files': os_vars_files}
