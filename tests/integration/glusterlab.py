# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real GlusterFS storage for the pod tests: three containers of the lab's base image with Debian's
glusterfs-server (csi/test/lab/Containerfile.storage, as the CSI mount test builds it), glusterd under systemd,
a trusted pool probed BY ADDRESS (the host's FUSE client resolves the brick names of the volfile, and container
names do not resolve on the host).

    storage = StorageLab().start()
    storage.addresses                          # the three containers' IPs, for Heketi's topology
    storage.create_volume("vol_ab12", replica=3, gid=2001)   # the stand-in for Heketi's brick creation
    storage.stop()

Heketi cannot create bricks here (its ssh executor makes thin LVs, and this kernel has no device-mapper), so the
tests run it with the mock executor and create_volume() makes, on these real glusterd containers, the volume
Heketi recorded: same name and replica count, directory bricks on tmpfs, each brick owned by the volume's GID
with mode 2775 as Heketi's executor leaves them. It is named a stand-in wherever a test calls it.
"""
from __future__ import annotations

import secrets
import subprocess
import threading
import time

from heketi_server import REPO_ROOT

BASE_IMAGE = "glusterfs-heketi/bookworm-systemd:1"
STORAGE_IMAGE = "glusterfs-heketi/csi-lab-storage:1"
LAB_DIR = REPO_ROOT / "csi" / "test" / "lab"


def docker(*args: str, check: bool = True, timeout: float = 300) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError("docker %s: rc %s: %s%s"
                           % (" ".join(args), proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
    return proc.stdout.strip()


class StorageLab:
    def __init__(self, nodes: int = 3, prefix: str = "hd-pods"):
        self.name = "%s-%s" % (prefix, secrets.token_hex(3))
        self.containers = ["%s-s%d" % (self.name, i) for i in range(1, nodes + 1)]
        self.addresses: list[str] = []
        self._started: list[str] = []
        self._network = False

    def _image(self) -> None:
        if subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True, check=False).returncode != 0:
            build = subprocess.run([str(REPO_ROOT / "tools" / "lab" / "build-image.sh")], cwd=REPO_ROOT,
                                   capture_output=True, text=True, check=False)
            if build.returncode != 0:
                raise RuntimeError("tools/lab/build-image.sh failed:\n" + build.stderr[-3000:])
        docker("build", "-q", "--build-arg", "BASE=" + BASE_IMAGE, "-t", STORAGE_IMAGE, "-f",
               str(LAB_DIR / "Containerfile.storage"), str(LAB_DIR), timeout=900)

    def gluster(self, *args: str, node: int = 0) -> str:
        return docker("exec", self.containers[node], "gluster", "--mode=script", *args)

    def start(self) -> "StorageLab":
        try:
            self._image()
            docker("network", "create", self.name)
            self._network = True
            for name in self.containers:
                docker("run", "-d", "--name", name, "--hostname", name, "--network", self.name,
                       "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined",
                       "--security-opt", "apparmor=unconfined", "--device", "/dev/fuse",
                       "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro", "--tmpfs", "/run", "--tmpfs", "/run/lock",
                       "--tmpfs", "/tmp", "--stop-signal", "SIGRTMIN+3", STORAGE_IMAGE, "/lib/systemd/systemd")
                self._started.append(name)
            self.addresses = [docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", c)
                              for c in self.containers]
            self._wait("glusterd on every storage container", lambda: all(
                subprocess.run(["docker", "exec", c, "gluster", "--mode=script", "pool", "list"],
                               capture_output=True, check=False).returncode == 0 for c in self.containers))
            for address in self.addresses[1:]:
                self.gluster("peer", "probe", address)
            self._wait("a connected pool", lambda: self.gluster("pool", "list").count("Connected")
                       == len(self.containers))
        except BaseException:
            self.stop()
            raise
        return self

    @staticmethod
    def _wait(what: str, check, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except RuntimeError:
                pass
            time.sleep(1)
        raise RuntimeError("storage lab: %s not within %ss" % (what, timeout))

    def _bricks(self, name: str, replica: int, size_gib: int, gid: int | None) -> list[str]:
        """One brick set: on each of REPLICA containers a tmpfs of SIZE_GIB (so that df in a pod shows the volume's
        size, as bricks on LVs of that size would), the brick a folder in it, owned by GID with mode 2775."""
        bricks = []
        for container, address in zip(self.containers[:replica], self.addresses):
            mount = "/tmp/bricks/%s-%s" % (name, secrets.token_hex(2))
            docker("exec", container, "sh", "-c", "mkdir -p %s && mount -t tmpfs -o size=%dg tmpfs %s && mkdir %s/brick"
                   % (mount, size_gib, mount, mount))
            if gid is not None:
                docker("exec", container, "chown", ":%d" % gid, mount + "/brick")
                docker("exec", container, "chmod", "2775", mount + "/brick")
            bricks.append("%s:%s/brick" % (address, mount))
        return bricks

    def create_volume(self, name: str, replica: int = 3, gid: int | None = None, size_gib: int = 1) -> None:
        """STAND-IN for Heketi's brick creation (see the module's text): volume NAME on real glusterd."""
        bricks = self._bricks(name, replica, size_gib, gid)
        args = ["volume", "create", name] + (["replica", str(replica)] if replica > 1 else []) + bricks
        self.gluster(*args)
        self.gluster("volume", "start", name)

    def expand_volume(self, name: str, add_gib: int, replica: int = 3, gid: int | None = None) -> None:
        """STAND-IN for Heketi's expansion: one more brick set of ADD_GIB, as Heketi adds one (distribute)."""
        bricks = self._bricks(name, replica, add_gib, gid)
        self.gluster("volume", "add-brick", name, *(["replica", str(replica)] if replica > 1 else []), *bricks)

    def volumes(self) -> list[str]:
        out = self.gluster("volume", "list")
        return [] if "No volumes" in out else out.split()

    def stop(self) -> None:
        for name in self._started:
            docker("rm", "-f", name, check=False)
        self._started = []
        if self._network:
            docker("network", "rm", self.name, check=False)
            self._network = False


class BrickStandIn:
    """STAND-IN for Heketi's brick creation while a cluster provisions (see the module's text): every new PV that
    names a Heketi volume (the in-tree provisioner's annotation, or a CSI volume handle) gets, on the storage
    containers, the GlusterFS volume Heketi recorded for it, before any pod can mount it. Runs in a thread
    beside a playbook (start/stop), or by one call (create_for)."""

    ANNOTATION = "gluster.kubernetes.io/heketi-volume-id"

    def __init__(self, api, heketi, storage: StorageLab):
        self.api, self.heketi, self.storage = api, heketi, storage
        self.created: dict[str, str] = {}  # Heketi volume id -> GlusterFS volume name
        self.sizes: dict[str, int] = {}  # Heketi volume id -> GiB made so far
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def volume_id(cls, pv: dict) -> str | None:
        annotations = pv["metadata"].get("annotations") or {}
        if cls.ANNOTATION in annotations:
            return annotations[cls.ANNOTATION]
        return (pv["spec"].get("csi") or {}).get("volumeHandle")

    def create_for(self, pv: dict) -> str:
        volume_id = self.volume_id(pv)
        if volume_id is None:
            raise RuntimeError("PV %s names no Heketi volume" % pv["metadata"]["name"])
        if volume_id not in self.created:
            info = self.heketi.get("/volumes/" + volume_id)
            self.storage.create_volume(info["name"], replica=self._replica(info), gid=info.get("gid") or None,
                                       size_gib=info["size"])
            self.created[volume_id] = info["name"]
            self.sizes[volume_id] = info["size"]
        return self.created[volume_id]

    @staticmethod
    def _replica(info: dict) -> int:
        return (info.get("durability") or {}).get("replicate", {}).get("replica", 3)

    def follow_expansion(self, volume_id: str) -> None:
        """What Heketi added to VOLUME_ID since it was made here, added to the GlusterFS volume too."""
        status, info = self.heketi.api("GET", "/volumes/" + volume_id)
        if status == 200 and info["size"] > self.sizes[volume_id]:
            self.storage.expand_volume(info["name"], info["size"] - self.sizes[volume_id], self._replica(info),
                                       info.get("gid") or None)
            self.sizes[volume_id] = info["size"]

    def _run(self) -> None:
        while not self._stop.is_set():
            status, body = self.api.request("GET", "/api/v1/persistentvolumes")
            for pv in body.get("items", []) if status == 200 else []:
                volume_id = self.volume_id(pv)
                try:
                    if volume_id and volume_id not in self.created:
                        self.create_for(pv)
                    elif volume_id and pv["status"].get("phase") != "Released":
                        self.follow_expansion(volume_id)
                except (RuntimeError, OSError) as err:
                    self.errors.append(str(err))
            self._stop.wait(0.3)

    def start(self) -> "BrickStandIn":
        self._thread = threading.Thread(target=self._run, name="brick-stand-in", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
