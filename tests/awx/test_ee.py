# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The execution environment: `ansible-builder create` makes its build context offline (tools/ee-context.sh),
and builder's own introspection, run on the collection installed from that context's tarball, finds the
collection's Python and system requirements. Building the image needs a container registry: not here."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def test_ansible_builder_create_offline(tmp_path):
    context = tmp_path / "context"
    proc = subprocess.run([str(ROOT / "tools" / "ee-context.sh"), str(context)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (context / "Containerfile").read_text()
    definition = yaml.safe_load((ROOT / "execution-environment" / "execution-environment.yml").read_text())
    assert definition["version"] == 3
    assert 'ARG EE_BASE_IMAGE="%s"' % definition["images"]["base_image"]["name"] in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.19,<2.20 ansible-runner>=2.4,<2.5"' in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert requirements["collections"] == [{"name": "collections/glusterfs-heketi.tar.gz", "type": "file"}]
    tarball = context / "_build" / "collections" / "glusterfs-heketi.tar.gz"
    assert tarball.is_file()

    # What the builder stage does after the galaxy stage: introspect the installed collections.
    installed = tmp_path / "installed"
    proc = subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "install", "--no-deps", "--force", "-p", str(installed),
                           str(tarball)], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = subprocess.run([sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect",
                           "--user-pip=/dev/null", "--user-bindep=/dev/null", str(installed)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = yaml.safe_load(proc.stdout)
    assert "kubernetes>=24.2.0  # from collection glusterfs.heketi" in found["python"], found
    assert "openssh-clients [platform:rpm]  # from collection glusterfs.heketi" in found["system"], found
