# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision of glusterfs.heketi.jwt_keys: which JWT key read back from heketi.json may be kept."""
from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.glusterfs.heketi.plugins.filter.jwt_keys import jwt_keys

STRONG_A = "A" * 20 + "kept-admin-key-000000"
STRONG_U = "U" * 20 + "kept-user-key-0000000"


def config(admin, user):
    return json.dumps({"port": "8080", "jwt": {"admin": {"key": admin}, "user": {"key": user}}})


# The three weak files of issue 9: the seed's manual setup, the sample placeholder, one key for both.
WEAK = {
    "seed_admin@123": config("admin@123", "admin@123"),
    "sample_my_secret": config("My Secret", "My Secret"),
    "admin_equals_user": config("S" * 48, "S" * 48),
}


@pytest.mark.parametrize("case", sorted(WEAK))
def test_weak_keys_on_the_host_are_both_replaced(case):
    out = jwt_keys(WEAK[case])
    old = json.loads(WEAK[case])["jwt"]
    assert out["admin"] != old["admin"]["key"] and out["user"] != old["user"]["key"]
    assert out["admin"] != out["user"]
    assert len(out["admin"]) == 48 and len(out["user"]) == 48
    assert out["sources"] == {"admin": "generated", "user": "generated"}
    assert [line.split(" ", 1)[0] for line in out["replaced"]] == ["admin", "user"]
    report = " ".join(out["replaced"])
    assert old["admin"]["key"] not in report and out["admin"] not in report and out["user"] not in report


@pytest.mark.parametrize("placeholder", ["My Secret", "my_secret", "MYSECRET", "changeme", "admin@123"])
def test_placeholders_are_replaced_whatever_their_spelling(placeholder):
    out = jwt_keys({"jwt": {"admin": {"key": placeholder}, "user": {"key": STRONG_U}}})
    assert out["sources"] == {"admin": "generated", "user": "kept"}
    assert out["user"] == STRONG_U


def test_strong_distinct_keys_are_kept_and_nothing_is_reported():
    out = jwt_keys(config(STRONG_A, STRONG_U))
    assert (out["admin"], out["user"], out["replaced"]) == (STRONG_A, STRONG_U, [])


def test_31_characters_is_too_short_32_is_enough():
    assert jwt_keys(config("a" * 31, STRONG_U))["sources"]["admin"] == "generated"
    assert jwt_keys(config("a" * 32, STRONG_U))["sources"]["admin"] == "kept"


def test_first_install_generates_without_reporting_a_replacement():
    for empty in (None, "", {}):
        out = jwt_keys(empty)
        assert out["replaced"] == [] and out["sources"] == {"admin": "generated", "user": "generated"}
        assert out["admin"] != out["user"]


def test_given_keys_win_and_a_host_key_equal_to_a_given_one_is_replaced():
    given_admin = "G" * 40
    out = jwt_keys(config(STRONG_A, given_admin), admin=given_admin)
    assert out["admin"] == given_admin and out["sources"] == {"admin": "given", "user": "generated"}
    assert out["user"] != given_admin
    assert "same as the other" in out["replaced"][0]


def test_unreadable_file_keeps_nothing_and_says_so():
    out = jwt_keys("{not json")
    assert out["sources"] == {"admin": "generated", "user": "generated"}
    assert all("not valid JSON" in line for line in out["replaced"])


def test_equal_given_keys_are_refused():
    with pytest.raises(AnsibleFilterError, match="equal"):
        jwt_keys(None, admin="K" * 40, user="K" * 40)
