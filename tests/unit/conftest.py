# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fixture that runs a real ansible-playbook from the repository root, this checkout being glusterfs.heketi."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def ansible_playbook_path():
    """The ansible-playbook beside the running Python (the lane's venv), else the one on PATH."""
    exe = Path(sys.executable).with_name("ansible-playbook")
    return str(exe) if exe.exists() else shutil.which("ansible-playbook")


@pytest.fixture(scope="session")
def ansible_core_version():
    """(major, minor) of the ansible-core that ansible_playbook_path() runs."""
    exe = ansible_playbook_path()
    if exe is None:
        pytest.skip("ansible-playbook is not installed")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
    version = out.split("[core ", 1)[1].split("]", 1)[0]
    return tuple(int(p) for p in version.split(".")[:2])


@pytest.fixture
def run_playbook(tmp_path):
    """run_playbook(play_text, *args, extra_vars=None, inventory="localhost,") -> (returncode, output)."""
    exe = ansible_playbook_path()
    if exe is None:
        pytest.skip("ansible-playbook is not installed")

    def run(play_text, *args, extra_vars=None, inventory="localhost,"):
        play = tmp_path / "play.yml"
        play.write_text(play_text)
        cmd = [exe, "-i", inventory]
        if extra_vars is not None:
            varsfile = tmp_path / "vars.json"
            varsfile.write_text(json.dumps(extra_vars))
            cmd += ["-e", f"@{varsfile}"]
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"))
        proc = subprocess.run(cmd + list(args) + [str(play)], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        return proc.returncode, proc.stdout + proc.stderr

    return run


ROLE_VARS_PLAY = """\
- name: Evaluate an expression of a role's vars/main.yml
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Load the role's expressions
      ansible.builtin.include_vars:
        file: "{{ role_vars }}"
    - name: Show the value
      ansible.builtin.debug:
        msg: "VALUE<<{{ EXPRESSION }}>>"
"""


@pytest.fixture
def role_vars_value(run_playbook):
    """role_vars_value(role, expression, extra_vars) -> the text the expression renders to, with the role's
    vars/main.yml loaded and extra_vars standing for the facts and results it reads (Ansible's own filters)."""

    def value(role, expression, extra_vars):
        evars = {**extra_vars, "role_vars": str(ROOT / "roles" / role / "vars" / "main.yml")}
        rc, out = run_playbook(ROLE_VARS_PLAY.replace("EXPRESSION", expression), extra_vars=evars)
        assert rc == 0, out
        assert "VALUE<<" in out, out
        return out.split("VALUE<<", 1)[1].split(">>", 1)[0]

    return value
