#!/usr/bin/python
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs on the storage nodes, the clients and the Heketi host, whose platform Python may be old (EL7: 2.7,
# EL8: 3.6): the classic boilerplate and no newer syntax.
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: installed_packages_info
short_description: Read which of the given packages the host's package database has installed
version_added: 1.1.0
description:
  - Asks the package database of the host it runs on, in one read-only command, which of O(packages) are
    installed, namely C(dpkg-query -W) (Debian, Ubuntu) or C(rpm -q) (EL). It does not read the repositories,
    refresh an index or start a package transaction.
  - The roles run it before their C(state=present) package task and run that task only when one of its packages
    is not in RV(installed). The answer is exactly what C(state=present) acts on. A package that is
    installed is left alone, whatever version the repositories offer now, and a package that is missing is
    installed.
  - Fails closed. An entry is reported installed only when the database names it installed. An entry that is not a
    plain package name (a version C(name=1.2), a requirement C(name >= 1.2), an architecture C(name:amd64), a
    path or a URL) is always reported not installed, because only the package manager can tell whether it is
    satisfied. With C(rpm), a failure that names no missing package, or any error on standard error, counts as
    nothing installed.
  - With O(manager=rpm) an entry may carry a version in rpm's own form (C(glusterfs-server-10.3)). C(rpm -q)
    reports it installed only when that version is.
author:
  - glusterfs.heketi developers (@glusterfs)
requirements:
  - C(dpkg-query) (O(manager=dpkg)) or C(rpm) (O(manager=rpm)) on the host.
options:
  packages:
    description:
      - The packages the caller installs with C(state=present), as it names them.
    type: list
    elements: str
    required: true
  manager:
    description:
      - The package database to read. V(dpkg) on apt hosts, V(rpm) on yum/dnf hosts.
    type: str
    choices: [dpkg, rpm]
    required: true
extends_documentation_fragment:
  - glusterfs.heketi.attributes
  - glusterfs.heketi.attributes.info_module
notes:
  - The C(glusterfs_repository) role runs it for the packages the calling role installs, and registers the answer
    as C(glusterfs_repository_packages). The C(heketi) role runs it for the Heketi host's own packages.
seealso:
  - module: ansible.builtin.package_facts
'''

EXAMPLES = r'''
- name: Read which of the node's packages are installed
  glusterfs.heketi.installed_packages_info:
    packages: [glusterfs-server, lvm2, xfsprogs]
    manager: "{{ 'dpkg' if ansible_facts['pkg_mgr'] == 'apt' else 'rpm' }}"
  register: __packages

- name: Install the packages, only when one is missing
  ansible.builtin.package:
    name: [glusterfs-server, lvm2, xfsprogs]
    state: present
  when: __packages.not_installed | length > 0
'''

RETURN = r'''
installed:
  description: The entries of O(packages) the database has installed, in the order given, each once.
  returned: always
  type: list
  elements: str
  sample: [glusterfs-server, lvm2]
not_installed:
  description:
    - The other entries of O(packages), in the order given, each once. These are the missing packages and every
      entry that is not a plain package name.
  returned: always
  type: list
  elements: str
  sample: [xfsprogs]
'''

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure, run_module

# A name the database can answer for by itself (the collection's package-name rule, var_errors "packages").
_PLAIN = re.compile(r'^[A-Za-z0-9][A-Za-z0-9.+_-]*$')
# dpkg-query -f '${Package}\t${db:Status-Abbrev}\n': the second letter of the status is "i" when installed.
_DPKG_FORMAT = '${Package}\\t${db:Status-Abbrev}\\n'
_DPKG_INSTALLED = re.compile(r'(?m)^(\S+)\t.i')
_RPM_MISSING = re.compile(r'(?m)^package (\S+) is not installed$')


def unique(packages):
    seen = set()
    return [p for p in packages if not (p in seen or seen.add(p))]


def plain_names(packages):
    """The entries the database can answer for by itself, each once."""
    return [p for p in unique(packages) if _PLAIN.match(p)]


def query_argv(manager, names):
    """The one read-only command for the plain names."""
    if manager == 'dpkg':
        return ['dpkg-query', '-W', '-f', _DPKG_FORMAT] + names
    return ['rpm', '-q'] + names


def installed_names(manager, names, rc, out, err):
    """The set of ``names`` the command's answer proves installed.

    dpkg-query exits 1 when some name is unknown to dpkg (never installed). Any other failure is an error.
    rpm -q prints "package NAME is not installed" for every missing name and exits non-zero then. A
    non-zero exit with no such line, or with an error on stderr, proves nothing.
    """
    if manager == 'dpkg':
        if rc not in (0, 1):
            raise ModuleFailure('dpkg-query failed (exit %d): %s' % (rc, (err or out).strip()), rc=rc)
        return set(_DPKG_INSTALLED.findall(out)) & set(names)
    missing = set(_RPM_MISSING.findall(out))
    if rc != 0 and (not missing or 'error' in err.lower()):
        return set()
    return set(names) - missing


def split(packages, installed):
    packages = unique(packages)
    return dict(installed=[p for p in packages if p in installed],
                not_installed=[p for p in packages if p not in installed])


def run(module):
    manager = module.params['manager']
    names = plain_names(module.params['packages'])
    installed = set()
    if names:
        argv = query_argv(manager, names)
        argv[0] = module.get_bin_path(argv[0], required=True)
        rc, out, err = module.run_command(argv, environ_update={'LC_ALL': 'C'})
        installed = installed_names(manager, names, rc, out, err)
    result = split(module.params['packages'], installed)
    result['changed'] = False
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            packages=dict(type='list', elements='str', required=True),
            manager=dict(type='str', choices=['dpkg', 'rpm'], required=True),
        ),
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
