# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.var_errors: the strict per-variable rules of the roles' preflights."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.glusterfs.heketi.plugins.filter.var_errors import var_errors


@pytest.mark.parametrize("rule, value, expected", [
    ("strings", ["a", "b"], []),
    ("strings", "a,b", ["v must be a list of strings (found str: a,b)."]),
    ("strings", {"a": 1}, ["v must be a list of strings (found dict: {'a': 1})."]),
    ("strings", ["a", 1], ["v must be a list of strings (found list: ['a', 1])."]),
    ("packages", ["glusterfs-server", "g++"], []),
    ("packages", ["glusterfs server"], ["v: 'glusterfs server' is not a package name."]),
    ("kernel_modules", ["dm_thin_pool", "dm thin"], ["v: 'dm thin' is not a kernel module name."]),
    ("ports", ["24007-24008/tcp", "111/udp"], []),
    ("ports", ["70000/tcp", "60999-49152/tcp", "0/tcp", "22/sctp"],
     ["v: '%s' is not PORT/PROTO or LOW-HIGH/PROTO (1-65535, tcp or udp, LOW <= HIGH), e.g. 24007-24008/tcp." % p
      for p in ("70000/tcp", "60999-49152/tcp", "0/tcp", "22/sctp")]),
    ("major", "10", []),
    ("major", 11, []),
    ("major", "10.4", ['v (10.4) must be a GlusterFS major version such as "10".']),
    ("major", True, ['v (True) must be a GlusterFS major version such as "10".']),
    ("url", "https://vault.centos.org/7.9.2009", []),
    ("url", "https://vault.centos.org/7.9.2009/", ["v (https://vault.centos.org/7.9.2009/) must be an http(s) URL without a trailing slash."]),
    ("seconds", 0, []),
    ("seconds", -1, ["v (-1) must be a non-negative integer (seconds)."]),
    ("positive_seconds", "60", []),
    ("positive_seconds", 0, ["v (0) must be a positive integer (seconds)."]),
])
def test_rules(rule, value, expected):
    assert var_errors({"v": rule}, [value]) == expected


def test_every_offending_variable_is_named_in_name_order():
    errors = var_errors({"b": "strings", "a": "major", "c": "strings"}, ["x", "1.0", ["ok"]])
    assert [e.split(" ")[0] for e in errors] == ["a", "b"]


@pytest.mark.parametrize("rules, values", [([], []), ({"v": "colour"}, [1]), ({"v": "major"}, []), ({"v": "major"}, {"v": 1})])
def test_misuse_is_an_error(rules, values):
    with pytest.raises(AnsibleFilterError):
        var_errors(rules, values)


def test_storageclass_parameter_rules_follow_the_drivers_contract():
    rules = {"opts": "csi_parameter:volumeoptions", "prefix": "intree_parameter:volumenameprefix",
             "low": "csi_parameter:gidMin", "high": "csi_parameter:gidMax", "unset": "csi_parameter:volumetype"}
    errors = var_errors(rules, ["features.shard enable, user.x $(id)", "team_a", 5000, 4000, ""])
    assert errors == [
        "low: StorageClass parameter gidMin='5000': greater than gidMax 4000",
        "opts: StorageClass parameter volumeoptions='features.shard enable, user.x $(id)': entry 'user.x $(id)' "
        "refused: want comma-separated \"<name> <value>\" entries: the name [a-z][a-z0-9._-]* (at most 128 "
        "characters), the value 1-256 of [A-Za-z0-9._:/@%+=-] (Heketi's ssh executor runs the option through a "
        "root shell)",
        "prefix: StorageClass parameter volumenameprefix='team_a': want 1-40 characters of [a-zA-Z0-9-] "
        "(the in-tree provisioner joins the name's parts with '_')",
    ]
    assert var_errors({"opts": "csi_parameter:volumeoptions"}, ["features.shard enable"]) == []


# Heketi's JWT keys: one rule for keys given and keys read back from the host (glusterfs.heketi.jwt_keys).
KEYS = {"heketi_admin_key": "jwt_key", "heketi_user_key": "jwt_key"}
GOOD_A, GOOD_U = "A" * 20 + "given-admin-key-0000", "U" * 20 + "given-user-key-00000"


def test_a_weak_admin_key_names_that_key_and_the_one_rule_never_the_key():
    errors = var_errors(KEYS, ["admin@123", GOOD_U])
    assert len(errors) == 1
    assert errors[0].startswith("heketi_admin_key is wrong: it is shorter than 32 characters and it is a known sample placeholder.")
    assert "heketi_user_key" not in errors[0]
    assert "at least 32 characters, not a sample placeholder" in errors[0]
    assert "admin@123" not in errors[0].replace("such as admin@123", "")


def test_jwt_keys_31_characters_refused_32_accepted_empty_generated():
    assert var_errors(KEYS, ["a" * 31, GOOD_U])[0].startswith("heketi_admin_key is wrong: it is shorter than 32")
    assert var_errors(KEYS, ["a" * 32, GOOD_U]) == []
    assert var_errors(KEYS, ["", ""]) == []


def test_a_weak_user_key_names_the_user_key_only():
    errors = var_errors(KEYS, [GOOD_A, "My Secret"])
    assert len(errors) == 1 and errors[0].startswith("heketi_user_key is wrong:")


def test_equal_jwt_keys_are_named_together_without_the_key():
    errors = var_errors(KEYS, [GOOD_A, GOOD_A])
    assert errors == ["heketi_admin_key and heketi_user_key are the same key: with one key for both accounts, anyone "
                      "holding the user key can sign admin tokens. Give two different keys."]
