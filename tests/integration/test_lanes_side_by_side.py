# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two test lanes' ansible-test runs side by side (tools/run-tests.sh: `sanity` in the first lane, the 2.16
lane's sanity in the second), as they meet in CI whenever lint ends before the 2.16 sanity does.

They once shared one scratch tree, and the second run's `rm -rf` of it killed the first one
(`FileNotFoundError` in ansible-test); they also shared ~/.ansible/test, where ansible-test removes a sanity
environment it finds half made, and the get-pip stand-in, rewritten in place. Here both start from a cold build
cache (their own ansible-test homes), the second four seconds after the first, while the first is still making
its environments."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ["--test", "shebang", "--test", "empty-init"]


def test_both_lanes_sanity_side_by_side(tmp_path):
    env = dict(os.environ, GLUSTERFS_HEKETI_CACHE=str(tmp_path / "cache"), TMPDIR=str(tmp_path))
    lanes = {"2.19": ROOT / ".venv" / "bin" / "ansible-test", "2.16": ROOT / ".venv-core216" / "bin" / "ansible-test"}
    procs = {}
    for core, binary in lanes.items():
        assert binary.exists(), "%s is missing: run `make setup`" % binary
        procs[core] = subprocess.Popen([str(ROOT / "tools" / "ansible-test.sh"), "sanity"] + TESTS, cwd=ROOT,
                                       env=dict(env, ANSIBLE_TEST_BIN=str(binary)), stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
        time.sleep(4)
    out = {core: proc.communicate(timeout=900)[0] for core, proc in procs.items()}
    for core, proc in procs.items():
        assert proc.returncode == 0, "ansible-core %s's sanity failed beside the other lane:\n%s" % (core, out[core][-3000:])
        assert 'Running sanity test "shebang"' in out[core]
    # Each run laid out its own tree and removed it; each ansible-core version has its own ansible-test home.
    assert not list(tmp_path.glob("glusterfs-heketi-ansible-test.*"))
    homes = sorted(p.name for p in (tmp_path / "cache" / "ansible-test-home").iterdir())
    assert len(homes) == 2 and homes[0].startswith("2.16.") and homes[1].startswith("2.19."), homes
