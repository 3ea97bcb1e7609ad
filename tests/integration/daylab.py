# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A container lab (tools/lab/lab) driven as the day-2 tests drive it: playbooks run against an inventory in
inventories/local's layout, commands in the containers, Heketi's CLI on its host.

    lab = DayLab("hy1", nodes=4)           # lab up (a no-op when it runs already)
    inv = lab.inventory(tmp, storage=[1, 2, 3], groups={"heketi": [1], "heketi_standby": [4]})
    lab.play(inv, "site.yml", "--tags", "glusterfs_servers,heketi,topology")
    lab.sh(1, "gluster pool list"); lab.heketi(1, "topology", "info", "--json")
    lab.down()
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LAB_TOOL = ROOT / "tools" / "lab" / "lab"
BINARIES = ROOT / ".cache" / "heketi" / "bin"


class DayLab:
    def __init__(self, name: str, nodes: int):
        self.name = name
        up = subprocess.run([str(LAB_TOOL), "up", "--name", name, "--nodes", str(nodes)], cwd=ROOT,
                            capture_output=True, text=True, check=False)
        if up.returncode != 0:
            pytest.fail("lab up %s: %s" % (name, up.stderr[-3000:]), pytrace=False)
        self.inventory_file = Path(up.stdout.split()[-1])
        self.hosts = yaml.safe_load(self.inventory_file.read_text())["all"]["children"]["glusterfs_servers"]["hosts"]

    def down(self):
        subprocess.run([str(LAB_TOOL), "down", "--name", self.name], cwd=ROOT, capture_output=True, check=False)

    def address(self, node: int) -> str:
        return self.hosts["node%d" % node]["ansible_host"]

    def inventory(self, path: Path, storage, groups: dict, host_vars: dict | None = None) -> Path:
        """inventories/local's group_vars, node<i> for i in ``storage`` as storage nodes, ``groups`` {name: [i]}."""
        lab_inv = yaml.safe_load(self.inventory_file.read_text())["all"]
        path.mkdir(parents=True, exist_ok=True)
        gv = path / "group_vars"
        if not gv.exists():
            gv.symlink_to(ROOT / "inventories" / "local" / "group_vars")

        def hosts(numbers):
            return {"node%d" % i: dict(self.hosts["node%d" % i], **(host_vars or {}).get(i, {})) for i in numbers}
        children = {"glusterfs_servers": {"hosts": hosts(storage)}}
        children.update({name: {"hosts": hosts(numbers)} for name, numbers in groups.items()})
        (path / "hosts.yml").write_text(json.dumps({"all": {
            "vars": dict(lab_inv.get("vars") or {}, lab_name=self.name, lab_dir=str(self.inventory_file.parent)),
            "children": children}}, indent=1))
        return path

    def play(self, inv: Path, playbook: str, *args: str, ansible_playbook: Path | None = None,
             timeout: int = 3600) -> subprocess.CompletedProcess:
        binary = ansible_playbook or ROOT / ".venv" / "bin" / "ansible-playbook"
        cmd = [str(binary), playbook, "-i", str(inv), "-e", "heketi_binaries_src=%s" % BINARIES, *args]
        env = dict(os.environ, LAB_NAME=self.name, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        proc.output = proc.stdout + proc.stderr
        return proc

    def sh(self, node: int, command: str, check: bool = True, user: str | None = None) -> subprocess.CompletedProcess:
        cmd = ["docker", "exec"] + (["-u", user] if user else []) + ["%s-node%d" % (self.name, node), "sh", "-c", command]
        return subprocess.run(cmd, capture_output=True, text=True, check=check)

    def heketi(self, node: int, *args: str, check: bool = True) -> str:
        return self.sh(node, "set -a; . /etc/heketi/heketi-cli.env; set +a; heketi-cli " + " ".join(args),
                       check=check).stdout

    def udev_links(self, node: int) -> None:
        """The /dev/disk/by-id/lvm-pv-uuid-* links udev makes on a real host (the lab's containers run no udev):
        Heketi records that alias for each device and runs LVM commands through it."""
        self.sh(node, "mkdir -p /dev/disk/by-id; pvs --noheadings -o pv_name,pv_uuid | while read -r pv uuid; do "
                      "ln -sfn \"$pv\" /dev/disk/by-id/lvm-pv-uuid-$uuid; done")

    def topology(self, node: int = 1) -> dict:
        return json.loads(self.heketi(node, "topology", "info", "--json"))


def recap(proc) -> dict:
    """{host: {"ok": n, "changed": n, ...}} from PLAY RECAP."""
    out = {}
    for line in proc.stdout.split("PLAY RECAP")[-1].splitlines()[1:]:
        parts = line.split(":", 1)
        if len(parts) == 2 and "=" in parts[1]:
            out[parts[0].strip()] = {k: int(v) for k, v in (kv.split("=") for kv in parts[1].split())}
    return out


def wait_for(what, predicate, seconds):
    """Poll ``predicate`` once a second until it holds; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    pytest.fail("%s: not within %d s" % (what, seconds))


# Start the backup service once and print what that run wrote to the journal. Its lines reach the journal
# after `systemctl start` returns (journald reads the unit's stdout stream on its own time; under load seconds
# later), so wait for the run's last line, selected by its invocation id, not by the newest lines of the unit.
BACKUP_SERVICE_RUN = (
    "systemctl start heketi-backup.service && "
    "id=$(systemctl show -p InvocationID --value heketi-backup.service) && "
    "for i in $(seq 120); do "
    "out=$(journalctl -o cat _SYSTEMD_INVOCATION_ID=$id); "
    "case $out in *'rotated out'*|*failed*) break;; esac; sleep 0.5; done; echo \"$out\""
)
