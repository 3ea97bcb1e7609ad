# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""installed_packages_info: which packages the database proves installed, fail closed. dpkg-query runs for
real on this (Debian) machine; rpm's answers are its documented output. The roles' use of it runs on the lab
(tests/integration/test_package_transactions.py)."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure
from ansible_collections.glusterfs.heketi.plugins.modules.installed_packages_info import (
    installed_names, plain_names, query_argv, split)

MISSING = "glusterfs-heketi-no-such-package"


def dpkg(names):
    proc = subprocess.run(query_argv("dpkg", names), capture_output=True, text=True, check=False, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    return installed_names("dpkg", names, proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs dpkg-query (a Debian/Ubuntu controller)")
def test_dpkg_names_what_is_installed_and_what_is_not():
    assert dpkg(["dpkg", MISSING]) == {"dpkg"}
    assert dpkg([MISSING]) == set()
    assert split(["dpkg", MISSING, "dpkg"], dpkg(["dpkg", MISSING])) == {"installed": ["dpkg"], "not_installed": [MISSING]}


def test_dpkg_counts_only_installed_states():
    out = "lvm2\tii \nxfsprogs\trc \nutil-linux\thi \nopenssh-server\tiU \nglusterfs-server\tun \n"
    # rc: removed, its configuration left; un: known, not installed; iU: unpacked, not configured.
    assert installed_names("dpkg", ["lvm2", "xfsprogs", "util-linux", "openssh-server", "glusterfs-server"], 1, out, "") \
        == {"lvm2", "util-linux"}


def test_dpkg_failure_is_an_error():
    with pytest.raises(ModuleFailure, match="dpkg-query failed .exit 2.: database locked"):
        installed_names("dpkg", ["lvm2"], 2, "", "database locked\n")


def test_rpm_names_the_missing_ones():
    out = "glusterfs-server-10.4-1.el9s.x86_64\npackage xfsprogs is not installed\n"
    assert installed_names("rpm", ["glusterfs-server", "xfsprogs"], 1, out, "") == {"glusterfs-server"}
    assert installed_names("rpm", ["glusterfs-server"], 0, "glusterfs-server-10.4-1.el9s.x86_64\n", "") == {"glusterfs-server"}


@pytest.mark.parametrize("rc, out, err", [
    (1, "", "error: cannot open Packages database in /var/lib/rpm\n"),
    (1, "package xfsprogs is not installed\n", "error: rpmdb: damaged header #12 retrieved -- skipping.\n"),
])
def test_rpm_answers_that_prove_nothing_count_as_nothing_installed(rc, out, err):
    assert installed_names("rpm", ["glusterfs-server", "xfsprogs"], rc, out, err) == set()


def test_entries_that_are_no_plain_name_are_never_installed():
    # A version, a requirement, an architecture: state=present decides, so the transaction must run.
    packages = ["glusterfs-server=10.3-5", "xfsprogs >= 5.0", "lvm2:amd64", "/tmp/x.deb", "lvm2", "lvm2"]
    assert plain_names(packages) == ["lvm2"]
    assert split(packages, {"lvm2"}) == {"installed": ["lvm2"], "not_installed": packages[:4]}


def test_the_reads_are_read_only_commands():
    assert query_argv("dpkg", ["lvm2"]) == ["dpkg-query", "-W", "-f", "${Package}\\t${db:Status-Abbrev}\\n", "lvm2"]
    assert query_argv("rpm", ["lvm2"]) == ["rpm", "-q", "lvm2"]
