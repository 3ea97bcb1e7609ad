# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No example or document passes a Heketi key through a task's `environment:` (it reaches the remote
command's environment, visible in ps and -vvv); the examples use `key:` from Vault."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# The modules that talk to Heketi (they take its key); storage_device_info runs on the nodes and has none.
MODULES = sorted(p for p in (ROOT / "plugins" / "modules").glob("*.py")
                 if "\n  - glusterfs.heketi.heketi\n" in p.read_text())
DOCS = sorted(p for p in [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("roles/*/README.md"),
                          *ROOT.glob("plugins/doc_fragments/*.py")] if p.is_file())
# An `environment:` block whose entries include a key variable.
ENV_WITH_KEY = re.compile(r"^(\s*)environment:\s*\n(?:\1\s+\S.*\n)*?\1\s+(HEKETI_CLI_KEY|HEKETI_SECRET)\s*:", re.M)


def module_string(path, name):
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return node.value.value
    return ""


def examples(path):
    return module_string(path, "EXAMPLES")


def takes_a_key(path):
    """The Heketi API modules: their options (key among them) come from the glusterfs.heketi.heketi fragment."""
    fragments = yaml.safe_load(module_string(path, "DOCUMENTATION")).get("extends_documentation_fragment") or []
    return "glusterfs.heketi.heketi" in fragments


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_examples_pass_the_key_as_an_option(path):
    tasks = yaml.safe_load(examples(path)) or []
    for task in tasks:
        env = task.get("environment") or {}
        assert not [k for k in env if "KEY" in k.upper() or "SECRET" in k.upper()], (path.name, task["name"])
    if not takes_a_key(path):
        return
    keyed = [t for t in tasks for k, v in t.items() if k.startswith("glusterfs.heketi.") and "key" in (v or {})]
    assert keyed, "%s: no example shows key: from Vault" % path.name


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_do_not_put_the_key_into_environment(path):
    assert not ENV_WITH_KEY.search(path.read_text()), path
