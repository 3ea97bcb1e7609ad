# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""heketi_backup and heketi_mode against the real Heketi server (mock executor)."""
from __future__ import annotations

import hashlib
import os
import stat
import subprocess

import pytest

TOPOLOGY = {"clusters": [{"nodes": [
    {"node": {"hostnames": {"manage": ["node%d" % i], "storage": ["10.0.0.%d" % i]}, "zone": 1},
     "devices": ["/dev/sdf"]} for i in range(1, 4)]}]}


def files(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def pool(heketi_server):
    heketi_server.load(TOPOLOGY)
    return heketi_server


def test_backup_written_checksummed_idempotent_rotated(pool, run_module, tmp_path, heketi_bin):
    dest = tmp_path / "backups"
    args = dict(pool.auth(), dest=str(dest), keep=2)
    planned = run_module("heketi_backup", args, check=True)
    assert planned["changed"] is True and planned["written"] is True and files(dest) == []

    first = run_module("heketi_backup", args)
    assert not first.get("failed"), first
    assert first["written"] is True and first["changed"] is True
    data = open(first["path"], "rb").read()
    assert hashlib.sha256(data).hexdigest() == first["sha256"]
    assert stat.S_IMODE(os.stat(first["path"]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o700
    check = subprocess.run(["sha256sum", "-c", os.path.basename(first["path"]) + ".sha256"], cwd=dest,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    # the copy is a database Heketi itself can read: offline export of the backup
    export = subprocess.run([heketi_bin["heketi"], "db", "export", "--dbfile", first["path"],
                             "--jsonfile", str(tmp_path / "export.json")], capture_output=True, text=True,
                            check=False)
    assert export.returncode == 0, export.stderr
    assert len(__import__("json").load(open(tmp_path / "export.json"))["nodeentries"]) == 3

    same = run_module("heketi_backup", args)
    assert same["changed"] is False and same["written"] is False and same["path"] == first["path"]

    paths = [first["path"]]
    for n in range(3):  # three changes, three new backups; keep=2
        pool.call("POST", "/clusters", {"file": True, "block": True})
        res = run_module("heketi_backup", args)
        assert res["written"] is True, res
        paths.append(res["path"])
    assert [p for p in files(dest) if p.endswith(".db")] == sorted(os.path.basename(p) for p in paths[-2:])
    assert len(files(dest)) == 4  # two backups, two checksum files
    assert res["removed"] == [paths[-3]]


def test_backup_of_a_dead_server_leaves_earlier_backups(pool, run_module, tmp_path):
    dest = tmp_path / "b"
    first = run_module("heketi_backup", dict(pool.auth(), dest=str(dest)))
    before = {name: (dest / name).read_bytes() for name in files(dest)}
    pool.kill()
    dead = run_module("heketi_backup", dict(pool.auth(), dest=str(dest), keep=1))
    assert dead.get("failed") and "Cannot reach the Heketi server" in dead["msg"], dead
    assert {name: (dest / name).read_bytes() for name in files(dest)} == before
    pool.start()
    again = run_module("heketi_backup", dict(pool.auth(), dest=str(dest)))
    # the next run succeeds (Heketi rewrote its database on start, so the bytes differ: a new backup)
    assert not again.get("failed") and again["written"] is True, again
    assert os.path.exists(first["path"]) and files(dest) == sorted(list(before) + [
        os.path.basename(again["path"]), os.path.basename(again["path"]) + ".sha256"])


def test_verify_only_detects_a_tampered_backup(pool, run_module, tmp_path):
    dest = tmp_path / "b"
    first = run_module("heketi_backup", dict(pool.auth(), dest=str(dest)))
    ok = run_module("heketi_backup", {"dest": str(dest), "backup": False})
    assert not ok.get("failed") and ok["sha256"] == first["sha256"] and ok["changed"] is False
    with open(first["path"], "r+b") as f:
        f.seek(8192)
        f.write(b"\x00garbage")
    bad = run_module("heketi_backup", {"dest": str(dest), "backup": False})
    assert bad.get("failed") and "does not match its checksum" in bad["msg"], bad


def test_backup_bad_input(run_module, tmp_path):
    res = run_module("heketi_backup", {"dest": str(tmp_path), "keep": 0, "backup": False})
    assert res.get("failed") and res["msg"].startswith("keep: must be at least 1")


def test_mode_read_only_is_left_only_by_a_restart(pool, run_module):
    mark = pool.mark()
    planned = run_module("heketi_mode", dict(pool.auth(), state="read-only"), check=True, diff=True)
    assert planned["changed"] and planned["mode"] == "read-only" and planned["previous_mode"] == "normal"
    assert planned["diff"] == {"before": {"mode": "normal"}, "after": {"mode": "read-only"}}
    assert [r for r in pool.requests_since(mark) if r[0] != "GET"] == []

    res = run_module("heketi_mode", dict(pool.auth(), state="read-only", wait_idle=5))
    assert res["changed"] and res["mode"] == "read-only" and res["operations"]["in_flight"] == 0
    assert pool.api("POST", "/clusters", {"file": True, "block": True})[0] == 503
    assert run_module("heketi_mode", dict(pool.auth(), state="read-only"))["changed"] is False
    back = run_module("heketi_mode", dict(pool.auth(), state="normal"))
    assert back.get("failed") and "only a restart of the server returns it" in back["msg"], back
    assert pool.get("/admin")["state"] == "read-only"
    pool.stop()
    pool.start()
    assert pool.get("/admin")["state"] == "normal"


def test_mode_local_client_and_back(pool, run_module):
    res = run_module("heketi_mode", dict(pool.auth(), state="local-client"))
    assert res["mode"] == "local-client"
    back = run_module("heketi_mode", dict(pool.auth(), state="normal"))
    assert not back.get("failed") and back["mode"] == "normal" and back["changed"] is True
    assert run_module("heketi_mode", dict(pool.auth(), state="normal"))["changed"] is False


def test_timer_command_backs_up_without_ansible(pool, tmp_path):
    """The file the backup timer runs (plugins/module_utils/_heketi_backup.py), as systemd runs it: plain python3."""
    import json
    script = os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "module_utils", "_heketi_backup.py")
    conf = tmp_path / "backup.json"
    conf.write_text(json.dumps({"url": pool.url, "heketi_config": str(pool.config_path),
                                "dest": str(tmp_path / "t"), "keep": 2}))
    env = {"PATH": os.environ["PATH"]}  # no PYTHONPATH: no Ansible on the path
    for _attempt in range(2):
        run = subprocess.run(["/usr/bin/python3", script, "--config", str(conf)], env=env, capture_output=True,
                             text=True, check=False)
        assert run.returncode == 0, run.stderr
    assert "(unchanged)" in run.stdout and len(files(tmp_path / "t")) == 2
    check = subprocess.run(["sha256sum", "-c", files(tmp_path / "t")[1]], cwd=tmp_path / "t",
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0
    pool.kill()
    dead = subprocess.run(["/usr/bin/python3", script, "--config", str(conf)], env=env, capture_output=True,
                          text=True, check=False)
    assert dead.returncode == 1 and "earlier backups are untouched" in dead.stderr
    assert len(files(tmp_path / "t")) == 2
