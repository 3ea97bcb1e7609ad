# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The StorageClass parameter contract: the same table the CSI driver's Go tests read
(csi/pkg/driver/params_contract_test.go), so the role's checks and the driver's parsing cannot drift."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.glusterfs.heketi.plugins.module_utils._storageclass_parameters import (
    KINDS,
    parameter_errors,
    parse_volume_options,
)

TABLE = Path(__file__).resolve().parents[4] / "tests" / "contracts" / "storageclass_parameters.json"
CASES = [(kind, case) for case in json.loads(TABLE.read_text())["cases"] for kind in case.get("kinds") or KINDS]


@pytest.mark.parametrize("kind,case", CASES, ids=["%s: %s" % (k, c["name"]) for k, c in CASES])
def test_contract(kind, case):
    errors = parameter_errors(case["parameters"], kind)
    if case["error"] is None:
        assert errors == []
    else:
        assert len(errors) == 1, errors
        assert errors[0].startswith("parameter %s=" % case["error"]["parameter"])
        assert case["error"]["contains"] in errors[0]


def test_volume_options_are_normalised():
    assert parse_volume_options(" features.shard  enable ,, performance.quick-read\toff ") == [
        "features.shard enable", "performance.quick-read off"]


def test_every_offending_parameter_is_named():
    errors = parameter_errors({"volumetype": "x", "volumeoptions": "a $(b)", "gidMin": "1"}, "csi")
    assert [e.split("=")[0] for e in errors] == ["parameter gidMin", "parameter volumeoptions", "parameter volumetype"]


def test_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        parameter_errors({}, "glusterfile")
