# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The heketi role as a real ansible-playbook run on a small lab (tools/lab/lab, 2 containers): the
real Heketi server under systemd on node1, node2 a storage node for the SSH trust.

- Weak JWT keys already in /etc/heketi/heketi.json (the seed's admin@123, the samples' "My Secret",
  one key for admin and user) are replaced: both keys new and different, the old key refused (401)
  by the real server, the replacement reported without printing a key.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from heketi_server import REPO_ROOT, ensure_built, token  # noqa: E402

PLAYBOOK = REPO_ROOT / ".venv" / "bin" / "ansible-playbook"
LAB_TOOL = REPO_ROOT / "tools" / "lab" / "lab"
LAB = os.environ.get("HEKETI_ROLE_LAB_NAME", "ghhkrole")
HEKETI_BOX = f"{LAB}-node1"
# Loopback and the lab's own containers only, whatever the environment says about proxies.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def docker(*args, check=True, input_text=None):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, input=input_text)


def dexec(command, box=HEKETI_BOX, check=True, input_text=None):
    return docker("exec", "-i", box, "sh", "-c", command, check=check, input_text=input_text)


class Lab:
    def __init__(self, name, inventory, tmp):
        self.name, self.inventory, self.tmp = name, inventory, tmp
        self.ip = docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                         HEKETI_BOX).stdout.strip()
        self.runs = 0

    def run_role(self, *args, extra_vars=None):
        """ansible-playbook of playbooks/heketi.yml on this lab; returns the CompletedProcess (+ .output)."""
        self.runs += 1
        evars = {"heketi_binaries_src": str(REPO_ROOT / ".cache" / "heketi" / "bin")}
        evars.update(extra_vars or {})
        vfile = self.tmp / ("vars%02d.json" % self.runs)
        vfile.write_text(json.dumps(evars))
        cmd = [str(PLAYBOOK), "playbooks/heketi.yml", "-i", str(self.inventory), "-e", "@%s" % vfile, *args]
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"))
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800)
        proc.output = proc.stdout + proc.stderr
        return proc

    def config(self):
        return json.loads(dexec("cat /etc/heketi/heketi.json").stdout)

    def status(self, path, user, key, method="GET"):
        """Status the real server gives a request signed with ``key``."""
        req = urllib.request.Request("http://%s:8080%s" % (self.ip, path), method=method)
        req.add_header("Authorization", "bearer " + token(method, path, user, key))
        try:
            with _OPENER.open(req, timeout=15) as resp:
                return resp.status
        except urllib.error.HTTPError as err:
            return err.code
        except OSError:  # not listening (yet)
            return None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    ensure_built()
    up = subprocess.run([str(LAB_TOOL), "up", "--name", LAB, "--nodes", "2"], cwd=REPO_ROOT,
                        capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stderr[-3000:]
    try:
        the_lab = Lab(LAB, up.stdout.strip().splitlines()[-1], tmp_path_factory.mktemp("heketi-role"))
        first = the_lab.run_role()
        assert first.returncode == 0, first.output[-5000:]
        yield the_lab
    finally:
        subprocess.run([str(LAB_TOOL), "down", "--name", LAB], cwd=REPO_ROOT, capture_output=True, check=False)


def plant_keys(lab, admin, user):
    """Put these keys into the live heketi.json and restart Heketi with them (the state a host is in
    after the seed's manual setup or a copied sample)."""
    cfg = lab.config()
    cfg["jwt"] = {"admin": {"key": admin}, "user": {"key": user}}
    dexec("cat > /etc/heketi/heketi.json && systemctl restart heketi", input_text=json.dumps(cfg))
    for _attempt in range(60):
        if lab.status("/clusters", "admin", admin) == 200:
            return
        dexec("sleep 0.5")
    pytest.fail("Heketi did not come back with the planted keys")


WEAK_FILES = {
    "seed_admin@123": ("admin@123", "admin@123"),
    "sample_my_secret": ("My Secret", "My Secret"),
    "admin_equals_user": ("Q" * 48, "Q" * 48),
    "user_key_too_short": ("A" * 40, "user@123"),
}


@pytest.mark.parametrize("case", sorted(WEAK_FILES))
def test_weak_jwt_keys_on_the_host_are_replaced(lab, case):
    old_admin, old_user = WEAK_FILES[case]
    plant_keys(lab, old_admin, old_user)
    # Before the run the real server takes the weak keys.
    assert lab.status("/clusters", "admin", old_admin) == 200
    assert lab.status("/clusters", "user", old_user) in (200, 401)  # the user account may list nothing
    proc = lab.run_role("--tags", "heketi_configure,heketi_service")
    assert proc.returncode == 0, proc.output[-5000:]
    new = lab.config()["jwt"]
    new_admin, new_user = new["admin"]["key"], new["user"]["key"]
    assert new_admin != new_user
    assert len(new_admin) >= 32 and len(new_user) >= 32
    if case == "user_key_too_short":
        # The strong admin key that differs from the user key is kept; only the user key is new.
        assert new_admin == old_admin and new_user != old_user
        assert "user key replaced" in proc.output and "admin key replaced" not in proc.output
    else:
        assert new_admin != old_admin and new_user != old_user
        assert "admin key replaced" in proc.output and "user key replaced" in proc.output
        # The old admin key is refused by the real server; the new one works.
        assert lab.status("/clusters", "admin", old_admin) == 401
    assert lab.status("/clusters", "admin", new_admin) == 200
    assert lab.status("/clusters", "admin", old_user) == 401
    # Reported as a change, and no key (old or new) reached the output.
    assert "changed: [node1]" in proc.output.split("Report the weak JWT keys replaced")[1].split("TASK")[0]
    for key in (old_user, new_admin, new_user) + (() if case == "user_key_too_short" else (old_admin,)):
        assert key not in proc.output
    # heketi-cli's root-only environment file follows.
    assert "HEKETI_CLI_KEY=%s\n" % new_admin in dexec("cat /etc/heketi/heketi-cli.env").stdout
