# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.firewall_sources when a firewall command fails part-way: the failure reports what was
already added and removed (it stays applied). The commands' answers are ufw 0.36.2's; the second `ufw allow`
is made to fail, which a running ufw cannot be made to do on demand (the rules applied to real firewalls
are tested in tests/integration/test_firewall_lab.py)."""
from __future__ import annotations

import pytest

from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure
from ansible_collections.glusterfs.heketi.plugins.modules import firewall_sources

SHOW_ADDED = """Added user rules (see 'ufw status' for running firewall):
ufw allow 8080/tcp comment 'old'
"""


class Module:
    check_mode = False
    _diff = False

    def __init__(self, **params):
        self.params = dict(dict(backends=["ufw"], zone="", comment="c", sources=None), **params)
        self.commands = []

    def get_bin_path(self, name, opt_dirs=None):
        return "/usr/sbin/" + name

    def run_command(self, cmd, environ_update=None):
        self.commands.append(cmd)
        if cmd[1:] == ["status"]:
            return 0, "Status: active\n", ""
        if cmd[1:] == ["show", "added"]:
            return 0, SHOW_ADDED, ""
        if cmd[1] == "allow" and sum(c[1] == "allow" for c in self.commands) == 2:
            return 1, "", "ERROR: Could not update running firewall"
        return 0, "", ""


def test_a_failure_part_way_reports_what_was_already_changed():
    module = Module(ports=["8080/tcp"], sources=["192.0.2.10", "192.0.2.11"])
    with pytest.raises(ModuleFailure) as failure:
        firewall_sources.run(module)
    assert "Could not update running firewall" in failure.value.msg
    result = failure.value.result
    assert result["backend"] == "ufw" and result["changed"] is True
    assert result["removed"] == ["8080/tcp"]
    assert result["added"] == ["192.0.2.10 8080/tcp"]  # the first allow went through, the second did not


def test_without_a_failure_every_rule_is_reported():
    module = Module(ports=["8080/tcp"], sources=["192.0.2.10"])
    result = firewall_sources.run(module)
    assert result["added"] == ["192.0.2.10 8080/tcp"] and result["removed"] == ["8080/tcp"] and result["changed"]
