# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the integration tests: the real Heketi server, real Ansible runs, the real heketi-cli.

- heketi_bin          (session)  paths of heketi and heketi-cli, built by tools/build-heketi.sh if absent
- heketi_server       (function) a started server: .url .admin_key .user_key .stop() .kill() .start()
                                 .requests() .writes() .mark() .requests_since() .state() .api() .call()
                                 .auth(user) -> {url, user, key} module options
- make_heketi_server  (function) factory: make_heketi_server(glusterfs={"max_inflight_operations": 1},
                                 env={...}, start=True) for servers with extra configuration
- run_module          (function) run_module("heketi_info", {...}, check=False, diff=False, env=None)
                                 runs glusterfs.heketi.<name> as a real ansible-playbook task on localhost
                                 and returns the task result (a dict) with .stdout .stderr .rc .cmd
- heketi_cli          (function) heketi_cli(server, "topology", "load", "--json=F", user="admin", key=None)
                                 runs the real heketi-cli; returns the CompletedProcess
- kube                (session)  kube(version) -> a real kube-apiserver (+ kube-controller-manager up to
                                 1.25) on loopback; see kubetest.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from heketi_server import REPO_ROOT, HeketiServer, ensure_built  # noqa: E402
import kubetest  # noqa: E402

VENV_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
kube = kubetest.kube  # the session fixture of the Kubernetes tests
ANSIBLE_PLAYBOOK = REPO_ROOT / ".venv" / "bin" / "ansible-playbook"
TOPOLOGIES = Path(__file__).resolve().parent / "topologies"


def _python() -> str:
    return str(VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable))


def _playbook_bin() -> str:
    if ANSIBLE_PLAYBOOK.exists():
        return str(ANSIBLE_PLAYBOOK)
    return str(Path(sys.executable).parent / "ansible-playbook")


def clean_env(extra: dict | None = None) -> dict:
    """The caller's environment minus HEKETI_* (so a test sees only what it sets) and proxies."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HEKETI_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra or {})
    return env


@pytest.fixture(scope="session")
def heketi_bin():
    try:
        server, cli = ensure_built()
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)
    return {"heketi": str(server), "heketi_cli": str(cli)}


@pytest.fixture
def make_heketi_server(heketi_bin, tmp_path):
    servers: list[HeketiServer] = []

    def factory(glusterfs: dict | None = None, env: dict | None = None, start: bool = True,
                name: str | None = None) -> HeketiServer:
        workdir = tmp_path / (name or "heketi%d" % len(servers))
        server = HeketiServer(workdir, glusterfs=glusterfs, env=env)
        servers.append(server)
        if start:
            server.start()
        return server

    yield factory
    for server in servers:
        server.kill()


@pytest.fixture
def heketi_server(make_heketi_server):
    return make_heketi_server(name="heketi")


class ModuleResult(dict):
    """The registered task result, plus how the run went."""

    rc: int
    stdout: str
    stderr: str
    cmd: list

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _run_module(tmp_path: Path, module: str, args: dict | None, check: bool, diff: bool,
                env: dict | None, task_env: dict | None, verbosity: int) -> ModuleResult:
    name = module if "." in module else "glusterfs.heketi." + module
    task = {"name": "module under test", name: args or {}, "register": "result"}
    if task_env:
        task["environment"] = task_env
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]
    pbdir = tmp_path / "ansible-runs"
    pbdir.mkdir(exist_ok=True)
    count = len(list(pbdir.glob("play*.json")))
    playbook = pbdir / ("play%03d.json" % count)
    playbook.write_text(json.dumps(play))
    os.chmod(playbook, 0o600)
    cmd = [_playbook_bin(), "-i", "localhost,", "-c", "local",
           "-e", json.dumps({"ansible_python_interpreter": _python()}), str(playbook)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    penv = clean_env(env)
    penv.update({
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(pbdir / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    })
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=penv, capture_output=True, text=True, check=False)
    try:
        # With -v, ansible prints a few plain lines before the JSON document.
        start = proc.stdout.find("\n{") + 1 if not proc.stdout.startswith("{") else 0
        doc = json.loads(proc.stdout[start:])
        result = doc["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError) as err:
        raise AssertionError("could not read the task result (%s); rc=%s\nstdout:\n%s\nstderr:\n%s"
                             % (err, proc.returncode, proc.stdout[-6000:], proc.stderr[-6000:]))
    out = ModuleResult(result)
    out.rc, out.stdout, out.stderr, out.cmd = proc.returncode, proc.stdout, proc.stderr, cmd
    return out


@pytest.fixture
def run_module(tmp_path):
    """run_module(name, args, check=False, diff=False, env=None, task_env=None, verbosity=0)."""

    def runner(module: str, args: dict | None = None, check: bool = False, diff: bool = False,
               env: dict | None = None, task_env: dict | None = None, verbosity: int = 0) -> ModuleResult:
        return _run_module(tmp_path, module, args, check, diff, env, task_env, verbosity)

    return runner


@pytest.fixture
def heketi_cli(heketi_bin):
    """heketi_cli(server, *args, user="admin", key=None, check=True) -> CompletedProcess."""

    def runner(server: HeketiServer, *args: str, user: str = "admin", key: str | None = None,
               check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        secret = key if key is not None else (server.admin_key if user == "admin" else server.user_key)
        cmd = [heketi_bin["heketi_cli"], "--server", server.url, "--user", user, "--secret", secret, *args]
        proc = subprocess.run(cmd, env=clean_env(), capture_output=True, text=True, check=False,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError("heketi-cli %s failed (rc=%s):\n%s\n%s"
                                 % (" ".join(args), proc.returncode, proc.stdout, proc.stderr))
        return proc

    return runner
