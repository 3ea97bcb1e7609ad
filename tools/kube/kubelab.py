# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A REAL Kubernetes control plane on loopback, for the storageclass tests and by hand.

It starts Debian's etcd (/usr/bin/etcd, or $KUBELAB_ETCD) and the kube-apiserver built by
tools/build-kube-apiserver.sh (.cache/kube/<version>/bin/kube-apiserver) on free 127.0.0.1 ports,
with certificates, a service-account key pair and a static token generated here (python cryptography).
Clients authenticate with the token (kubeconfig user "admin", group system:masters) or with the
client certificate (kubeconfig user "admin-cert"). Nothing listens beyond 127.0.0.1; the endpoint
reconciler is off, so no address other than 127.0.0.1 is ever published.

With scheduler=True it also starts kube-scheduler from the same build (the pods of tools/kube/node.py's nodes are
scheduled as a cluster schedules them), as the admin user, on a free loopback port, without leader election.

With controller_manager=True it also starts kube-controller-manager from the same build (up to 1.25 the
in-tree glusterfs provisioner lives there; from 1.26 the CSI tests need its persistent-volume binder), as user system:kube-controller-manager (bootstrap RBAC)
with --use-service-account-credentials: each controller acts as its own kube-system service account, whose
token the serviceaccount-token controller signs with the service-account key. Only the controllers that
dynamic provisioning needs run (CONTROLLERS).

By hand:
    .venv/bin/python tools/kube/kubelab.py up   --version v1.37.2 --dir /tmp/kube137   # prints the kubeconfig
    .venv/bin/python tools/kube/kubelab.py up   --version v1.25.15 --controller-manager --dir /tmp/kube125
    KUBECONFIG=/tmp/kube137/kubeconfig kubectl get storageclass
    .venv/bin/python tools/kube/kubelab.py down --dir /tmp/kube137
"""
from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

REPO_ROOT = Path(__file__).resolve().parents[2]
KUBE_CACHE = REPO_ROOT / ".cache" / "kube"
DEFAULT_VERSIONS = ("v1.25.15", "v1.37.2")
# The controllers dynamic provisioning needs: the persistent-volume binder (it runs the in-tree glusterfs
# provisioner, and deletes volumes under reclaimPolicy Delete), the expander, PVC/PV protection (their
# finalizers: without them a deleted claim waits forever), endpoints, and service-account tokens for
# --use-service-account-credentials.
CONTROLLERS = ("persistentvolume-binder", "persistentvolume-expander", "pvc-protection", "pv-protection",
               "endpoint", "serviceaccount-token", "serviceaccount")
# What a cluster with nodes adds (controllers=NODE_CONTROLLERS): the workloads the CSI manifests deploy
# (Deployment, ReplicaSet, DaemonSet), the garbage collector (owner references: a deleted DaemonSet's pods) and
# namespace deletion, the kube-root-ca.crt config map every pod's service-account volume projects, and the node
# lifecycle (it lifts the not-ready taint a kubelet registers its node with, once the node is Ready).
NODE_CONTROLLERS = CONTROLLERS + (
    "deployment", "replicaset", "daemonset", "garbagecollector", "namespace", "root-ca-cert-publisher",
    "nodelifecycle")


def has_in_tree_glusterfs(version: str) -> bool:
    """Whether kube-controller-manager of VERSION still has the in-tree glusterfs provisioner (up to 1.25)."""
    return int(version.lstrip("v").split(".")[1]) <= 25


def kube_binary(version: str, name: str = "kube-apiserver") -> Path:
    return KUBE_CACHE / version / "bin" / name


def ensure_built(version: str, name: str = "kube-apiserver") -> Path:
    """Return binary NAME of VERSION; build it with tools/build-kube-apiserver.sh if absent."""
    binary = kube_binary(version, name)
    if not os.access(binary, os.X_OK):
        proc = subprocess.run([str(REPO_ROOT / "tools" / "build-kube-apiserver.sh")], cwd=REPO_ROOT,
                              env=dict(os.environ, KUBE_VERSIONS=version), capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0 or not os.access(binary, os.X_OK):
            raise RuntimeError("tools/build-kube-apiserver.sh could not build %s %s (rc=%s):\n%s\n%s"
                               % (name, version, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return binary


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- certificates ---------------------------------------------------------------------------------
def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _cert(subject_cn: str, key, issuer_cert=None, issuer_key=None, ca=False, org: str | None = None,
          server=False, client=False) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]
    if org:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    subject = x509.Name(attrs)
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer_cert.subject if issuer_cert else subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
            decipher_only=False), critical=True)
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        usages = []
        if server:
            usages.append(x509.ExtendedKeyUsageOID.SERVER_AUTH)
            builder = builder.add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.DNSName("kubernetes"),
                x509.DNSName("kubernetes.default.svc"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        if client:
            usages.append(x509.ExtendedKeyUsageOID.CLIENT_AUTH)
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_encipherment=True, key_cert_sign=False, crl_sign=False,
            content_commitment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
            decipher_only=False), critical=True)
    return builder.sign(issuer_key or key, hashes.SHA256())


def _write(path: Path, data: bytes | str, mode: int = 0o600) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)
    return path


# In stop order.
PROCESSES = ("kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd")


class KubeAPIServer:
    """etcd + kube-apiserver (+ kube-controller-manager) of one Kubernetes version on loopback, in WORKDIR."""

    def __init__(self, version: str, workdir: Path, etcd: str | None = None, controller_manager: bool = False,
                 scheduler: bool = False, controllers: tuple[str, ...] = CONTROLLERS):
        self.version = version
        self.controllers = controllers
        self.scheduler = ensure_built(version, "kube-scheduler") if scheduler else None
        self.scheduler_port = free_port()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o700)
        self.apiserver = ensure_built(version)
        self.controller_manager = ensure_built(version, "kube-controller-manager") if controller_manager else None
        self.kcm_token = secrets.token_hex(24)
        self.kcm_port = free_port()
        self.kcm_kubeconfig = self.workdir / "kube-controller-manager.kubeconfig"
        self.etcd = etcd or os.environ.get("KUBELAB_ETCD", "/usr/bin/etcd")
        if not os.access(self.etcd, os.X_OK):
            raise RuntimeError("etcd not found at %s (Debian package etcd-server)" % self.etcd)
        self.pki = self.workdir / "pki"
        self.pki.mkdir(exist_ok=True)
        self.token = secrets.token_hex(24)
        self.etcd_port, self.etcd_peer_port, self.port = free_port(), free_port(), free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        self.kubeconfig = self.workdir / "kubeconfig"
        self.ca_file = self.pki / "ca.crt"
        self.procs: dict[str, subprocess.Popen] = {}
        self._logs: list = []

    # -- set-up --------------------------------------------------------------------------------
    def _make_pki(self) -> None:
        ca_key = _key()
        ca = _cert("kubelab-ca", ca_key, ca=True)
        _write(self.ca_file, ca.public_bytes(serialization.Encoding.PEM), 0o644)
        srv_key = _key()
        srv = _cert("kube-apiserver", srv_key, ca, ca_key, server=True)
        _write(self.pki / "apiserver.crt", srv.public_bytes(serialization.Encoding.PEM), 0o644)
        _write(self.pki / "apiserver.key", _pem_key(srv_key))
        cli_key = _key()
        cli = _cert("admin-cert", cli_key, ca, ca_key, org="system:masters", client=True)
        _write(self.pki / "admin.crt", cli.public_bytes(serialization.Encoding.PEM), 0o644)
        _write(self.pki / "admin.key", _pem_key(cli_key))
        sa_key = _key()
        _write(self.pki / "sa.key", _pem_key(sa_key))
        _write(self.pki / "sa.pub", sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
        _write(self.pki / "tokens.csv", '%s,admin,admin-uid,"system:masters"\n'
               '%s,system:kube-controller-manager,kcm-uid,\n' % (self.token, self.kcm_token))
        kcm_key = _key()
        kcm = _cert("kube-controller-manager", kcm_key, ca, ca_key, server=True)
        _write(self.pki / "kcm.crt", kcm.public_bytes(serialization.Encoding.PEM), 0o644)
        _write(self.pki / "kcm.key", _pem_key(kcm_key))

    def _write_kubeconfig(self) -> None:
        import base64

        def b64(path: Path) -> str:
            return base64.b64encode(path.read_bytes()).decode()

        cluster = {"name": "kubelab", "cluster": {"server": self.url, "certificate-authority-data": b64(self.ca_file)}}
        _write(self.kcm_kubeconfig, json.dumps({
            "apiVersion": "v1", "kind": "Config", "preferences": {}, "clusters": [cluster],
            "users": [{"name": "kube-controller-manager", "user": {"token": self.kcm_token}}],
            "contexts": [{"name": "kcm", "context": {"cluster": "kubelab", "user": "kube-controller-manager"}}],
            "current-context": "kcm"}, indent=2))
        config = {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": "kubelab", "cluster": {"server": self.url,
                                                         "certificate-authority-data": b64(self.ca_file)}}],
            "users": [{"name": "admin", "user": {"token": self.token}},
                      {"name": "admin-cert", "user": {"client-certificate-data": b64(self.pki / "admin.crt"),
                                                      "client-key-data": b64(self.pki / "admin.key")}}],
            "contexts": [{"name": "kubelab", "context": {"cluster": "kubelab", "user": "admin"}},
                         {"name": "kubelab-cert", "context": {"cluster": "kubelab", "user": "admin-cert"}}],
            "current-context": "kubelab",
        }
        _write(self.kubeconfig, json.dumps(config, indent=2))

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.workdir / ("%s.log" % name), "ab")
        self._logs.append(log)
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                start_new_session=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        self.procs[name] = proc
        (self.workdir / ("%s.pid" % name)).write_text(str(proc.pid))
        return proc

    def start(self, timeout: float = 180.0) -> "KubeAPIServer":
        self._make_pki()
        self._write_kubeconfig()
        etcd_url = "http://127.0.0.1:%d" % self.etcd_port
        peer_url = "http://127.0.0.1:%d" % self.etcd_peer_port
        self._spawn("etcd", [
            self.etcd, "--name", "kubelab", "--data-dir", str(self.workdir / "etcd"),
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", "kubelab=%s" % peer_url, "--initial-cluster-state", "new",
            "--listen-metrics-urls", "http://127.0.0.1:%d" % free_port(),
            "--quota-backend-bytes", str(512 * 1024 * 1024), "--logger", "zap", "--log-outputs", "stderr",
        ])
        self._wait(lambda: self._etcd_healthy(etcd_url), 60, "etcd")
        self._spawn("kube-apiserver", [
            str(self.apiserver),
            "--etcd-servers", etcd_url,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
            "--secure-port", str(self.port),
            "--tls-cert-file", str(self.pki / "apiserver.crt"),
            "--tls-private-key-file", str(self.pki / "apiserver.key"),
            "--client-ca-file", str(self.ca_file),
            "--token-auth-file", str(self.pki / "tokens.csv"),
            "--authorization-mode", "RBAC",
            "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file", str(self.pki / "sa.pub"),
            "--service-account-signing-key-file", str(self.pki / "sa.key"),
            "--service-cluster-ip-range", "10.96.0.0/24",
            "--endpoint-reconciler-type", "none",
            "--cert-dir", str(self.workdir / "certs"),
            "--profiling=false",
            # As kubeadm clusters run it: without it a pod spec with a privileged container (a CSI node
            # plugin's) is refused, "Forbidden: disallowed by cluster policy".
            "--allow-privileged=true",
            "--v", "1",
        ])
        self._wait(self.ready, timeout, "kube-apiserver")
        if self.controller_manager is not None:
            self._start_controller_manager(timeout)
        if self.scheduler is not None:
            self._start_scheduler(timeout)
        return self

    def _start_scheduler(self, timeout: float) -> None:
        kcfg = str(self.kubeconfig)
        self._spawn("kube-scheduler", [
            str(self.scheduler),
            "--kubeconfig", kcfg, "--authentication-kubeconfig", kcfg, "--authorization-kubeconfig", kcfg,
            "--bind-address", "127.0.0.1", "--secure-port", str(self.scheduler_port),
            "--cert-dir", str(self.workdir / "kube-scheduler-certs"),
            "--leader-elect=false", "--profiling=false", "--v", "1",
        ])
        self._wait(lambda: self._healthz(self.scheduler_port, verify=False), timeout, "kube-scheduler")

    @classmethod
    def attach(cls, workdir: Path, version: str | None = None) -> "KubeAPIServer":
        """The control plane `kubelab.py up` left running in WORKDIR (to start nodes beside it by hand)."""
        self = cls.__new__(cls)
        self.workdir = Path(workdir)
        self.kubeconfig = self.workdir / "kubeconfig"
        config = json.loads(self.kubeconfig.read_text())
        self.url = config["clusters"][0]["cluster"]["server"]
        self.port = int(self.url.rsplit(":", 1)[1])
        self.token = config["users"][0]["user"]["token"]
        self.pki = self.workdir / "pki"
        self.ca_file = self.pki / "ca.crt"
        self.procs, self._logs = {}, []
        self.version = version or self.server_version()
        return self

    def _start_controller_manager(self, timeout: float) -> None:
        (self.workdir / "flexvolume").mkdir(exist_ok=True)
        kcfg = str(self.kcm_kubeconfig)
        self._spawn("kube-controller-manager", [
            str(self.controller_manager),
            "--kubeconfig", kcfg, "--authentication-kubeconfig", kcfg, "--authorization-kubeconfig", kcfg,
            "--bind-address", "127.0.0.1", "--secure-port", str(self.kcm_port),
            "--tls-cert-file", str(self.pki / "kcm.crt"), "--tls-private-key-file", str(self.pki / "kcm.key"),
            "--leader-elect=false",
            "--controllers", ",".join(self.controllers),
            "--use-service-account-credentials=true",
            "--service-account-private-key-file", str(self.pki / "sa.key"),
            "--root-ca-file", str(self.ca_file),
            # Not the host's /usr/libexec/kubernetes/...: the prober would create that folder.
            "--flex-volume-plugin-dir", str(self.workdir / "flexvolume"),
            # The in-tree glusterfs plugin logs Heketi's own error text only at -v 4 (the event says
            # "see kube-controller-manager.log for details").
            "--v", "4",
        ])
        self._wait(self.controller_manager_ready, timeout, "kube-controller-manager")

    def controller_manager_ready(self) -> bool:
        return self._healthz(self.kcm_port)

    def _healthz(self, port: int, verify: bool = True) -> bool:
        """/healthz of a component on loopback; verify=False for one serving a self-signed certificate."""
        url = "https://127.0.0.1:%d/healthz" % port
        context = self.ssl_context()
        if not verify:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=context))
        try:
            with opener.open(url, timeout=3) as resp:
                return resp.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def _wait(self, check, timeout: float, name: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pname, proc in self.procs.items():
                if proc.poll() is not None:
                    log = self.log_text(pname)
                    self.stop()
                    raise RuntimeError("%s exited with %s while waiting for %s:\n%s"
                                       % (pname, proc.returncode, name, log[-4000:]))
            if check():
                return
            time.sleep(0.5)
        log = self.log_text(name)
        self.stop()
        raise RuntimeError("%s not ready within %ss:\n%s" % (name, timeout, log[-4000:]))

    @staticmethod
    def _etcd_healthy(url: str) -> bool:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                return json.loads(resp.read()).get("health") == "true"
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def request(self, method: str, path: str, body=None, timeout: float = 10) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": "Bearer " + self.token, "Content-Type": "application/json",
            "Accept": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=self.ssl_context()))
        try:
            with opener.open(req, timeout=timeout) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw[:1] == b"{" else {"raw": raw.decode()})
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, (json.loads(raw) if raw[:1] == b"{" else {"raw": raw.decode()})

    def ready(self) -> bool:
        try:
            return self.request("GET", "/readyz", timeout=3)[0] == 200
        except (OSError, urllib.error.URLError):
            return False

    def server_version(self) -> str:
        return self.request("GET", "/version")[1]["gitVersion"]

    def log_text(self, name: str = "kube-apiserver") -> str:
        path = self.workdir / ("%s.log" % name)
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for name in PROCESSES:
            proc = self.procs.pop(name, None)
            if proc is None:
                continue
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        for log in self._logs:
            log.close()
        self._logs.clear()


def _down(workdir: Path, timeout: float = 30.0) -> None:
    """End the processes `up` left running (controller manager, apiserver, then etcd), by their recorded pids."""
    for name in PROCESSES:
        pidfile = workdir / ("%s.pid" % name)
        if not pidfile.exists():
            continue
        pid = int(pidfile.read_text())
        try:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if not _alive(pid):
                    break
                time.sleep(0.2)
            else:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        pidfile.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) counts as ended
        with open("/proc/%d/stat" % pid, encoding="ascii") as stat:
            return stat.read().split(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down", "build"])
    parser.add_argument("--version", default=DEFAULT_VERSIONS[-1])
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--controller-manager", action="store_true",
                        help="also start kube-controller-manager")
    parser.add_argument("--scheduler", action="store_true",
                        help="also start kube-scheduler and the controllers of a cluster with nodes "
                             "(tools/kube/node.py)")
    args = parser.parse_args()
    if args.action == "build":
        print(ensure_built(args.version))
        if args.controller_manager:
            print(ensure_built(args.version, "kube-controller-manager"))
        return 0
    if args.dir is None:
        parser.error("--dir is required")
    if args.action == "down":
        _down(args.dir)
        return 0
    server = KubeAPIServer(args.version, args.dir, controller_manager=args.controller_manager,
                           scheduler=args.scheduler,
                           controllers=NODE_CONTROLLERS if args.scheduler else CONTROLLERS).start()
    for proc in server.procs.values():  # leave them running; `down` ends them by pid
        proc.returncode = 0
    print(server.kubeconfig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
