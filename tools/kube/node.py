# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A REAL Kubernetes node for the tests: the kubelet built beside kube-apiserver (tools/build-kube-apiserver.sh)
and a containerd of its own, registered with a control plane of tools/kube/kubelab.py.

    api = KubeAPIServer("v1.37.2", dir1, controller_manager=True, scheduler=True).start()
    node = KubeNode(api, dir2).start()        # containerd + kubelet, images imported, node Ready
    node.pod_log("default", "writer")         # the pod's output (kubectl logs cannot reach this kubelet)
    node.exec("default", "writer", ["df", "-k", "/data"])
    node.stop()                               # everything it made on the host is gone

What it runs, and why so (the facts are in shared/TEST-ENVIRONMENT.md, "A real kubelet"):

- Debian's containerd 1.6 as a SECOND instance: config, root and socket in the node's folder, state under a
  private /run; never docker's. Its CRI plugin runs Debian's runc with `restrict_oom_score_adj = true` (this
  VM lacks CAP_SYS_RESOURCE: without it every sandbox fails, "can't get final child's PID from pipe"),
  `SystemdCgroup = false`, the overlayfs snapshotter, the pause image of tools/kube/images.py, and CNI from
  Debian's containernetworking-plugins (/usr/lib/cni): one bridge of the node's own name, no gateway, no IP
  masquerade (no iptables rule): its gateway address on the bridge, in a /24 of 10.200.0.0/13 that no route of
  the host uses yet, lets the kubelet reach its pods (probes); the route goes with the bridge.
- Both run as children of `node.py init`, PID 1 of a PID namespace and a private mount namespace of their own
  (unshare). In it: tmpfs on /run; the node's folder's var-lib and var-log on /var/lib and /var/log (the kubelet
  makes /var/lib/kubelet/device-plugins, /var/log/pods and /var/log/containers whatever its flags say); the
  kubelet's root, /var/lib/kubelet (the default, as the CSI manifests expect it), bind-mounted onto itself and
  made rshared (containerd refuses a Bidirectional hostPath on a private mount); and plain files over the
  kernel settings the kubelet rewrites (vm.overcommit_memory, vm.panic_on_oom, kernel.panic,
  kernel.panic_on_oops, kernel.keys.root_maxkeys, kernel.keys.root_maxbytes). When the init ends, the kernel
  ends every process of the namespace (containers, shims, FUSE clients) and every mount dies with it. A
  hostPID pod sees the init as PID 1: a CSI node plugin that mounts "in the node's namespaces" enters this one.
- What a namespace cannot hold is removed by stop(): the node's cgroups (the kubelet's --cgroup-root is
  /<node id>, so its kubepods never meet another kubelet's) and the CNI bridge.
- The kubelet: cgroupfs driver, 127.0.0.1 for its API and healthz on free ports, no iptables chains, swap and
  kernel defaults left alone, images never garbage-collected, eviction only at 1 % free, the flex-volume
  folder under /var/lib/kubelet, and the lab's admin kubeconfig as its credential; on 1.27+ the runtime
  endpoint in its config, on 1.31+ `failCgroupV1: false` (this host is cgroup v1).

By hand (beside `kubelab.py up --controller-manager --scheduler`):
    .venv/bin/python tools/kube/node.py up --kube-dir /tmp/kube137 --dir /tmp/node137
    .venv/bin/python tools/kube/node.py down --dir /tmp/node137
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import images  # noqa: E402
from kubelab import KubeAPIServer, ensure_built, free_port  # noqa: E402

CGROUP_FS = Path("/sys/fs/cgroup")
CNI_BIN = Path(os.environ.get("KUBE_NODE_CNI_BIN", "/usr/lib/cni"))
SYSCTLS = ("vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
           "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes",
           # The CNI bridge plugin turns forwarding on for its gateway (the host reaches the pods without it).
           "net/ipv4/ip_forward")
REQUIRED = ("containerd", "runc", "ctr", "unshare", "mount", "ip")
INIT_LOG = "init.log"


def minor(version: str) -> int:
    return int(version.lstrip("v").split(".")[1])


def _cgroup_hierarchies() -> list[Path]:
    """Every cgroup hierarchy mounted under /sys/fs/cgroup (v1 controllers, name=systemd, the unified one)."""
    out = []
    with open("/proc/self/mountinfo", encoding="utf-8") as mountinfo:
        for line in mountinfo:
            fields = line.split()
            fstype = fields[fields.index("-") + 1]
            if fstype in ("cgroup", "cgroup2") and fields[4].startswith(str(CGROUP_FS) + "/"):
                out.append(Path(fields[4]))
    return out


def make_cgroup(name: str) -> None:
    """/<name> in every hierarchy (the kubelet's --cgroup-root must exist); cpuset gets its parent's CPUs and
    memory nodes (a new v1 cpuset has none)."""
    for hierarchy in _cgroup_hierarchies():
        path = hierarchy / name
        path.mkdir(exist_ok=True)
        for knob in ("cpuset.cpus", "cpuset.mems"):
            if (path / knob).exists() and not (path / knob).read_text().strip():
                (path / knob).write_text((hierarchy / knob).read_text())


def remove_cgroup(name: str, timeout: float = 30.0) -> list[str]:
    """Remove /<name> and everything under it from every hierarchy; return what could not be removed."""
    deadline = time.monotonic() + timeout
    while True:
        left = []
        for hierarchy in _cgroup_hierarchies():
            top = hierarchy / name
            if not top.exists():
                continue
            for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda entry: -len(entry[0])):
                try:
                    os.rmdir(dirpath)
                except FileNotFoundError:
                    pass
                except OSError:
                    left.append(dirpath)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


def link_exists(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", "dev", name], capture_output=True, check=False).returncode == 0


class KubeNode:
    """One node: containerd + kubelet of API's version, in a PID and mount namespace of their own, in WORKDIR."""

    def __init__(self, api: KubeAPIServer, workdir: Path, name: str = "node-1", node_id: str | None = None,
                 extra_images: list[tuple[str, Path]] | None = None):
        self.api = api
        self.version = api.version
        self.name = name
        # Unique on this host: the cgroup root and the bridge (15 characters at most) carry it.
        self.node_id = node_id or "kn" + secrets.token_hex(4)
        self.bridge = self.node_id[:15]
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o700)
        self.socket = self.workdir / "containerd.sock"
        self.varlib = self.workdir / "var-lib"
        self.varlog = self.workdir / "var-log"
        self.extra_images = list(extra_images or [])
        self.proc: subprocess.Popen | None = None
        self._log = None
        self.kubelet = None

    # -- set-up ----------------------------------------------------------------------------------
    def _check_host(self) -> None:
        path = os.environ.get("PATH", "").split(":") + ["/usr/sbin", "/sbin"]
        missing = [c for c in REQUIRED if not any(os.access(Path(d) / c, os.X_OK) for d in path)]
        if not (CNI_BIN / "bridge").exists():
            missing.append(str(CNI_BIN / "bridge"))
        if missing:
            raise RuntimeError("the Kubernetes node needs %s (tools/install-system.sh installs containerd, runc, "
                               "containernetworking-plugins)" % ", ".join(missing))

    def _containerd_config(self) -> str:
        work = self.workdir
        return "\n".join([
            "version = 2",
            'root = "%s"' % (work / "containerd-root"),
            'state = "/run/containerd"',
            "disabled_plugins = [\"io.containerd.snapshotter.v1.aufs\", \"io.containerd.snapshotter.v1.btrfs\", "
            "\"io.containerd.snapshotter.v1.zfs\", \"io.containerd.snapshotter.v1.devmapper\"]",
            "[grpc]",
            '  address = "%s"' % self.socket,
            "[ttrpc]",
            '  address = "%s.ttrpc"' % self.socket,
            "[debug]",
            '  address = ""',
            "[metrics]",
            '  address = ""',
            # Its default, /opt/containerd, is outside the namespace's private folders.
            '[plugins."io.containerd.internal.v1.opt"]',
            '  path = "%s"' % (work / "containerd-opt"),
            '[plugins."io.containerd.grpc.v1.cri"]',
            '  sandbox_image = "%s"' % images.PAUSE_IMAGE,
            "  restrict_oom_score_adj = true",
            '  stream_server_address = "127.0.0.1"',
            '  stream_server_port = "0"',
            '  [plugins."io.containerd.grpc.v1.cri".containerd]',
            '    snapshotter = "overlayfs"',
            '    default_runtime_name = "runc"',
            '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
            '      runtime_type = "io.containerd.runc.v2"',
            '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
            "        SystemdCgroup = false",
            '  [plugins."io.containerd.grpc.v1.cri".cni]',
            '    bin_dir = "%s"' % CNI_BIN,
            '    conf_dir = "%s"' % (work / "cni"),
            "",
        ])

    @staticmethod
    def _subnet() -> str:
        """A /24 of 10.200.0.0/13 that no route of the host names (another node's bridge, a docker network)."""
        routes = subprocess.run(["ip", "-4", "route", "show"], capture_output=True, text=True, check=False).stdout
        for attempt in range(100):
            subnet = "10.%d.%d.0/24" % (200 + secrets.randbelow(8), secrets.randbelow(256))
            if subnet.rsplit(".", 1)[0] + "." not in routes:
                return subnet
        raise RuntimeError("no free /24 in 10.200.0.0/13 for the node's pods")

    def _cni_config(self) -> dict:
        return {"cniVersion": "0.4.0", "name": self.node_id, "plugins": [{
            "type": "bridge", "bridge": self.bridge, "isGateway": True, "ipMasq": False, "hairpinMode": False,
            "ipam": {"type": "host-local", "ranges": [[{"subnet": self._subnet()}]],
                     "dataDir": "/var/lib/cni/networks"}}]}

    def _kubelet_config(self) -> dict:
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
            "cgroupDriver": "cgroupfs", "cgroupRoot": "/" + self.node_id,
            "address": "127.0.0.1", "port": free_port(), "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1", "healthzPort": free_port(),
            "makeIPTablesUtilChains": False, "failSwapOn": False, "protectKernelDefaults": False,
            "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": False}},
            "authorization": {"mode": "AlwaysAllow"},
            "hairpinMode": "none",
            "volumePluginDir": "/var/lib/kubelet/volumeplugins",
            "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
            "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%", "nodefs.inodesFree": "1%",
                             "imagefs.available": "1%"},
            "nodeStatusUpdateFrequency": "5s",
            "syncFrequency": "10s",
            "fileCheckFrequency": "10s",
            "resolvConf": "/etc/resolv.conf",
        }
        if minor(self.version) >= 27:
            config["containerRuntimeEndpoint"] = "unix://%s" % self.socket
        if minor(self.version) >= 31:
            config["failCgroupV1"] = False
        return config

    def _write_files(self) -> dict:
        for d in (self.varlib / "kubelet", self.varlog, self.workdir / "cni", self.workdir / "sysctl",
                  self.workdir / "images"):
            d.mkdir(parents=True, exist_ok=True)
        (self.workdir / "containerd.toml").write_text(self._containerd_config())
        (self.workdir / "cni" / "10-node.conflist").write_text(json.dumps(self._cni_config(), indent=1))
        kubelet_config = self._kubelet_config()
        self.kubelet = kubelet_config
        (self.workdir / "kubelet.json").write_text(json.dumps(kubelet_config, indent=1))
        sysctls = {}
        for key in SYSCTLS:
            source = Path("/proc/sys") / key
            if source.exists():
                stand_in = self.workdir / "sysctl" / key.replace("/", ".")
                stand_in.write_text(source.read_text())
                sysctls[str(source)] = str(stand_in)
        argv = [str(ensure_built(self.version, "kubelet")), "--config", str(self.workdir / "kubelet.json"),
                "--kubeconfig", str(self.api.kubeconfig), "--hostname-override", self.name, "--v", "2"]
        if minor(self.version) < 27:
            argv += ["--container-runtime-endpoint", "unix://%s" % self.socket]
        spec = {
            "workdir": str(self.workdir), "socket": str(self.socket), "sysctls": sysctls,
            "binds": {"/var/lib": str(self.varlib), "/var/log": str(self.varlog)},
            "containerd": ["containerd", "--config", str(self.workdir / "containerd.toml")],
            "kubelet": argv,
        }
        (self.workdir / "node.json").write_text(json.dumps(spec, indent=1))
        return spec

    def start(self, timeout: float = 120.0) -> "KubeNode":
        self._check_host()
        self._write_files()
        make_cgroup(self.node_id)
        self._log = open(self.workdir / INIT_LOG, "ab")
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--pid", "--fork", "--mount-proc", "--propagation", "private",
             "--kill-child=SIGTERM", sys.executable, str(Path(__file__).resolve()), "init",
             str(self.workdir / "node.json")],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            cwd=self.workdir, env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                   "LANG": "C.UTF-8"})
        (self.workdir / "unshare.pid").write_text(str(self.proc.pid))
        try:
            self._wait(self.socket.exists, 60, "containerd's socket")
            self.import_images()
            self._wait(self.ready, timeout, "node %s Ready" % self.name)
        except BaseException:
            self.stop()
            raise
        return self

    def import_images(self) -> None:
        dest = self.workdir / "images"
        archives = [images.pause_image(dest), images.busybox_image(dest)] + self.extra_images
        for _name, archive in archives:
            images.import_archive(self.socket, archive)

    def import_image(self, name: str, archive: Path, *aliases: str) -> None:
        images.import_archive(self.socket, archive)
        for alias in aliases:
            images.tag(self.socket, name, alias)

    def _wait(self, check, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError("the node's namespace ended (rc %s) while waiting for %s:\n%s"
                                   % (self.proc.returncode, what, self.logs()))
            if check():
                return
            time.sleep(0.5)
        raise RuntimeError("%s: not within %ss:\n%s" % (what, timeout, self.logs()))

    def logs(self, lines: int = 40) -> str:
        out = []
        for name in (INIT_LOG, "containerd.log", "kubelet.log"):
            path = self.workdir / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                out.append("== %s\n%s" % (name, "\n".join(tail)))
        return "\n".join(out)

    def ready(self) -> bool:
        status, body = self.api.request("GET", "/api/v1/nodes/" + self.name)
        if status != 200:
            return False
        conditions = {c["type"]: c["status"] for c in body.get("status", {}).get("conditions", [])}
        # Schedulable too: the not-ready taint the kubelet registers with is lifted (node lifecycle controller).
        taints = [t["key"] for t in body.get("spec", {}).get("taints") or []]
        return conditions.get("Ready") == "True" and "node.kubernetes.io/not-ready" not in taints

    # -- pods --------------------------------------------------------------------------------------
    def pod_log(self, namespace: str, pod: str, container: str | None = None) -> str:
        """The pod's output as the kubelet keeps it (/var/log/pods in the namespace = var-log/pods here), CRI
        log lines reduced to their text."""
        lines = []
        for path in sorted(self.varlog.glob("pods/%s_%s_*/%s/*.log" % (namespace, pod, container or "*"))):
            for line in path.read_text(errors="replace").splitlines():
                parts = line.split(" ", 3)
                lines.append(parts[3] if len(parts) == 4 else line)
        return "\n".join(lines)

    def container_id(self, namespace: str, pod: str, container: str | None = None) -> str:
        status, body = self.api.request("GET", "/api/v1/namespaces/%s/pods/%s" % (namespace, pod))
        if status != 200:
            raise RuntimeError("pod %s/%s: %s %s" % (namespace, pod, status, body))
        for cstatus in body.get("status", {}).get("containerStatuses", []):
            if container in (None, cstatus["name"]) and cstatus.get("containerID"):
                return cstatus["containerID"].split("://", 1)[1]
        raise RuntimeError("pod %s/%s has no running container %s" % (namespace, pod, container or ""))

    def exec(self, namespace: str, pod: str, argv: list[str], container: str | None = None,
             check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        """ARGV in the pod's container, through containerd (`kubectl exec` cannot reach this kubelet)."""
        fifos = self.workdir / "fifo"  # not ctr's default, /run/containerd/fifo: the namespace has its own /run
        fifos.mkdir(exist_ok=True)
        proc = subprocess.run(["ctr", "--address", str(self.socket), "--namespace", "k8s.io", "tasks", "exec",
                               "--fifo-dir", str(fifos), "--exec-id", "exec-" + secrets.token_hex(4),
                               self.container_id(namespace, pod, container), *argv],
                              capture_output=True, text=True, check=False, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise RuntimeError("exec %s in %s/%s: rc %s: %s%s"
                               % (argv, namespace, pod, proc.returncode, proc.stdout, proc.stderr))
        return proc

    def mounts(self) -> list[str]:
        """The node namespace's mount table (mountinfo lines), as the kubelet sees it."""
        pid = self.init_pid()
        if pid is None:
            return []
        try:
            return Path("/proc/%d/mountinfo" % pid).read_text().splitlines()
        except OSError:
            return []

    def init_pid(self) -> int | None:
        """The host's PID of `node.py init` (PID 1 of the node's namespace)."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        try:
            children = Path("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)).read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    # -- tear-down ---------------------------------------------------------------------------------
    def stop(self, timeout: float = 60.0) -> list[str]:
        """End the namespace (the kubelet, containerd, every container and mount in it), then remove the cgroups
        and the bridge; return what could not be removed (empty: the host is as it was)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                # The init stops the kubelet, then containerd; unshare ends once the init has.
                pid = self.init_pid()
                if pid:
                    os.kill(pid, signal.SIGTERM)
                else:
                    self.proc.send_signal(signal.SIGTERM)  # passed on to the init (--kill-child)
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    pid = self.init_pid()
                    if pid:
                        os.kill(pid, signal.SIGKILL)  # PID 1 of the namespace: the kernel ends the rest
                    self.proc.wait(timeout=30)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return cleanup(self.node_id, self.bridge)


def cleanup(node_id: str, bridge: str) -> list[str]:
    left = remove_cgroup(node_id)
    if link_exists(bridge):
        subprocess.run(["ip", "link", "delete", "dev", bridge], capture_output=True, check=False)
        if link_exists(bridge):
            left.append("link " + bridge)
    return left


# -- PID 1 of the node's namespace ------------------------------------------------------------------
def init(spec_path: str) -> int:
    """Mount the namespace's private folders, start containerd then the kubelet, reap every orphan; on SIGTERM
    stop the kubelet, then containerd, then return (the kernel ends what is left of the namespace)."""
    spec = json.loads(Path(spec_path).read_text())
    work = Path(spec["workdir"])

    def sh(*argv: str) -> None:
        subprocess.run(list(argv), check=True)

    sh("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run")
    for target, source in spec["binds"].items():
        sh("mount", "--bind", source, target)
    Path("/var/lib/kubelet").mkdir(exist_ok=True)
    sh("mount", "--bind", "/var/lib/kubelet", "/var/lib/kubelet")
    sh("mount", "--make-rshared", "/var/lib/kubelet")
    for target, source in spec["sysctls"].items():
        sh("mount", "--bind", source, target)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))

    def spawn(name: str) -> subprocess.Popen:
        log = open(work / ("%s.log" % name), "ab")
        return subprocess.Popen(spec[name], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=work)

    def reap() -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for proc in procs.values():  # ours: keep its exit status for poll()
                if proc.pid == pid:
                    proc.returncode = os.waitstatus_to_exitcode(status)

    containerd = spawn("containerd")
    procs = {"containerd": containerd}
    socket_path = Path(spec["socket"])
    deadline = time.monotonic() + 60
    while not socket_path.exists() and time.monotonic() < deadline and containerd.poll() is None and not stopping:
        time.sleep(0.2)
    procs["kubelet"] = spawn("kubelet")
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None:
                print("node init: %s exited with %s" % (name, proc.returncode), flush=True)
                stopping.append(True)
        reap()
        time.sleep(0.5)
    for name in ("kubelet", "containerd"):
        proc = procs[name]
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    print("node init: stopped", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down", "init"])
    parser.add_argument("spec", nargs="?", help="init: the node.json written by up")
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--kube-dir", type=Path, help="up: the folder of a running `kubelab.py up`")
    parser.add_argument("--version", default=None)
    parser.add_argument("--name", default="node-1")
    args = parser.parse_args()
    if args.action == "init":
        return init(args.spec)
    if args.dir is None:
        parser.error("--dir is required")
    if args.action == "down":
        state = json.loads((args.dir / "node-state.json").read_text())
        pid = int((args.dir / "unshare.pid").read_text())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 60
        while Path("/proc/%d" % pid).exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        left = cleanup(state["node_id"], state["bridge"])
        print("left on the host: %s" % (left or "nothing"))
        return 1 if left else 0
    if args.kube_dir is None:
        parser.error("up needs --kube-dir")
    api = KubeAPIServer.attach(args.kube_dir, args.version)
    node = KubeNode(api, args.dir, name=args.name).start()
    (args.dir / "node-state.json").write_text(json.dumps({"node_id": node.node_id, "bridge": node.bridge}))
    node.proc = None  # left running; `down` ends it
    print("node %s Ready (%s)" % (node.name, node.node_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
