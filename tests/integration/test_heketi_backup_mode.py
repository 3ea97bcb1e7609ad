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
    assert stat.S_IMODE(os.stat(first["path"]).st_mode) == 0o640
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


def _foreign(path, uid=65534):
    os.chown(path, uid, uid)


def test_backup_refuses_a_folder_another_account_can_redirect(pool, run_module, tmp_path):
    """The security review's finding: root wrote backups into a folder inside Heketi's own data folder and followed
    links, so the heketi account could make root write where it chose (here a stand-in for /etc/cron.d). Every
    refusal names dest, the folder and the check, and writes nothing anywhere."""
    cron = tmp_path / "cron.d"
    cron.mkdir()
    data_dir = tmp_path / "heketi-data"  # Heketi's data folder, owned by Heketi's account
    data_dir.mkdir()
    (data_dir / "backups").symlink_to(cron)
    _foreign(data_dir)
    res = run_module("heketi_backup", dict(pool.auth(), dest=str(data_dir / "backups")))
    assert res.get("failed") and res["msg"].startswith("dest: %s: refused: " % (data_dir / "backups")), res
    assert files(cron) == []

    # the same link in a folder of root's: still refused, as a link
    (tmp_path / "root-owned").mkdir()
    (tmp_path / "root-owned" / "backups").symlink_to(cron)
    res = run_module("heketi_backup", dict(pool.auth(), dest=str(tmp_path / "root-owned" / "backups")))
    assert res.get("failed") and "is a symbolic link" in res["msg"], res
    assert files(cron) == []

    # a real folder inside Heketi's data folder: refused, naming its owner
    os.unlink(data_dir / "backups")
    (data_dir / "real").mkdir()
    res = run_module("heketi_backup", dict(pool.auth(), dest=str(data_dir / "real")))
    assert res.get("failed") and "%s belongs to nobody (uid 65534)" % data_dir in res["msg"], res
    assert files(data_dir / "real") == []
    # and in check mode the same refusal, before any request
    res = run_module("heketi_backup", dict(pool.auth(), dest=str(data_dir / "real" / "new")), check=True)
    assert res.get("failed") and "belongs to nobody" in res["msg"], res

    # a folder everyone may write to
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)
    res = run_module("heketi_backup", dict(pool.auth(), dest=str(open_dir)))
    assert res.get("failed") and "writable by every account" in res["msg"], res


def test_backup_never_follows_a_link_planted_in_the_folder(pool, run_module, tmp_path):
    """An account that may write in the backup folder (the timer's group) plants links: the newest backup replaced by
    a link to a file root can read, a checksum file pointing elsewhere. The module neither reads through them
    (a new backup is written) nor removes their targets when it rotates them out."""
    dest = tmp_path / "b"
    first = run_module("heketi_backup", dict(pool.auth(), dest=str(dest)))
    secret = tmp_path / "secret"
    secret.write_bytes(open(first["path"], "rb").read())  # a root-only file an attacker would like copied
    os.unlink(first["path"])
    os.symlink(secret, first["path"])
    pool.call("POST", "/clusters", {"file": True, "block": True})
    res = run_module("heketi_backup", dict(pool.auth(), dest=str(dest), keep=1))
    assert not res.get("failed") and res["written"] is True, res
    assert res["removed"] == [first["path"]]
    assert secret.exists() and not os.path.lexists(first["path"])
    verify = run_module("heketi_backup", {"dest": str(dest), "backup": False})
    assert verify["path"] == res["path"] and verify["sha256"] == res["sha256"]


def test_timer_command_runs_on_the_python_of_el7_and_el8(pool, tmp_path):
    """EL 7 (python3 package) and EL 8 (platform-python) have Python 3.6: the timer's command runs there."""
    import glob
    import json
    pythons = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.6.*/bin/python3.6")))
    if not pythons:
        pytest.skip("no Python 3.6 interpreter on this machine (pyenv's 3.6 of the test machines)")
    script = os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "module_utils", "_heketi_backup.py")
    conf = tmp_path / "backup.json"
    conf.write_text(json.dumps({"url": pool.url, "key": pool.admin_key, "dest": str(tmp_path / "t"), "keep": 2}))
    run = subprocess.run([pythons[-1], script, "--config", str(conf), "--json"], env={"PATH": os.environ["PATH"]},
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["written"] is True and files(tmp_path / "t") == [os.path.basename(out["path"]),
                                                                os.path.basename(out["path"]) + ".sha256"]


def test_backup_to_an_unusable_dest_names_it_and_the_check(pool, run_module, tmp_path):
    """Issue 21, item 6: a bad destination gave a bare [Errno ...]."""
    (tmp_path / "file").write_text("")
    res = run_module("heketi_backup", dict(pool.auth(), dest=str(tmp_path / "file" / "backups")))
    assert res.get("failed") and res["msg"] == "dest: %s: refused: %s is not a folder" % (
        tmp_path / "file" / "backups", tmp_path / "file"), res
    # nothing to verify in a folder that does not exist: no failure, nothing made
    res = run_module("heketi_backup", {"dest": str(tmp_path / "missing"), "backup": False})
    assert not res.get("failed") and res["kept"] == [] and not (tmp_path / "missing").exists(), res
