# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Heketi CSI driver (csi/) and the upstream CSI tools, for the integration tests.

- build_driver()        go build of csi/cmd/heketi-csi into .cache/csi/bin/heketi-csi (Go's build cache
                        makes a rebuild of unchanged sources take a second)
- csi_tool(name)        path of csi-sanity / csi-provisioner / csi-resizer built by tools/build-csi-tools.sh
- CSITOPOLOGY           3 nodes in zones 1-3 (storage hostnames 192.0.2.1-3, documentation addresses
                        nothing connects to under the mock executor), 2 devices each
- Daemon                a long-running process of a test with its log (the sidecars)
- DriverProcess         the driver (controller or node mode) on a unix socket in a test folder
"""
from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

from heketi_server import REPO_ROOT

CSI_DIR = REPO_ROOT / "csi"
CACHE = REPO_ROOT / ".cache" / "csi"
DRIVER = CACHE / "bin" / "heketi-csi"
DRIVER_NAME = "heketi.csi.glusterfs"
TOOLS = {"csi-sanity": "v5.6.0", "csi-provisioner": "v6.4.0", "csi-resizer": "v2.3.0"}

CSITOPOLOGY = {"clusters": [{"nodes": [
    {"node": {"hostnames": {"manage": ["node%d.example.test" % i], "storage": ["192.0.2.%d" % i]}, "zone": i},
     "devices": ["/dev/sdb", "/dev/sdc"]}
    for i in (1, 2, 3)]}]}


def go_env() -> dict:
    env = dict(os.environ)
    # GOPATH as tools/build-cache.sh sets it (the Makefile and tools/run-tests.sh export it).
    env.setdefault("GOPATH", str(Path(env.get("GLUSTERFS_HEKETI_CACHE") or Path.home() / ".cache" / "glusterfs-heketi") / "go"))
    # auto: csi/go.mod's toolchain line names the Go the driver is built with (served by the Go module proxy).
    env.update(GOTOOLCHAIN="auto", GOFLAGS="-mod=mod", CGO_ENABLED="0")
    return env


def build_driver() -> Path:
    DRIVER.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["go", "build", "-trimpath", "-ldflags", "-X github.com/glusterfs-heketi/heketi-csi/pkg/driver.Version=test",
         "-o", str(DRIVER), "./cmd/heketi-csi"],
        cwd=CSI_DIR, env=go_env(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("go build of the driver failed:\n" + proc.stderr[-4000:])
    return DRIVER


def csi_tool(name: str) -> Path:
    path = CACHE / ("%s-%s" % (name, TOOLS[name])) / name
    if not os.access(path, os.X_OK):
        raise RuntimeError("%s is not built: run tools/build-csi-tools.sh" % path)
    return path


def secrets_for(server) -> dict:
    """The CSI secrets a StorageClass hands the driver for this Heketi server."""
    return {"key": server.admin_key, "user": "admin", "resturl": server.url}


class Daemon:
    """A long-running process of a test (the driver, a sidecar), logging to
    <dir>/<name>.log, in its own session so that stop() ends it alone."""

    def __init__(self, workdir: Path, name: str, argv: list[str]):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.argv = argv
        self.log = self.workdir / ("%s.log" % name)
        self.proc: subprocess.Popen | None = None

    def start(self):
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                         cwd=self.workdir)
        return self

    def check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError("%s exited (%s):\n%s" % (self.name, self.proc and self.proc.returncode,
                                                        self.log_text()[-4000:]))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class DriverProcess(Daemon):
    """heketi-csi --mode <mode> on <dir>/<mode>.sock."""

    def __init__(self, workdir: Path, mode: str = "controller", extra: list[str] | None = None):
        self.socket = Path(workdir) / ("%s.sock" % mode)
        self.endpoint = "unix://%s" % self.socket
        argv = [str(build_driver()), "--mode", mode, "--endpoint", self.endpoint, "--drivername", DRIVER_NAME]
        if mode == "node":
            argv += ["--nodeid", "sanity-node"]
        argv += extra or []
        super().__init__(workdir, mode, argv)

    def start(self) -> "DriverProcess":
        super().start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            self.check_alive()
            if self.socket.exists():
                with socket.socket(socket.AF_UNIX) as sock:
                    try:
                        sock.connect(str(self.socket))
                        return self
                    except OSError:
                        pass
            time.sleep(0.05)
        raise RuntimeError("the driver did not listen on %s" % self.socket)
