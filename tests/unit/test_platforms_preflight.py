# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs_repository's preflight, run for real on localhost with another platform's facts.

Only the preflight runs (--tags glusterfs_repository_preflight, --check, no fact gathering): nothing is
changed on this machine. It proves that EL7/EL8 hosts are refused with a message naming ansible-core 2.16
when the controller runs 2.17 or later (and accepted on the 2.16 lane), that the CentOS 7 vault is refused
on a RHEL 7 host, and that bad repository variables are named before anything changes.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PLAYBOOK = """\
- name: Preflight of glusterfs_repository
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
        cacheable: true
      tags: [always]
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: glusterfs.heketi.glusterfs_repository
        public: true
      tags: [always]
    - name: Show what was loaded
      ansible.builtin.debug:
        msg: "LOADED pkg_mgr={{ __glusterfs_repository_pkg_mgr }} release={{ __glusterfs_repository_release_packages | join(',') }}"
      tags: [always]
"""


def run_preflight(run_playbook, extra_vars):
    return run_playbook(PLAYBOOK, "--check", "--tags", "glusterfs_repository_preflight", extra_vars=extra_vars)


CENTOS7 = {"distribution": "CentOS", "os_family": "RedHat", "major": "7"}


@pytest.mark.parametrize("fake_os, release", [
    (CENTOS7, "centos-release-gluster9"),
    ({"distribution": "Rocky", "os_family": "RedHat", "major": "8"}, "centos-release-gluster10"),
])
def test_el7_el8_need_the_216_lane(run_playbook, ansible_core_version, fake_os, release):
    rc, out = run_preflight(run_playbook, {"fake_os": fake_os})
    if ansible_core_version < (2, 17):
        assert rc == 0, out
        assert f"LOADED pkg_mgr={'yum' if fake_os['major'] == '7' else 'dnf'} release={release}" in out, out
    else:
        assert rc != 0, out
        assert "Manage EL7 and EL8 hosts from ansible-core 2.16" in out, out
        assert f"{fake_os['distribution']} {fake_os['major']}" in out, out


@pytest.mark.parametrize("fake_os, pkg_mgr, release", [
    ({"distribution": "AlmaLinux", "os_family": "RedHat", "major": "9"}, "dnf", "centos-release-gluster10"),
    ({"distribution": "Debian", "os_family": "Debian", "major": "12"}, "apt", ""),
    ({"distribution": "Ubuntu", "os_family": "Debian", "major": "22"}, "apt", ""),
])
def test_other_platforms_on_every_lane(run_playbook, fake_os, pkg_mgr, release):
    rc, out = run_preflight(run_playbook, {"fake_os": fake_os})
    assert rc == 0, out
    assert f"LOADED pkg_mgr={pkg_mgr} release={release}" in out, out


def test_vault_refused_on_rhel7(run_playbook, ansible_core_version):
    if ansible_core_version >= (2, 17):
        pytest.skip("EL7 is refused before this check on ansible-core 2.17+ (test_el7_el8_need_the_216_lane)")
    rc, out = run_preflight(run_playbook, {"fake_os": {**CENTOS7, "distribution": "RedHat"}})
    assert rc != 0, out
    assert "Set glusterfs_repository_el7_vault: false" in out, out
    rc, out = run_preflight(run_playbook, {"fake_os": {**CENTOS7, "distribution": "RedHat"}, "glusterfs_repository_el7_vault": False})
    assert rc == 0, out


@pytest.mark.parametrize("extra, detail", [
    ({"glusterfs_repository_version": "10.4"}, "glusterfs_repository_version (10.4)"),
    # the argument spec owns the choices: its error names the variable
    ({"glusterfs_repository_source": "ppa"}, "glusterfs_repository_source must be one of: distribution, upstream, got: ppa"),
    ({"glusterfs_repository_el7_vault_url": "https://vault.centos.org/7.9.2009/"}, "glusterfs_repository_el7_vault_url"),
    ({"glusterfs_repository_check_packages": "glusterfs-server"}, "glusterfs_repository_check_packages"),
])
def test_bad_input_is_named(run_playbook, extra, detail):
    rc, out = run_preflight(run_playbook, {"fake_os": {"distribution": "Debian", "os_family": "Debian", "major": "12"}, **extra})
    assert rc != 0, out
    assert detail in out, out


APT_POLICY = """\
glusterfs-server:
  Installed: (none)
  Candidate: 10.3-5
  Version table:
     10.3-5 500
        500 http://mirror.example/debian bookworm/main amd64 Packages
glusterfs-client:
  Installed: 10.3-5
  Candidate: (none)
  Version table:
"""

YUM_LIST = """\
Installed Packages
glusterfs-fuse.x86_64                  9.6-1.el7                   @centos-gluster9
Available Packages
glusterfs-server.x86_64                9.6-1.el7                   centos-gluster9
device-mapper-persistent-data-very-long-name.x86_64
                                       0.8.5-3.el7_9.2             updates
"""


@pytest.mark.parametrize("pkg_mgr, output, packages, missing, installed", [
    ("apt", APT_POLICY, ["glusterfs-server"], "", []),
    ("apt", APT_POLICY, ["glusterfs-server", "glusterfs-client"], "glusterfs-client", []),
    ("apt", APT_POLICY, ["glusterfs-server", "heketi"], "heketi", []),
    ("apt", "", ["glusterfs-server"], "glusterfs-server", []),
    ("yum", YUM_LIST, ["glusterfs-server", "glusterfs-fuse"], "", []),
    ("yum", YUM_LIST, ["device-mapper-persistent-data-very-long-name"], "", []),
    ("dnf", YUM_LIST, ["glusterfs-server", "heketi"], "heketi", []),
    ("dnf", "", ["glusterfs-server"], "glusterfs-server", []),
    # The database read (glusterfs_repository_packages) has them: a rerun, the look-up was skipped, its output is
    # empty. Which dpkg states count as installed is installed_packages_info's (its unit tests).
    ("apt", "", ["glusterfs-server", "glusterfs-client"], "", ["glusterfs-server", "glusterfs-client"]),
    ("apt", "", ["glusterfs-server", "glusterfs-client"], "glusterfs-client", ["glusterfs-server"]),
    ("apt", APT_POLICY, ["glusterfs-server", "glusterfs-client"], "", ["glusterfs-client"]),
], ids=["apt-found", "apt-candidate-none", "apt-unknown", "apt-empty", "yum-found", "yum-wrapped-name",
        "dnf-missing", "dnf-empty", "read-installed", "read-one-missing", "read-one-installed"])
def test_package_lookup_names_what_is_missing(role_vars_value, pkg_mgr, output, packages, missing, installed):
    """The look-up expression of vars/main.yml on real apt-cache/yum output shapes, with Ansible's own filters."""
    extra = {
        "__glusterfs_repository_pkg_mgr": pkg_mgr,
        "glusterfs_repository_check_packages": packages,
        "__glusterfs_repository_lookup_apt": {"stdout": output},
        "__glusterfs_repository_lookup_rpm": {"stdout_lines": output.splitlines()},
        "glusterfs_repository_packages": {"installed": installed},
    }
    assert role_vars_value("glusterfs_repository", "__glusterfs_repository_missing | join(',')", extra) == missing


TOPOLOGY_PLAY = """\
- name: Topology preflight with another Heketi host Python
  hosts: heketi
  gather_facts: false
  pre_tasks:
    - name: Pretend another Python on the Heketi host
      ansible.builtin.set_fact:
        ansible_python_version: "{{ fake_py }}"
        cacheable: true
      when: fake_py is defined
      tags: [always]
  roles:
    - role: glusterfs.heketi.topology
  post_tasks:
    - name: Show where heketi_topology would run
      ansible.builtin.debug:
        msg: "RUN_ON=[{{ __topology_run_on }}] URL={{ __topology_url }}"
      tags: [always]
"""


@pytest.mark.parametrize("extra, run_on, url", [
    ({}, "", "http://127.0.0.1:8123"),  # this controller's own Python (3.8+): the Heketi host runs it
    ({"fake_py": "3.6.8"}, "localhost", "http://127.0.0.2:8123"),  # EL8 Heketi host
    ({"fake_py": "2.7.5"}, "localhost", "http://127.0.0.2:8123"),  # EL7 Heketi host
    ({"fake_py": "3.9.18"}, "", "http://127.0.0.1:8123"),  # EL9
    ({"fake_py": "3.6.8", "topology_delegate_to": ""}, "", "http://127.0.0.1:8123"),
    ({"fake_py": "3.6.8", "topology_heketi_url": "http://127.0.0.1:18080"}, "localhost", "http://127.0.0.1:18080"),
], ids=["own-python", "el8", "el7", "el9", "forced-heketi-host", "tunnel-url"])
def test_topology_runs_the_module_where_python_is_new_enough(tmp_path, run_playbook, extra, run_on, url):
    """topology_delegate_to: auto hands heketi_topology to the controller for EL7/EL8 Heketi hosts."""
    (tmp_path / "heketi.json").write_text(json.dumps(
        {"port": "8123", "jwt": {"admin": {"key": "A"}, "user": {"key": "U"}},
         "glusterfs": {"executor": "mock", "db": str(tmp_path / "h.db")}}))
    # 127.0.0.2 stands for the Heketi host address: only a string in the URL, nothing connects in the preflight
    (tmp_path / "inventory.yml").write_text(f"""\
all:
  children:
    heketi:
      hosts:
        hk:
          ansible_connection: local
          ansible_host: 127.0.0.2
          ansible_python_interpreter: {sys.executable}
    glusterfs_servers:
      hosts:
        node1:
          topology_devices: [/dev/sdf]
          topology_manage: node1
          topology_storage: 10.0.0.1
""")
    rc, out = run_playbook(TOPOLOGY_PLAY, "--tags", "topology_preflight", inventory=str(tmp_path / "inventory.yml"),
                           extra_vars={"topology_heketi_config": str(tmp_path / "heketi.json"),
                                       "topology_check_ssh": False, "topology_check_devices": False, **extra})
    assert rc == 0, out
    assert f"RUN_ON=[{run_on}] URL={url}" in out, out
