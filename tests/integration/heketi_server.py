# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Control of the REAL Heketi server (mock executor) for the tests and the benchmark.

Nothing here imitates Heketi: it starts the binary built by tools/build-heketi.sh on a free
127.0.0.1 port with a fresh bolt database, and reads back what the server itself logged.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("HEKETI_BIN_DIR", REPO_ROOT / ".cache" / "heketi" / "bin"))
HEKETI = BIN_DIR / "heketi"
HEKETI_CLI = BIN_DIR / "heketi-cli"

# negroni logs every request once it is answered, auth failures included:
# [negroni] 2026-11-29T13:10:28Z | 201 | 	 834.624µs | 127.0.0.1:18931 | POST /clusters
_NEGRONI = re.compile(r"^\[negroni\] \S+ \| (\d{3}) \|\s+\S+ \| \S+ \| ([A-Z]+) (\S+)\s*$")

# Loopback only, whatever the environment says about proxies.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def ensure_built() -> tuple[Path, Path]:
    """Return (heketi, heketi-cli); build them with tools/build-heketi.sh when absent."""
    if not (os.access(HEKETI, os.X_OK) and os.access(HEKETI_CLI, os.X_OK)):
        proc = subprocess.run(
            [str(REPO_ROOT / "tools" / "build-heketi.sh")],
            cwd=REPO_ROOT, capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0 or not os.access(HEKETI, os.X_OK):
            raise RuntimeError(
                "tools/build-heketi.sh could not build Heketi (rc=%s):\n%s\n%s"
                % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:])
            )
    return HEKETI, HEKETI_CLI


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(method: str, path: str, user: str, key: str, ttl: int = 300) -> str:
    """A Heketi JWT. Test-side helper only (the tests use it to read state independently)."""
    now = int(time.time())
    claims = {"iss": user, "iat": now, "exp": now + ttl,
              "qsh": hashlib.sha256(("%s&%s" % (method.upper(), path)).encode()).hexdigest()}
    signing_input = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + _b64(
        json.dumps(claims).encode())
    sig = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(sig)


class HeketiServer:
    """One real Heketi server with the mock executor, its own DB, port and random keys."""

    def __init__(self, workdir: Path, glusterfs: dict | None = None, port: int | None = None,
                 env: dict | None = None, loglevel: str = "info"):
        self.heketi, self.heketi_cli = ensure_built()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.admin_key = "adm-" + secrets.token_hex(16)
        self.user_key = "usr-" + secrets.token_hex(16)
        self.db = self.workdir / "heketi.db"
        self.log = self.workdir / "heketi.log"
        self.config_path = self.workdir / "heketi.json"
        gcfg = {"executor": "mock", "db": str(self.db), "loglevel": loglevel}
        gcfg.update(glusterfs or {})
        config = {"port": str(self.port),
                  "jwt": {"admin": {"key": self.admin_key}, "user": {"key": self.user_key}},
                  "glusterfs": gcfg}
        self.config_path.write_text(json.dumps(config, indent=2))
        os.chmod(self.config_path, 0o600)
        self.env = dict(os.environ)
        # The tests must not depend on the caller's environment overriding the config file.
        for name in list(self.env):
            if name.startswith("HEKETI_"):
                del self.env[name]
        self.env.update(env or {})
        self.proc: subprocess.Popen | None = None
        self._logfh = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> "HeketiServer":
        """Start (or restart) on the same port and database; return once /hello answers 200."""
        if self.running():
            return self
        self._logfh = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [str(self.heketi), "--config=%s" % self.config_path],
            cwd=self.workdir, env=self.env, stdout=self._logfh, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("heketi exited with %s:\n%s" % (self.proc.returncode, self.log_text()[-4000:]))
            if self.hello():
                return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("heketi did not answer /hello on %s within %ss:\n%s" % (self.url, timeout, self.log_text()[-4000:]))

    def hello(self) -> bool:
        try:
            with _OPENER.open(self.url + "/hello", timeout=2) as resp:
                return resp.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _end(self, sig: int, timeout: float = 15.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self.proc = None
        if self._logfh:
            self._logfh.close()
            self._logfh = None

    def stop(self) -> None:
        """Orderly stop (SIGTERM)."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Hard stop (SIGKILL), as in a crash."""
        self._end(signal.SIGKILL)

    # -- what the server saw -----------------------------------------------------------------
    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def requests(self) -> list[tuple[str, str, int]]:
        """Every HTTP request the server logged, in order: (METHOD, path, status)."""
        out = []
        for line in self.log_text().splitlines():
            match = _NEGRONI.match(line)
            if match:
                out.append((match.group(2), match.group(3), int(match.group(1))))
        return out

    def writes(self) -> list[tuple[str, str, int]]:
        """The requests that could change state (anything but GET/HEAD)."""
        return [r for r in self.requests() if r[0] not in ("GET", "HEAD")]

    def mark(self) -> int:
        """Number of requests logged so far; pass it to requests_since()."""
        return len(self.requests())

    def requests_since(self, mark: int) -> list[tuple[str, str, int]]:
        return self.requests()[mark:]

    # -- independent reads (signed here, not by the collection's client) ----------------------
    def api(self, method: str, path: str, body=None, user: str = "admin", key: str | None = None):
        """One signed request; returns (status, parsed JSON or text). No redirect following."""
        key = self.admin_key if key is None and user == "admin" else (key or self.user_key)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", "bearer " + token(method, path, user, key))
        if data is not None:
            req.add_header("Content-Type", "application/json")

        class _NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):  # noqa: D401 - urllib API
                return None

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
        try:
            with opener.open(req, timeout=30) as resp:
                status, raw, headers = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as err:
            status, raw, headers = err.code, err.read(), err.headers
        text = raw.decode(errors="replace")
        try:
            payload = json.loads(text) if text.strip() else None
        except ValueError:
            payload = text
        if status in (202, 303) and headers.get("Location"):
            payload = {"location": headers["Location"], "body": payload}
        return status, payload

    def get(self, path: str):
        status, payload = self.api("GET", path)
        if status != 200:
            raise RuntimeError("GET %s -> %s %s" % (path, status, payload))
        return payload

    def wait_async(self, location: str, timeout: float = 60.0):
        """Poll a /queue/ location until done; return (status, payload) of the final answer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, payload = self.api("GET", location)
            if status == 200:  # X-Pending: still running
                time.sleep(0.01)
                continue
            if status == 303:
                return self.api("GET", payload["location"])
            return status, payload
        raise RuntimeError("async operation %s did not finish in %ss" % (location, timeout))

    def call(self, method: str, path: str, body=None):
        """A request through the async protocol, done test-side (for seeding state)."""
        status, payload = self.api(method, path, body)
        if status == 202:
            status, payload = self.wait_async(payload["location"])
        if status >= 400:
            raise RuntimeError("%s %s -> %s %s" % (method, path, status, payload))
        return payload

    def load(self, topology: dict) -> dict:
        """Seed the server from a topology.json document with plain API calls (test-side, sequential).

        One new cluster per file cluster (file/block flags as given, default true), then its nodes
        and devices. Returns state(). Faster than heketi-cli, which polls every 400 ms.
        """
        for fcluster in topology.get("clusters", []):
            cluster = self.call("POST", "/clusters", {"file": fcluster.get("file", True),
                                                      "block": fcluster.get("block", True)})
            for entry in fcluster.get("nodes", []):
                node = self.call("POST", "/nodes", dict(entry["node"], cluster=cluster["id"]))
                for dev in entry.get("devices", []):
                    body = {"name": dev} if isinstance(dev, str) else dict(dev)
                    body["node"] = node["id"]
                    self.call("POST", "/devices", body)
        return self.state()

    def state(self) -> dict:
        """What the server holds, read clusters -> nodes -> devices, and volumes, with ids."""
        clusters = []
        for cid in self.get("/clusters")["clusters"]:
            info = self.get("/clusters/" + cid)
            info["nodes"] = [self.get("/nodes/" + nid) for nid in info.get("nodes", [])]
            clusters.append(info)
        volumes = [self.get("/volumes/" + vid) for vid in self.get("/volumes")["volumes"]]
        return {"clusters": clusters, "volumes": volumes}

    def auth(self, user: str = "admin") -> dict:
        """Module options that reach this server as `user`."""
        return {"url": self.url, "user": user, "key": self.admin_key if user == "admin" else self.user_key}

    def __repr__(self) -> str:  # keys stay out of reprs shown by pytest
        return "HeketiServer(%s)" % self.url
