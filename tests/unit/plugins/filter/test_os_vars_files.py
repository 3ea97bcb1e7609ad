# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.os_vars_files: the one OS-vars rule, and every role using it."""
from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.glusterfs.heketi.plugins.filter.os_vars_files import os_vars_files

ROOT = Path(__file__).resolve().parents[4]


def test_most_specific_first():
    facts = {"distribution": "Rocky", "distribution_major_version": "9", "os_family": "RedHat"}
    assert os_vars_files(facts) == ["Rocky_9.yml", "RedHat_9.yml", "RedHat.yml"]


def test_missing_facts_are_named():
    with pytest.raises(AnsibleFilterError, match="distribution_major_version, os_family"):
        os_vars_files({"distribution": "Debian"})


def test_not_a_dict():
    with pytest.raises(AnsibleFilterError, match="got list"):
        os_vars_files([])


@pytest.mark.parametrize("facts", [
    {"distribution": "Debian", "distribution_major_version": "12", "os_family": "Debian"},
    {"distribution": "CentOS", "distribution_major_version": "7", "os_family": "RedHat"},
    {"distribution": "Rocky", "distribution_major_version": "9", "os_family": "RedHat"},
])
@pytest.mark.parametrize("role", ["glusterfs_server", "glusterfs_client", "glusterfs_repository", "heketi"])
def test_every_role_has_a_file_for_its_platforms(role, facts):
    found = [name for name in os_vars_files(facts) if (ROOT / "roles" / role / "vars" / name).is_file()]
    assert found, "%s has no vars file among %s" % (role, os_vars_files(facts))


def test_no_role_writes_the_rule_again():
    copies = [str(p.relative_to(ROOT)) for p in (ROOT / "roles").glob("*/tasks/*.yml")
              if "distribution_major_version'] }}.yml" in p.read_text()]
    assert copies == []
