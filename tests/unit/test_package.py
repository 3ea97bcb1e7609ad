# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The package's metadata agrees with itself: roles' meta/main.yml with meta/runtime.yml and the README's
platform table, galaxy.yml's dependencies with collections/requirements.yml, the heketi action group with
the modules that document it."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.parent.parent.name for p in ROOT.glob("roles/*/meta/main.yml"))
# The README's "Supported platforms" rows, as Galaxy names them.
PLATFORMS = {"Debian": ["bookworm"], "Ubuntu": ["jammy", "noble"], "EL": ["7", "8", "9"]}


def load(path):
    return yaml.safe_load((ROOT / path).read_text())


def test_roles_min_ansible_version_is_requires_ansible():
    minimum = re.match(r"^>=\s*([0-9.]+?)(\.0)?$", load("meta/runtime.yml")["requires_ansible"]).group(1)
    for role in ROLES:
        assert load("roles/%s/meta/main.yml" % role)["galaxy_info"]["min_ansible_version"] == minimum, role


def test_roles_platforms_are_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    for name in ("Debian 12", "Ubuntu 22.04, 24.04", "EL 9", "EL 8", "EL 7"):
        assert "\n| %s " % name in readme, name
    for role in ROLES:
        platforms = {p["name"]: sorted(p["versions"]) for p in load("roles/%s/meta/main.yml" % role)["galaxy_info"]["platforms"]}
        if role in ("storageclass", "csi_driver"):  # run where the Kubernetes API is reached from
            assert platforms == {"GenericLinux": ["all"]}
        elif role == "heketi_maintenance":  # its modules run on the Heketi host: Python 3.8+, so no EL 7/8
            assert platforms == dict(PLATFORMS, EL=["9"])
        else:
            assert platforms == PLATFORMS, role


def test_dependencies_are_the_requirements_file():
    deps = load("galaxy.yml")["dependencies"]
    reqs = {c["name"]: c["version"] for c in load("collections/requirements.yml")["collections"]}
    assert deps == reqs
    assert "community.docker" not in deps


def test_action_group_is_every_module_with_the_heketi_fragment():
    group = set(load("meta/runtime.yml")["action_groups"]["heketi"])
    documented = set()
    for module in (ROOT / "plugins" / "modules").glob("*.py"):
        text = module.read_text()
        if re.search(r"^  - glusterfs\.heketi\.heketi$", text, re.M):
            documented.add(module.stem)
    assert group == documented
