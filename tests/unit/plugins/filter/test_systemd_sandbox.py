# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.systemd_sandbox: one sandbox for Heketi's unit and the backup timer's."""
from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.glusterfs.heketi.plugins.filter.systemd_sandbox import systemd_sandbox

ROOT = Path(__file__).resolve().parents[4]


def test_read_write_paths_and_runtime_directory():
    lines = systemd_sandbox(["/var/lib/heketi", "/var/lib/heketi", "/srv/db"], runtime_directory="heketi").splitlines()
    assert lines[:5] == ["NoNewPrivileges=true", "ProtectSystem=strict", "ReadWritePaths=/var/lib/heketi /srv/db",
                         "RuntimeDirectory=heketi", "RuntimeDirectoryMode=0700"]
    assert "CapabilityBoundingSet=" in lines and "SystemCallFilter=@system-service" in lines
    assert "RuntimeDirectory=heketi" not in systemd_sandbox(["/x"])


@pytest.mark.parametrize("paths, message", [
    ("/var/lib/heketi", "expects a list"),
    (["relative"], "not an absolute path"),
    (["/a b"], "not an absolute path without spaces"),
    ([], "name at least one folder"),
])
def test_bad_input_is_named(paths, message):
    with pytest.raises(AnsibleFilterError, match=message):
        systemd_sandbox(paths)


def test_both_units_use_it():
    for unit in ("roles/heketi/templates/heketi.service.j2", "roles/heketi_maintenance/templates/heketi-backup.service.j2"):
        text = (ROOT / unit).read_text()
        assert "glusterfs.heketi.systemd_sandbox" in text and "NoNewPrivileges" not in text, unit
