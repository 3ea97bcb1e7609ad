# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.heketi_mode when wait_idle runs out: the mode it set stays set, and the failure says so
(changed, mode, previous_mode, the last /operations answer). The answers are the real server's shapes; an
operation held in flight needs the ssh lab, where tests/integration/test_day2_lab.py drives the same path
through playbooks/upgrade.yml. Against the real server: tests/integration/test_heketi_backup_mode.py."""
from __future__ import annotations

import pytest

from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure
from ansible_collections.glusterfs.heketi.plugins.modules import heketi_mode


class Module:
    check_mode = False
    _diff = False
    params = {"state": "read-only", "wait_idle": 0.2, "poll_interval": 0.05}


class Server:
    """Heketi's answers with one operation that never ends."""

    def __init__(self):
        self.state = "normal"

    def get(self, path):
        return {"state": self.state} if path == "/admin" else {"total": 1, "in_flight": 1, "stale": 0, "failed": 0, "new": 0}

    def post(self, path, body):
        self.state = body["state"]


def test_running_out_of_wait_reports_the_mode_it_set():
    server = Server()
    with pytest.raises(ModuleFailure) as failure:
        heketi_mode.run(Module(), server)
    assert "1 operation(s) still in flight after 0.2s" in failure.value.msg
    result = failure.value.result
    assert server.state == "read-only"
    assert result["changed"] is True and result["mode"] == "read-only" and result["previous_mode"] == "normal"
    assert result["operations"]["in_flight"] == 1 and result["waited"] >= 0.2
