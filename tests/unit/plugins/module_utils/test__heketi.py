# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the private Heketi client.

Tokens are checked with PyJWT, independently of the client's own signing code. The protocol
tests run the client against the REAL Heketi server (mock executor) and record every HTTP
request it sends; they are skipped when the Heketi binary has not been built
(tools/build-heketi.sh).
"""
from __future__ import annotations

import hashlib
import http.client
import importlib.util
import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

jwt = pytest.importorskip("jwt")

from ansible_collections.glusterfs.heketi.plugins.module_utils import _heketi  # noqa: E402
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi import (  # noqa: E402
    HeketiClient,
    HeketiError,
    make_token,
)

REPO = Path(__file__).resolve().parents[4]
HARNESS = REPO / "tests" / "integration" / "heketi_server.py"


def _sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _decode(token, key):
    return jwt.decode(token, key, algorithms=["HS256"], options={"require": ["iss", "iat", "exp", "qsh"]})


# ----------------------------------------------------------------------------------- tokens
@pytest.mark.parametrize("method,path", [
    ("GET", "/clusters"),
    ("POST", "/nodes"),
    ("GET", "/queue/d4c9a37b2c3d4e5f60718293a4b5c6d7"),
    ("DELETE", "/volumes/0123456789abcdef0123456789abcdef"),
    ("post", "/devices"),
])
def test_token_claims_decoded_by_pyjwt(method, path):
    before = int(time.time())
    token = make_token(method, path, "admin", "s3cret")
    after = int(time.time())
    claims = _decode(token, "s3cret")
    assert claims["iss"] == "admin"
    assert before <= claims["iat"] <= after
    assert claims["exp"] > claims["iat"]
    assert claims["exp"] - claims["iat"] <= 600
    assert claims["qsh"] == _sha("%s&%s" % (method.upper(), path))
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_token_qsh_matches_a_real_heketi_trace():
    # heketi/heketi#263 shows these qsh values in a trace of the Go client.
    qsh = _decode(make_token("POST", "/nodes", "admin", "k"), "k")["qsh"]
    assert qsh.startswith("03bc5915") and qsh.endswith("9271")


def test_token_with_another_key_does_not_verify():
    token = make_token("GET", "/clusters", "admin", "right")
    with pytest.raises(jwt.InvalidSignatureError):
        _decode(token, "wrong")


def test_token_user_issuer():
    assert _decode(make_token("GET", "/volumes", "user", "u"), "u")["iss"] == "user"


@pytest.mark.parametrize("url,fragment", [
    (None, "url: the Heketi server URL is required"),
    ("", "url: the Heketi server URL is required"),
    ("localhost:8080", "url: must be an http:// or https:// URL"),
    ("ftp://heketi:8080", "url: must be an http:// or https:// URL"),
    ("http://heketi:8080/?x=1", "url: must not carry a query string"),
])
def test_bad_url_is_refused_before_any_request(url, fragment):
    with pytest.raises(HeketiError) as err:
        HeketiClient(url, "admin", "k")
    assert fragment in str(err.value)


def test_location_paths_relative_absolute_and_prefixed():
    client = HeketiClient("http://127.0.0.1:9/heketi/", "admin", "k")
    assert client.url == "http://127.0.0.1:9/heketi"
    assert client._location_path("/heketi/queue/abc") == "/queue/abc"
    assert client._location_path("http://127.0.0.1:9/heketi/nodes/abc") == "/nodes/abc"
    plain = HeketiClient("http://127.0.0.1:9", "admin", "k")
    assert plain._location_path("/queue/abc") == "/queue/abc"


def test_argument_spec_environment_fallbacks_and_no_log():
    spec = _heketi.HEKETI_ARGUMENT_SPEC
    assert spec["url"]["fallback"][1] == ["HEKETI_CLI_SERVER"]
    assert spec["user"]["fallback"][1] == ["HEKETI_CLI_USER"]
    assert spec["user"]["default"] == "admin"
    assert spec["key"]["fallback"][1] == ["HEKETI_CLI_KEY"]
    assert spec["key"]["no_log"] is True
    assert spec["validate_certs"]["default"] is True
    assert spec["ca_path"]["type"] == "path"
    assert spec["ca_path"]["fallback"][1] == ["HEKETI_CLI_CA_PATH"]


# ----------------------------------------------------------------------- real server
def _harness():
    spec = importlib.util.spec_from_file_location("m1_heketi_server", HARNESS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def server(tmp_path):
    if not HARNESS.exists():
        pytest.skip("tests/integration/heketi_server.py is not present")
    harness = _harness()
    if not (os.access(harness.HEKETI, os.X_OK)):
        pytest.skip("Heketi is not built (tools/build-heketi.sh)")
    srv = harness.HeketiServer(tmp_path / "heketi")
    srv.start()
    yield srv
    srv.kill()


@pytest.fixture
def recorder(monkeypatch):
    """Record (method, url, Authorization header) of every request the client sends."""
    seen = []
    real = HeketiClient._exchange

    def recording(self, method, full_path, data, headers, deadline):
        base = self.url[:len(self.url) - len(self._prefix)] if self._prefix else self.url
        seen.append((method, base + full_path, dict(headers or {}).get("Authorization")))
        return real(self, method, full_path, data, headers, deadline)

    monkeypatch.setattr(HeketiClient, "_exchange", recording)
    return seen


def _assert_each_request_signed_for_itself(seen, base, key):
    assert seen
    for method, url, auth in seen:
        assert url.startswith(base)
        path = url[len(base):]
        scheme, token = auth.split(" ")
        assert scheme.lower() == "bearer"
        claims = _decode(token, key)
        assert claims["iss"] == "admin"
        assert claims["qsh"] == _sha("%s&%s" % (method, path)), (method, path)


def test_async_node_add_polls_and_follows_303_with_new_tokens(server, recorder):
    client = HeketiClient(server.url, "admin", server.admin_key)
    cluster = client.post("/clusters", {"file": True, "block": True})
    node = client.post("/nodes", {"zone": 1, "hostnames": {"manage": ["m1.test"], "storage": ["10.9.9.1"]},
                                  "cluster": cluster["id"]})
    # the result of the redirect target, read with a GET signed for /nodes/<id>
    assert node["hostnames"]["manage"] == ["m1.test"]
    assert len(node["id"]) == 32
    methods_paths = [(rec[0], rec[1][len(server.url):]) for rec in recorder]
    assert ("POST", "/nodes") in methods_paths
    assert any(m == "GET" and p.startswith("/queue/") for m, p in methods_paths)
    assert ("GET", "/nodes/" + node["id"]) in methods_paths
    _assert_each_request_signed_for_itself(recorder, server.url, server.admin_key)
    # the server agrees: the node exists, once
    assert server.get("/clusters/" + cluster["id"])["nodes"] == [node["id"]]


def test_async_device_add_ends_with_204(server, recorder):
    client = HeketiClient(server.url, "admin", server.admin_key)
    cluster = client.post("/clusters", {"file": True, "block": True})
    node = client.post("/nodes", {"zone": 1, "hostnames": {"manage": ["m2.test"], "storage": ["10.9.9.2"]},
                                  "cluster": cluster["id"]})
    status, data = client.request("POST", "/devices", {"name": "/dev/sdq", "node": node["id"]})
    assert status == 204 and data is None
    assert [d["name"] for d in server.get("/nodes/" + node["id"])["devices"]] == ["/dev/sdq"]
    _assert_each_request_signed_for_itself(recorder, server.url, server.admin_key)


def test_failed_operation_carries_the_server_text(server):
    client = HeketiClient(server.url, "admin", server.admin_key)
    cluster = client.post("/clusters", {"file": True, "block": True})
    node = client.post("/nodes", {"zone": 1, "hostnames": {"manage": ["m3.test"], "storage": ["10.9.9.3"]},
                                  "cluster": cluster["id"]})
    client.post("/devices", {"name": "/dev/sdq", "node": node["id"]})
    dev = server.get("/nodes/" + node["id"])["devices"][0]["id"]
    with pytest.raises(HeketiError) as err:
        client.post("/devices/%s/state" % dev, {"state": "failed"})  # online -> failed: refused in the queue
    assert err.value.status == 500
    assert "Device must be offline before remove operation is performed" in str(err.value)


def test_synchronous_error_carries_status_and_text(server):
    client = HeketiClient(server.url, "admin", server.admin_key)
    cluster = client.post("/clusters", {"file": True, "block": True})
    body = {"zone": 1, "hostnames": {"manage": ["m4.test"], "storage": ["10.9.9.4"]}, "cluster": cluster["id"]}
    client.post("/nodes", body)
    with pytest.raises(HeketiError) as err:
        client.post("/nodes", body)
    assert err.value.status == 409
    assert "Hostname m4.test already used by node" in str(err.value)


def test_wrong_key_names_the_user_and_the_server_reason(server):
    client = HeketiClient(server.url, "admin", "not-the-key")
    with pytest.raises(HeketiError) as err:
        client.get("/clusters")
    assert err.value.status == 401
    text = str(err.value)
    assert "rejected the key of user 'admin'" in text
    assert "signature is invalid" in text
    assert "not-the-key" not in text


def test_user_key_is_refused_with_the_admin_hint(server):
    client = HeketiClient(server.url, "user", server.user_key)
    with pytest.raises(HeketiError) as err:
        client.topology()
    assert err.value.status == 401
    assert "Administrator access required" in str(err.value)
    assert "needs the admin user" in str(err.value)


def test_unreachable_server_names_the_url(server):
    url = server.url
    server.kill()
    client = HeketiClient(url, "admin", "k", request_timeout=5)
    with pytest.raises(HeketiError) as err:
        client.get("/clusters")
    assert err.value.status is None
    assert url in str(err.value)


def test_hello_and_topology(server):
    client = HeketiClient(server.url, "admin", server.admin_key)
    assert "Heketi" in client.hello()
    assert client.topology() == {"clusters": []}
    cluster = client.post("/clusters", {"file": True, "block": False})
    node = client.post("/nodes", {"zone": 2, "hostnames": {"manage": ["m5.test"], "storage": ["10.9.9.5"]},
                                  "cluster": cluster["id"], "tags": {"rack": "r1"}})
    client.post("/devices", {"name": "/dev/sdz", "node": node["id"], "tags": {"disk": "ssd"}})
    topo = client.topology()
    assert len(topo["clusters"]) == 1
    c = topo["clusters"][0]
    assert (c["id"], c["file"], c["block"]) == (cluster["id"], True, False)
    assert [n["id"] for n in c["nodes"]] == [node["id"]]
    assert c["nodes"][0]["tags"] == {"rack": "r1"}
    assert [(d["name"], d.get("tags")) for d in c["nodes"][0]["devices"]] == [("/dev/sdz", {"disk": "ssd"})]


def test_busy_server_is_retried_until_it_accepts(tmp_path, recorder):
    """HTTP 429 "Server busy": Heketi throttles volume operations (and device/node state=failed)
    to max_inflight_operations; node and device additions are not throttled (checked in
    apps/glusterfs/app_{node,device}.go and against the server). So 429 is provoked here with
    concurrent volume creations on a server allowing one operation in flight."""
    if not HARNESS.exists():
        pytest.skip("tests/integration/heketi_server.py is not present")
    harness = _harness()
    if not os.access(harness.HEKETI, os.X_OK):
        pytest.skip("Heketi is not built (tools/build-heketi.sh)")
    srv = harness.HeketiServer(tmp_path / "busy", glusterfs={"max_inflight_operations": 1})
    srv.start()
    try:
        client = HeketiClient(srv.url, "admin", srv.admin_key)
        cluster = client.post("/clusters", {"file": True, "block": True})
        for i in range(1, 4):
            node = client.post("/nodes", {"zone": i, "hostnames": {"manage": ["b%d.test" % i], "storage": ["10.8.8.%d" % i]},
                                          "cluster": cluster["id"]})
            client.post("/devices", {"name": "/dev/sdb", "node": node["id"]})
        names = []
        statuses = []
        # Rounds of 8 concurrent creations until the server has answered busy at least once
        # (on a loaded machine one round may happen not to overlap).
        for rnd in range(6):
            batch = ["busy%d_%d" % (rnd, i) for i in range(8)]
            names.extend(batch)
            results = client.map(lambda n: client.post("/volumes", {"size": 1, "name": n, "durability": {"type": "none"}}),
                                 batch, workers=8)
            assert [res[1] for res in results] == [None] * 8
            statuses = [s for m, p, s in srv.requests() if m == "POST" and p == "/volumes"]
            if 429 in statuses:
                break
        assert 429 in statuses, "the server never answered busy; the test proves nothing"
        assert client.counts["busy"] == statuses.count(429)
        held = sorted(srv.get("/volumes/" + v)["name"] for v in srv.get("/volumes")["volumes"])
        assert held == sorted(names)
    finally:
        srv.kill()


# ------------------------------------------------------------------------------------ TLS
@pytest.fixture
def tls_server(tmp_path):
    """The real Heketi server with enable_tls and a self-signed certificate for 127.0.0.1."""
    if not HARNESS.exists():
        pytest.skip("tests/integration/heketi_server.py is not present")
    harness = _harness()
    if not os.access(harness.HEKETI, os.X_OK):
        pytest.skip("Heketi is not built (tools/build-heketi.sh)")
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    port = harness.free_port()
    config = {"port": str(port), "enable_tls": True, "cert_file": str(cert), "key_file": str(key),
              "jwt": {"admin": {"key": "tls-admin"}, "user": {"key": "tls-user"}},
              "glusterfs": {"executor": "mock", "db": str(tmp_path / "heketi.db")}}
    (tmp_path / "heketi.json").write_text(json.dumps(config))
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("HEKETI_"))
    with open(tmp_path / "heketi.log", "wb") as log:
        proc = subprocess.Popen([str(harness.HEKETI), "--config=%s" % (tmp_path / "heketi.json")], cwd=tmp_path, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    ctx = ssl.create_default_context(cafile=str(cert))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))
    url = "https://127.0.0.1:%d" % port
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with opener.open(url + "/hello", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("heketi with TLS did not start: %s" % (tmp_path / "heketi.log").read_text()[-2000:])
            time.sleep(0.05)
        yield {"url": url, "cert": str(cert), "key": "tls-admin"}
    finally:
        proc.kill()
        proc.wait(10)


def test_tls_certificate_is_verified_by_default(tls_server):
    client = HeketiClient(tls_server["url"], "admin", tls_server["key"], request_timeout=10)
    with pytest.raises(HeketiError) as err:
        client.get("/clusters")
    assert tls_server["url"] in str(err.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(err.value) or "certificate verify failed" in str(err.value)


def test_tls_with_ca_path(tls_server):
    client = HeketiClient(tls_server["url"], "admin", tls_server["key"], ca_path=tls_server["cert"])
    assert client.topology() == {"clusters": []}
    cluster = client.post("/clusters", {"file": True, "block": True})
    node = client.post("/nodes", {"zone": 1, "hostnames": {"manage": ["t1.test"], "storage": ["10.7.7.1"]},
                                  "cluster": cluster["id"]})
    assert node["cluster"] == cluster["id"]  # 202 -> queue -> 303 -> GET, all over TLS


def test_tls_without_validation(tls_server):
    client = HeketiClient(tls_server["url"], "admin", tls_server["key"], validate_certs=False)
    assert client.get("/clusters") == {"clusters": []}


def test_unreadable_ca_path_is_a_clear_error(tls_server, tmp_path):
    client = HeketiClient(tls_server["url"], "admin", tls_server["key"], ca_path=str(tmp_path / "missing.pem"))
    with pytest.raises(HeketiError) as err:
        client.get("/clusters")
    assert str(err.value).startswith("ca_path: cannot load the CA certificates from %s" % (tmp_path / "missing.pem"))


# ------------------------------------------------------------------------ kept-alive connections
@pytest.fixture
def connects(monkeypatch):
    """The TCP connections the client opens: (host, port, local port) of each successful connect()."""
    seen = []
    real = http.client.HTTPConnection.connect

    def connect(self):
        real(self)
        seen.append((self.host, self.port, self.sock.getsockname()[1]))

    monkeypatch.setattr(http.client.HTTPConnection, "connect", connect)
    return seen


def _gets(server, path):
    return [r for r in server.requests() if r[0] == "GET" and r[1] == path]


def test_sequential_requests_share_one_connection(server, connects):
    client = HeketiClient(server.url, "admin", server.admin_key)
    for dummy in range(20):
        assert client.get("/clusters") == {"clusters": []}
    assert len(_gets(server, "/clusters")) == 20  # the server answered each one
    assert len(connects) == 1, connects
    client.close()
    client.get("/clusters")
    assert len(connects) == 2  # closed: a new connection


def test_parallel_requests_use_at_most_one_connection_per_worker(server, connects):
    client = HeketiClient(server.url, "admin", server.admin_key)
    for rnd in range(3):
        results = client.map(lambda i: client.get("/clusters"), range(40), workers=4)
        assert [err for res, err in results] == [None] * 40
    assert len(_gets(server, "/clusters")) == 120
    assert 1 <= len(connects) <= 4, connects


def test_a_connection_closed_by_a_restarted_server_is_replaced(server, connects):
    client = HeketiClient(server.url, "admin", server.admin_key)
    assert client.get("/clusters") == {"clusters": []}
    assert len(connects) == 1
    server.kill()  # the kept-alive connection is now dead
    server.start()  # same port, same database (the harness's own connections are counted too)
    before = len(connects)
    cluster = client.post("/clusters", {"file": True, "block": True})  # sent once, on a new connection
    assert len(connects) == before + 1
    assert server.get("/clusters")["clusters"] == [cluster["id"]]
    assert [w[:2] for w in server.writes()].count(("POST", "/clusters")) == 1


def test_a_write_is_not_resent_when_a_new_connection_fails(server):
    url = server.url
    client = HeketiClient(url, "admin", server.admin_key, request_timeout=5)
    assert client.get("/clusters") == {"clusters": []}
    server.kill()
    with pytest.raises(HeketiError) as err:
        client.post("/clusters", {"file": True, "block": True})
    assert err.value.status is None
    assert "Cannot reach the Heketi server at %s (POST /clusters)" % url in str(err.value)


def test_tls_hostname_is_checked(tls_server):
    # the certificate names 127.0.0.1 only; the same server reached as localhost is refused
    url = tls_server["url"].replace("127.0.0.1", "localhost")
    client = HeketiClient(url, "admin", tls_server["key"], ca_path=tls_server["cert"], request_timeout=10)
    with pytest.raises(HeketiError) as err:
        client.get("/clusters")
    assert url in str(err.value)
    assert "localhost" in str(err.value) and ("match" in str(err.value) or "mismatch" in str(err.value))
    # without validate_certs the name is not checked either
    assert HeketiClient(url, "admin", tls_server["key"], validate_certs=False).get("/clusters") == {"clusters": []}


def test_tls_connection_is_kept_alive(tls_server, connects):
    client = HeketiClient(tls_server["url"], "admin", tls_server["key"], ca_path=tls_server["cert"])
    for dummy in range(5):
        assert client.get("/clusters") == {"clusters": []}
    assert len(connects) == 1


# ------------------------------------------------------------------ transport faults (issue 9, item 7)
# The real Heketi cannot be made to drop a connection after reading a request, answer megabytes or
# send malformed JSON, so these faults come from a scripted socket server on 127.0.0.1: it records
# every request it read and answers each with the next scripted action.
class ScriptedServer(object):
    """Serves ``script`` (one action per request, in order) on 127.0.0.1.

    An action is ``("answer", status, body_bytes, extra_headers)``, ``("drop",)``: read the whole
    request, then close the connection without answering, or ``("drip",)``: answer with headers and then one
    byte of the body every 0.3 s, for as long as the client reads.
    """

    def __init__(self, script):
        self.script = list(script)
        self.seen = []  # (connection number, method, path)
        self.connections = 0
        import socket
        import threading
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import socket
        while self.script:
            try:
                conn, dummy = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            number = self.connections
            with conn:
                rfile = conn.makefile("rb")
                while self.script:
                    line = rfile.readline()
                    if not line:
                        break
                    method, path = line.decode().split(" ")[:2]
                    length = 0
                    while True:
                        header = rfile.readline().decode()
                        if header in ("\r\n", "\n", ""):
                            break
                        if header.lower().startswith("content-length:"):
                            length = int(header.split(":", 1)[1])
                    rfile.read(length)
                    self.seen.append((number, method, path))
                    action = self.script.pop(0)
                    if action[0] == "drop":
                        break
                    if action[0] == "drip":
                        # Headers, then one byte of a long body now and then, until the client goes away.
                        try:
                            conn.sendall(b"HTTP/1.1 200 X\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
                            while True:
                                conn.sendall(b" ")
                                __import__("time").sleep(0.3)
                        except OSError:
                            break
                    dummy, status, body, extra = action
                    head = "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n" % status
                    if "Content-Length" not in extra and "Transfer-Encoding" not in extra:
                        head += "Content-Length: %d\r\n" % len(body)
                    head += "".join("%s: %s\r\n" % kv for kv in extra.items())
                    conn.sendall(head.encode() + b"\r\n" + body)
                rfile.close()
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def answer(body=b'{"clusters": []}', status=200, **headers):
    return ("answer", status, body, headers)


@pytest.fixture
def scripted():
    servers = []

    def make(*script):
        srv = ScriptedServer(script)
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.close()


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_a_write_is_never_sent_twice_when_a_kept_alive_connection_breaks(scripted, method):
    # The server reads the write on the kept-alive connection, then drops it without answering:
    # the write may have been made, so it must not be sent again.
    srv = scripted(answer(), ("drop",), answer(b'{"id": "second"}', 201))
    client = HeketiClient(srv.url, "admin", "k" * 32, request_timeout=5)
    assert client.get("/clusters") == {"clusters": []}
    with pytest.raises(HeketiError) as err:
        client.request(method, "/clusters/abc" if method == "DELETE" else "/clusters", {})
    assert [s[1:] for s in srv.seen].count((method, "/clusters/abc" if method == "DELETE" else "/clusters")) == 1
    assert "is not sent again" in str(err.value) and "%s /clusters" % method in str(err.value)
    assert err.value.status is None


def test_a_get_on_a_broken_kept_alive_connection_is_sent_again_once(scripted):
    srv = scripted(answer(), ("drop",), answer(b'{"clusters": ["c1"]}'))
    client = HeketiClient(srv.url, "admin", "k" * 32, request_timeout=5)
    assert client.get("/clusters") == {"clusters": []}
    assert client.get("/clusters") == {"clusters": ["c1"]}
    assert srv.seen == [(1, "GET", "/clusters"), (1, "GET", "/clusters"), (2, "GET", "/clusters")]


@pytest.mark.parametrize("headers,body", [
    ({}, b'{"x": "' + b"a" * 5000 + b'"}'),  # Content-Length above the bound
    ({"Transfer-Encoding": "chunked"}, b"1388\r\n" + b"a" * 5000 + b"\r\n0\r\n\r\n"),  # no length given
])
def test_an_answer_above_the_size_bound_is_refused(scripted, monkeypatch, headers, body):
    monkeypatch.setattr(_heketi, "MAX_RESPONSE_BYTES", 4096)
    srv = scripted(answer(body, **headers))
    client = HeketiClient(srv.url, "admin", "k" * 32, request_timeout=5)
    with pytest.raises(HeketiError) as err:
        client.get("/clusters")
    assert "answered GET /clusters with more than 4096 bytes" in str(err.value)


def test_the_default_size_bound_is_documented():
    assert _heketi.MAX_RESPONSE_BYTES == 16 * 1024 * 1024
    assert "16 MiB" in (REPO / "plugins" / "doc_fragments" / "heketi.py").read_text()


@pytest.mark.parametrize("body,fragment", [
    (b"[" * 100000 + b"]" * 100000, "nested deeper than 64 levels"),  # beyond Python's recursion limit
    (b'{"a": ' * 70 + b"1" + b"}" * 70, "nested deeper than 64 levels"),
    (b"<html>gateway</html>", "it is not JSON"),
    (b'{"clusters": [', "it is not JSON"),
    (b'["c1", "c2"]', "it is JSON but not an object (a list)"),
])
def test_a_2xx_answer_that_is_not_a_json_object_is_a_clean_error(scripted, body, fragment):
    srv = scripted(answer(body))
    client = HeketiClient(srv.url, "admin", "k" * 32, request_timeout=5)
    with pytest.raises(HeketiError) as err:
        client.get("/clusters")
    assert str(err.value).startswith("Heketi at %s answered GET /clusters with HTTP 200, but " % srv.url)
    assert fragment in str(err.value)


@pytest.mark.parametrize("url", ["http://admin:s3cretpw@127.0.0.1:8080", "https://s3cretpw@heketi.test",
                                 "ftp://u:s3cretpw@heketi.test"])
def test_a_url_with_credentials_is_refused_without_echoing_them(url):
    with pytest.raises(HeketiError) as err:
        HeketiClient(url, "admin", "k" * 32)
    assert "url: must not carry a user name or password" in str(err.value)
    assert "s3cretpw" not in str(err.value)


@pytest.mark.parametrize("key", [None, ""])
def test_a_missing_key_is_refused_before_any_request(scripted, key):
    srv = scripted(answer())
    with pytest.raises(HeketiError) as err:
        HeketiClient(srv.url, "admin", key)
    assert str(err.value).startswith("key: no key was given for user 'admin'")
    assert srv.seen == [] and srv.connections == 0


def test_the_timeout_bounds_a_server_that_answers_one_byte_now_and_then(scripted):
    """Each byte comes well within the socket timeout, so only a bound on the whole exchange ends it
    (before the fix, a timeout of 20 s kept running past 100 s)."""
    import threading
    srv = scripted(("drip",))
    client = HeketiClient(srv.url, "admin", "k" * 32, timeout=2, request_timeout=5)
    outcome = {}

    def call():
        try:
            outcome["data"] = client.get("/clusters")
        except HeketiError as e:
            outcome["error"] = e

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the request was still running 60 s after its timeout of 2 s"
    assert "error" in outcome, outcome
    assert "did not finish answering GET /clusters within the timeout of 2s" in str(outcome["error"])
    assert outcome["error"].status is None and outcome["error"].accepted is False


@pytest.mark.parametrize("after", [
    answer(b"lost", 404),  # the queue forgot the operation (Heketi restarted)
    ("drop",),  # the connection broke under the poll (Heketi killed)
])
def test_a_write_heketi_accepted_whose_poll_fails_is_reported_as_possibly_made(scripted, after):
    srv = scripted(answer(b"", 202, Location="/queue/op1"), after)
    client = HeketiClient(srv.url, "admin", "k" * 32, timeout=5, request_timeout=2)
    with pytest.raises(HeketiError) as err:
        client.post("/devices", {"name": "/dev/sdf", "node": "n1"})
    assert err.value.accepted is True
    assert "Heketi had accepted POST /devices: the change may have been made" in str(err.value)


def test_a_write_heketi_reports_failed_is_not_possibly_made(scripted):
    srv = scripted(answer(b"", 202, Location="/queue/op1"), answer(b"Unable to add device", 500))
    client = HeketiClient(srv.url, "admin", "k" * 32, timeout=5, request_timeout=2)
    with pytest.raises(HeketiError) as err:
        client.post("/devices", {"name": "/dev/sdf", "node": "n1"})
    assert err.value.accepted is False and err.value.status == 500
    assert "Unable to add device" in str(err.value) and "may have been made" not in str(err.value)
