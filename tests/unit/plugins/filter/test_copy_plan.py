# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.copy_plan: which of the controller's files a host lacks, from a find on each side."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.glusterfs.heketi.plugins.filter.copy_plan import copy_plan

GIVEN = [{"path": "/src/heketi", "checksum": "a" * 40}, {"path": "/src/heketi-cli", "checksum": "b" * 40}]


def _installed(name, checksum, mode="0755", owner="root", group="root", isreg=True):
    return {"path": "/usr/local/bin/" + name, "checksum": checksum, "mode": mode, "pw_name": owner, "gr_name": group,
            "isreg": isreg}


def test_nothing_to_copy_when_both_match():
    installed = [_installed("heketi", "a" * 40), _installed("heketi-cli", "b" * 40), _installed("other", "c" * 40)]
    assert copy_plan(GIVEN, installed, mode="0755") == []


@pytest.mark.parametrize("change", [dict(checksum="f" * 40), dict(mode="0777"), dict(owner="nobody"), dict(group="staff"),
                                    dict(isreg=False)])
def test_a_difference_copies_that_file_only(change):
    installed = [_installed("heketi", **dict(dict(checksum="a" * 40), **change)), _installed("heketi-cli", "b" * 40)]
    assert copy_plan(GIVEN, installed, mode="0755") == ["/src/heketi"]


def test_missing_files_are_copied_in_the_given_order():
    assert copy_plan(GIVEN, [], mode="0755") == ["/src/heketi", "/src/heketi-cli"]


def test_a_find_without_checksums_is_refused():
    with pytest.raises(AnsibleFilterError, match="get_checksum"):
        copy_plan([{"path": "/src/heketi"}], [])
