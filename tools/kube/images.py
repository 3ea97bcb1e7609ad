# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Container images for the tests' Kubernetes node (tools/kube/node.py), made here: no registry can be reached.

Each image is written as a docker-archive (what `docker save` writes: manifest.json, the config, one
uncompressed layer), which `ctr images import` reads, and imported into the node's own containerd (namespace
k8s.io, where the kubelet's CRI looks); pods run them with imagePullPolicy Never or IfNotPresent.

- pause_image()     the pod sandbox: tools/kube/pause/main.go, built static with the local Go, FROM scratch
- busybox_image()   a shell: Debian's busybox-static (/bin/busybox) and its applet links, FROM scratch (~2 MB)
- binary_image()    one static binary FROM scratch: csi-provisioner and csi-resizer as tools/build-csi-tools.sh
                    builds them
- docker_image()    an image of the local docker engine (`docker save`): the CSI driver's image (make csi-image)
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE = REPO_ROOT / ".cache" / "kube" / "images"
PAUSE_IMAGE = "localhost/glusterfs-heketi/pause:1"
BUSYBOX_IMAGE = "localhost/glusterfs-heketi/busybox:1"
BUSYBOX = Path(os.environ.get("KUBE_NODE_BUSYBOX", "/bin/busybox"))
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _tarinfo(name: str, kind: bytes, mode: int, size: int = 0, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.linkname = kind, mode, size, link
    info.uid = info.gid = 0
    info.mtime = 0
    return info


def _layer(files: dict[str, bytes | Path], links: dict[str, str], dirs: tuple[str, ...]) -> bytes:
    """An uncompressed layer: DIRS, regular FILES {path: content or source file} (executable), symlinks LINKS."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in dirs:
            tar.addfile(_tarinfo(d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755))
        for path, content in sorted(files.items()):
            data = content.read_bytes() if isinstance(content, Path) else content
            tar.addfile(_tarinfo(path, tarfile.REGTYPE, 0o755, len(data)), io.BytesIO(data))
        for path, target in sorted(links.items()):
            tar.addfile(_tarinfo(path, tarfile.SYMTYPE, 0o777, link=target))
    return buf.getvalue()


def write_archive(dest: Path, name: str, layer: bytes, entrypoint: list[str], cmd: list[str] | None = None,
                  user: str = "") -> Path:
    """Write the docker-archive DEST of image NAME (one LAYER)."""
    layer_id = hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": {"Entrypoint": entrypoint, "Cmd": cmd, "Env": [PATH_ENV], "WorkingDir": "/", "User": user},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + layer_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "tools/kube/images.py"}],
    }, sort_keys=True).encode()
    config_id = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": config_id + ".json", "RepoTags": [name],
                            "Layers": [layer_id + "/layer.tar"]}]).encode()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w") as tar:
        for path, data in ((layer_id + "/layer.tar", layer), (config_id + ".json", config),
                           ("manifest.json", manifest)):
            tar.addfile(_tarinfo(path, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
    return dest


def _go_env() -> dict:
    env = dict(os.environ, CGO_ENABLED="0", GOTOOLCHAIN="local", GOFLAGS="", GO111MODULE="off")
    env.setdefault("GOPATH", str(Path(env.get("GLUSTERFS_HEKETI_CACHE") or Path.home() / ".cache" / "glusterfs-heketi")
                                 / "go"))
    return env


def pause_binary() -> Path:
    """tools/kube/pause/main.go built static, cached by the source's digest."""
    source = Path(__file__).resolve().parent / "pause" / "main.go"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    binary = CACHE / ("pause-" + digest)
    if not os.access(binary, os.X_OK):
        CACHE.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["go", "build", "-trimpath", "-ldflags", "-s -w", "-o", str(binary) + ".new",
                               str(source)], cwd=source.parent, env=_go_env(), capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            raise RuntimeError("go build of the pause program failed:\n" + proc.stderr[-3000:])
        os.replace(str(binary) + ".new", binary)
    return binary


def pause_image(dest: Path) -> tuple[str, Path]:
    layer = _layer({"pause": pause_binary()}, {}, ())
    return PAUSE_IMAGE, write_archive(dest / "pause.tar", PAUSE_IMAGE, layer, ["/pause"])


def busybox_image(dest: Path) -> tuple[str, Path]:
    """/bin/sh and every applet of Debian's busybox-static, FROM scratch."""
    if not os.access(BUSYBOX, os.X_OK):
        raise RuntimeError("%s is missing: install Debian's busybox-static (tools/install-system.sh)" % BUSYBOX)
    listing = subprocess.run([str(BUSYBOX), "--list-full"], capture_output=True, text=True, check=True).stdout
    links = {}
    for applet in listing.split():
        if applet != "bin/busybox":
            links[applet] = "/bin/busybox"
    layer = _layer({"bin/busybox": BUSYBOX}, links, ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "tmp", "etc"))
    return BUSYBOX_IMAGE, write_archive(dest / "busybox.tar", BUSYBOX_IMAGE, layer, [], ["/bin/sh"])


def binary_image(dest: Path, name: str, binary: Path) -> tuple[str, Path]:
    """Image NAME: the static BINARY as /<basename> and its entrypoint, FROM scratch (and /tmp)."""
    base = binary.name
    layer = _layer({base: binary}, {}, ("tmp",))
    return name, write_archive(dest / (base + ".tar"), name, layer, ["/" + base])


def docker_image(dest: Path, name: str) -> tuple[str, Path]:
    """Image NAME of the local docker engine, saved as a docker-archive."""
    if shutil.which("docker") is None:
        raise RuntimeError("docker is required to save %s" % name)
    path = dest / (name.replace("/", "_").replace(":", "_") + ".tar")
    path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["docker", "save", "-o", str(path), name], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("docker save %s failed: %s" % (name, proc.stderr.strip()))
    return name, path


def import_archive(socket: Path, archive: Path) -> None:
    """Import ARCHIVE into the containerd of SOCKET (namespace k8s.io, unpacked for the overlayfs snapshotter)."""
    proc = subprocess.run(["ctr", "--address", str(socket), "--namespace", "k8s.io", "images", "import",
                           "--snapshotter", "overlayfs", str(archive)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("ctr images import %s failed: %s" % (archive, proc.stderr.strip()))


def tag(socket: Path, source: str, target: str) -> None:
    """Give the imported image SOURCE the name TARGET too (what a manifest names it)."""
    proc = subprocess.run(["ctr", "--address", str(socket), "--namespace", "k8s.io", "images", "tag", "--force",
                           _full(source), _full(target)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("ctr images tag %s %s failed: %s" % (source, target, proc.stderr.strip()))


def _full(name: str) -> str:
    """NAME as containerd stores it (docker.io/library/ for a name without a registry)."""
    first = name.split("/", 1)[0]
    if "/" not in name:
        return "docker.io/library/" + name
    if "." not in first and ":" not in first and first != "localhost":
        return "docker.io/" + name
    return name
