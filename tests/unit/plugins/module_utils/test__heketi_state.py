# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_heketi_state.part_way: what a removal that failed part-way reports (issue 25)."""
from __future__ import annotations

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi import HeketiError
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_state import FINISH, part_way


def test_steps_done_make_it_a_change_and_the_message_says_where_it_stopped():
    error = HeketiError("No device found for /dev/disk/by-id/lvm-pv-uuid-x", status=500)
    msg, extra = part_way("node n1 device /dev/sdg", ["offline", "removed"], "deleted", error, "removed", FINISH)
    assert msg.startswith("node n1 device /dev/sdg: offline, removed done; deleted failed: No device found for ")
    assert "Heketi reports it removed now. To finish, run the same task again" in msg
    assert extra == {"changed": True, "steps": ["offline", "removed"], "failed_step": "deleted", "reached": "removed",
                     "status": 500}


def test_an_accepted_first_step_is_a_possible_change_and_an_unread_state_is_unknown():
    error = HeketiError("operation failed", status=500, accepted=True)
    msg, extra = part_way("node n1", [], "deleted device /dev/sdf", error, None, FINISH)
    assert extra["changed"] is True and extra["reached"] == "unknown" and extra["steps"] == []
    assert "no step done; deleted device /dev/sdf failed" in msg and "could not be read" in msg
    _msg, extra = part_way("node n1", [], "offline", HeketiError("refused", status=409), "online", FINISH)
    assert extra["changed"] is False
