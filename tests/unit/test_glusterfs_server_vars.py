# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The glusterfs_server and glusterfs_client roles' argument specs and preflights, run for real on localhost.

Only the role's validation and preflight tasks run (--tags <role>_preflight, --check)
against facts set by the play (no fact gathering): nothing is installed or changed on this machine. Each case proves that bad input stops the role
with a message naming the offending variable, and that the defaults pass on a supported OS.
"""
from __future__ import annotations

import pytest

PLAYBOOK = """\
- name: Preflight of ROLE
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  pre_tasks:
    - name: Pretend another operating system
      ansible.builtin.set_fact:
        ansible_distribution: "{{ fake_os.distribution }}"
        ansible_os_family: "{{ fake_os.os_family }}"
        ansible_distribution_major_version: "{{ fake_os.major }}"
        ansible_distribution_version: "{{ fake_os.major }}"
        ansible_service_mgr: "{{ fake_os.service_mgr | default('systemd') }}"
        cacheable: true
      tags: [always]
  roles:
    - role: glusterfs.heketi.ROLE
"""


def run_preflight(run_playbook, extra_vars, role="glusterfs_server"):
    return run_playbook(PLAYBOOK.replace("ROLE", role), "-v", "--check", "--tags", f"{role}_preflight", extra_vars=extra_vars)


def _supported_host():
    """A supported platform whatever this machine is (its service manager may not be systemd)."""
    return {"fake_os": {"distribution": "Debian", "os_family": "Debian", "major": "12"}}


def test_defaults_pass(run_playbook):
    rc, out = run_preflight(run_playbook, _supported_host())
    assert rc == 0, out
    assert "Load the OS-specific data" in out


@pytest.mark.parametrize(
    "fake_os, supported",
    [
        ({"distribution": "Ubuntu", "os_family": "Debian", "major": "24"}, True),
        ({"distribution": "Rocky", "os_family": "RedHat", "major": "9"}, True),
        ({"distribution": "Ubuntu", "os_family": "Debian", "major": "20"}, False),
        ({"distribution": "Debian", "os_family": "Debian", "major": "11"}, False),
        ({"distribution": "Gentoo", "os_family": "Gentoo", "major": "2"}, False),
        ({"distribution": "Debian", "os_family": "Debian", "major": "12", "service_mgr": "sysvinit"}, False),
    ],
    ids=["ubuntu24", "el9", "ubuntu20", "debian11", "gentoo", "debian12-sysvinit"],
)
def test_operating_system(run_playbook, fake_os, supported):
    rc, out = run_preflight(run_playbook, {"fake_os": fake_os})
    if supported:
        assert rc == 0, out
        # the OS data file for that platform was found and loaded
        assert "Load the OS-specific data" in out and "failed=0" in out, out
        assert f"{fake_os['os_family']}_{fake_os['major']}.yml" in out or f"{fake_os['distribution']}_{fake_os['major']}.yml" in out, out
    else:
        assert rc != 0, out
        assert "glusterfs_server does not support" in out, out
        assert f"{fake_os['distribution']} {fake_os['major']}" in out, out
        assert "Supported (systemd only): Debian 12, Ubuntu 22.04 and 24.04, EL 7, 8 and 9" in out, out


@pytest.mark.parametrize(
    "extra, variable, detail",
    [
        ({"glusterfs_server_kernel_modules": "dm_thin_pool,dm_snapshot"}, "glusterfs_server_kernel_modules", "list of strings"),
        ({"glusterfs_server_firewall_ports": "24007-24008/tcp"}, "glusterfs_server_firewall_ports", "list of strings"),
        ({"glusterfs_server_firewall_ports": ["24007-24008/tcp", "70000/tcp"]}, "glusterfs_server_firewall_ports", "'70000/tcp'"),
        ({"glusterfs_server_firewall_ports": ["60999-49152/tcp"]}, "glusterfs_server_firewall_ports", "'60999-49152/tcp'"),
        ({"glusterfs_server_kernel_modules": ["dm_thin_pool", "dm thin"]}, "glusterfs_server_kernel_modules", "'dm thin'"),
        ({"glusterfs_server_version": "10.4"}, "glusterfs_server_version", "10.4"),
        ({"glusterfs_server_kernel_modules_manage": "maybe"}, "glusterfs_server_kernel_modules_manage", ""),
        ({"glusterfs_server_start_timeout": 0}, "glusterfs_server_start_timeout (0)", "positive integer"),
        ({"glusterfs_server_apt_cache_valid_time": -1}, "glusterfs_server_apt_cache_valid_time (-1)", "non-negative"),
        # the argument spec owns the types: its error names the variable
        ({"glusterfs_server_start_timeout": "soon"}, "glusterfs_server_start_timeout", "unable to convert to int"),
        ({"glusterfs_server_packages_extra": [{"name": "x"}]}, "glusterfs_server_packages_extra", "list of strings"),
    ],
    ids=["modules-string", "ports-string", "port-too-high", "port-range-reversed", "module-name",
         "version", "bool", "timeout-zero", "cache-time-negative", "timeout-type", "packages-mapping"],
)
def test_bad_input_is_named(run_playbook, extra, variable, detail):
    rc, out = run_preflight(run_playbook, {**_supported_host(), **extra})
    assert rc != 0, out
    assert variable in out, out
    assert detail in out, out


def test_every_bad_variable_is_named_at_once(run_playbook):
    rc, out = run_preflight(run_playbook, {**_supported_host(), "glusterfs_server_version": "ten",
                                           "glusterfs_server_firewall_ports": ["24007/sctp"]})
    assert rc != 0, out
    assert 'glusterfs_server_version (ten) must be a GlusterFS major version such as \\"10\\"' in out, out
    assert "glusterfs_server_firewall_ports: '24007/sctp' is not PORT/PROTO" in out, out


def test_client_defaults_pass(run_playbook):
    rc, out = run_preflight(run_playbook, _supported_host(), role="glusterfs_client")
    assert rc == 0, out
    assert "Check the variables" in out, out


@pytest.mark.parametrize("extra, detail", [
    ({"glusterfs_client_version": "10.4"}, 'glusterfs_client_version (10.4) must be a GlusterFS major version'),
    ({"glusterfs_client_packages_extra": "attr,acl"}, "glusterfs_client_packages_extra must be a list of strings (found str: attr,acl)"),
    # the argument spec owns the types: its error names the variable
    ({"glusterfs_client_selinux_booleans": {"virt_use_fusefs": True}}, "argument 'glusterfs_client_selinux_booleans' is of type"),
    ({"glusterfs_client_selinux_manage": "maybe"}, "glusterfs_client_selinux_manage"),
    ({"glusterfs_client_apt_cache_valid_time": "hourly"}, "glusterfs_client_apt_cache_valid_time"),
], ids=["version", "extra-string", "booleans-mapping", "bool-type", "int-type"])
def test_client_bad_input_is_named(run_playbook, extra, detail):
    rc, out = run_preflight(run_playbook, {**_supported_host(), **extra}, role="glusterfs_client")
    assert rc != 0, out
    assert detail in out, out


SERVER_PACKAGES = ["glusterfs-server", "lvm2", "xfsprogs", "openssh-server", "util-linux", "thin-provisioning-tools"]


@pytest.mark.parametrize("role, extra, read, missing", [
    # A rerun: the read has every package, the package task is skipped.
    ("glusterfs_server", {}, {"installed": SERVER_PACKAGES}, ""),
    ("glusterfs_server", {"glusterfs_server_packages_extra": ["nvme-cli"]}, {"installed": SERVER_PACKAGES}, "nvme-cli"),
    ("glusterfs_server", {}, {"installed": SERVER_PACKAGES[1:]}, "glusterfs-server"),
    # A version-pinned entry is never found by the read (installed_packages_info): state=present decides.
    ("glusterfs_server", {"glusterfs_server_packages_extra": ["glusterfs-server=10.3-5"]},
     {"installed": SERVER_PACKAGES}, "glusterfs-server=10.3-5"),
    # No read (it was skipped, or failed open): everything counts as missing, the task runs as before.
    ("glusterfs_server", {}, {"skipped": True}, ",".join(SERVER_PACKAGES)),
    ("glusterfs_client", {}, {"installed": ["glusterfs-client"]}, ""),
    ("glusterfs_client", {"glusterfs_client_packages_extra": ["attr"]}, {"installed": ["glusterfs-client"]}, "attr"),
    # EL with SELinux enabled: the bindings seboolean needs are part of the client's packages.
    ("glusterfs_client", {"__glusterfs_client_packages_os": ["glusterfs-fuse"], "__glusterfs_client_selinux_wanted": True,
                          "__glusterfs_client_selinux_packages": ["python3-libsemanage"]},
     {"installed": ["glusterfs-fuse"]}, "python3-libsemanage"),
], ids=["server-all", "server-extra", "server-one", "server-pinned", "server-no-read", "client-all", "client-extra",
        "client-selinux"])
def test_the_package_task_runs_only_for_a_missing_package(role_vars_value, role, extra, read, missing):
    base = {"glusterfs_server": {"__glusterfs_server_packages_os": ["thin-provisioning-tools"],
                                 "glusterfs_server_packages_extra": []},
            "glusterfs_client": {"__glusterfs_client_packages_os": ["glusterfs-client"], "glusterfs_client_packages_extra": [],
                                 "glusterfs_client_selinux_manage": False, "__glusterfs_client_selinux_packages": []}}[role]
    extra_vars = {**base, **extra}
    if "skipped" not in read:
        extra_vars["glusterfs_repository_packages"] = read
    assert role_vars_value(role, "__%s_packages_missing | join(',')" % role, extra_vars) == missing
