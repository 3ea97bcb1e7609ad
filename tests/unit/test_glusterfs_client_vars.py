# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The glusterfs_client role's argument specs and preflight, run for real on localhost.

Only the role's validation and preflight tasks run (--tags glusterfs_client_preflight, --check) against
facts set by the play: nothing is installed or changed on this machine.
"""
from __future__ import annotations

import pytest

PLAYBOOK = """\
- name: Preflight of glusterfs_client
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  pre_tasks:
    - name: Pretend Debian 12
      ansible.builtin.set_fact:
        ansible_distribution: Debian
        ansible_os_family: Debian
        ansible_distribution_major_version: "12"
        ansible_distribution_version: "12"
        cacheable: true
      tags: [always]
  roles:
    - role: glusterfs.heketi.glusterfs_client
"""


def run_preflight(run_playbook, extra_vars):
    return run_playbook(PLAYBOOK, "-v", "--check", "--tags", "glusterfs_client_preflight", extra_vars=extra_vars)


def test_defaults_pass(run_playbook):
    rc, out = run_preflight(run_playbook, {})
    assert rc == 0, out
    assert "Check the variables" in out, out


@pytest.mark.parametrize("extra, detail", [
    ({"glusterfs_client_version": "10.4"}, 'glusterfs_client_version (10.4) must be a GlusterFS major version'),
    ({"glusterfs_client_packages_extra": "attr,acl"}, "glusterfs_client_packages_extra must be a list of strings (found str: attr,acl)"),
    # the argument spec owns the types: its error names the variable
    ({"glusterfs_client_selinux_booleans": {"virt_use_fusefs": True}}, "argument 'glusterfs_client_selinux_booleans' is of type dict"),
    ({"glusterfs_client_selinux_manage": "maybe"}, "glusterfs_client_selinux_manage"),
    ({"glusterfs_client_apt_cache_valid_time": "hourly"}, "glusterfs_client_apt_cache_valid_time"),
], ids=["version", "extra-string", "booleans-mapping", "bool-type", "int-type"])
def test_bad_input_is_named(run_playbook, extra, detail):
    rc, out = run_preflight(run_playbook, extra)
    assert rc != 0, out
    assert detail in out, out
