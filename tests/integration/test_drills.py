# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Drills: what an operator gets wrong, run as real ansible-playbook runs of site.yml.

1. Inventory mistakes (devices given as a string, zone 0, one address on two hosts, a bad device path)
   stop in the preflight play with a message naming the host and the variable. These runs point
   inventories/local at a lab that does not exist, so any attempt to contact a host would fail
   differently: they prove that nothing was touched.
2. On a real lab (tools/lab/lab, 4 nodes, the real Heketi with the ssh executor):
   - a device holding a filesystem with data stops the topology stage, naming node and device, and
     the data is still there afterwards (the wipe switch is off);
   - a storage node stopped before the topology stage makes the run fail naming it;
   - once it is back, a rerun of site.yml completes and Heketi holds every node and device once.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"
LAB_TOOL = ROOT / "tools" / "lab" / "lab"
DRILL_LAB = os.environ.get("DRILL_LAB_NAME", "ghdrill")
SEED_TOPOLOGY = ROOT / "tests" / "integration" / "topologies" / "seed-topology.json"


def run_site(*args, lab=DRILL_LAB, extra_inventory=None, timeout=3600):
    cmd = [str(PLAYBOOK), "site.yml", "-i", "inventories/local"]
    if extra_inventory:
        cmd += ["-i", str(extra_inventory)]
    cmd += list(args)
    env = dict(os.environ, LAB_NAME=lab, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    proc.output = proc.stdout + proc.stderr
    return proc


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def dexec(container, command, check=True):
    return docker("exec", container, "sh", "-c", command, check=check)


# --- 1. inventory mistakes -------------------------------------------------------------------

MISTAKES = {
    "devices_as_string": (
        {"node2": {"topology_devices": "/dev/sdf /dev/sdg"}},
        ["node2: topology_devices must be a list"],
    ),
    "zone_zero": (
        {"node3": {"topology_zone": 0}},
        ["node3: topology_zone must be an integer >= 1, got 0"],
    ),
    "same_address_on_two_hosts": (
        {"node4": {"topology_manage": "node2"}},
        ["node4: topology_manage address node2 is also used by node2"],
    ),
    "bad_device_path": (
        {"node1": {"topology_devices": ["/dev/sdf", "sdg"]}},
        ["node1: topology_devices[1] must be an absolute device path"],
    ),
    "several_at_once": (
        {"node2": {"topology_zone": "zero"}, "node3": {"topology_storage": "node1"}},
        ["node2: topology_zone must be an integer >= 1", "node3: topology_storage address node1 is also used by node1"],
    ),
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_inventory_mistake_stops_in_preflight(tmp_path, case):
    hostvars, expected = MISTAKES[case]
    inv = tmp_path / "mistake.yml"
    inv.write_text(json.dumps({"all": {"children": {"glusterfs_servers": {"hosts": hostvars}}}}))
    proc = run_site(lab="ghdrill-absent", extra_inventory=inv)
    assert proc.returncode != 0, proc.output[-3000:]
    assert "Topology inventory mistakes (nothing was changed)" in proc.output, proc.output[-3000:]
    for message in expected:
        assert message in proc.output, proc.output[-3000:]
    # The run ended in the first play: no later stage started, no host was contacted.
    assert "PLAY [Prepare the GlusterFS storage nodes]" not in proc.output
    assert "UNREACHABLE" not in proc.output


# Every role's checks that need no host run first, for site.yml and for each stage playbook run alone (issue 25):
# a weak key stops the run before the GlusterFS stage, naming the key that is wrong and the one rule.
WEAK_KEY_RULE = "The rule for Heketi's JWT keys: at least 32 characters, not a sample placeholder"


@pytest.mark.parametrize("playbook", ["site.yml", "playbooks/heketi.yml"])
def test_weak_admin_key_stops_before_any_stage(playbook):
    cmd = [str(PLAYBOOK), playbook, "-i", "inventories/local", "-e", "heketi_admin_key=admin@123"]
    env = dict(os.environ, LAB_NAME="ghdrill-absent", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert "node1: heketi_admin_key is wrong: it is shorter than 32 characters and it is a known sample placeholder." in output
    assert WEAK_KEY_RULE in output
    assert "heketi_user_key" not in output.split("heketi_admin_key is wrong", 1)[1].split("\n", 1)[0]
    # No stage started and no host was contacted (the lab does not exist: any contact is UNREACHABLE).
    assert "PLAY [Prepare the GlusterFS storage nodes]" not in output
    assert "PLAY [Read the storage nodes' ssh host keys" not in output
    assert "UNREACHABLE" not in output


@pytest.mark.parametrize("playbook, extra, expected", [
    ("playbooks/glusterfs_servers.yml", {"glusterfs_server_firewall_ports": ["99999/tcp"]},
     "glusterfs_server_firewall_ports: '99999/tcp' is not PORT/PROTO"),
    ("playbooks/glusterfs_clients.yml", {"glusterfs_client_version": "10.4"},
     "glusterfs_client_version (10.4) must be a GlusterFS major version"),
    ("playbooks/storageclass.yml", {"storageclass_name": "Bad_Name"},
     "storageclass_name 'Bad_Name' is not a valid Kubernetes object name"),
    ("site.yml", {"storageclass_name": "Bad_Name"},
     "storageclass_name 'Bad_Name' is not a valid Kubernetes object name"),
])
def test_each_stage_checks_its_variables_before_contacting_a_host(playbook, extra, expected):
    cmd = [str(PLAYBOOK), playbook, "-i", "inventories/local", "-e", json.dumps(extra)]
    env = dict(os.environ, LAB_NAME="ghdrill-absent", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert expected in output, output[-3000:]
    assert "UNREACHABLE" not in output
    assert "Gathering Facts" not in output


def test_correct_inventory_passes_preflight():
    """The same check accepts the shipped inventory (the failing cases above are not a broken check)."""
    proc = run_site("--tags", "preflight_only", lab="ghdrill-absent")
    assert proc.returncode == 0, proc.output[-3000:]
    assert "node1                      : ok=" in proc.output


def test_seed_topology_json_is_taken_as_is(tmp_path):
    """topology_src with the seed's own topology.json passes the preflight unchanged once the device check is
    turned off: its 192.168.1.x nodes are no host of inventories/local, so their devices cannot be checked,
    and with the check on that stops the run naming them."""
    assert SEED_TOPOLOGY.is_file(), SEED_TOPOLOGY
    refused = run_site("--tags", "preflight_only", "-e", f"topology_src={SEED_TOPOLOGY}", lab="ghdrill-absent")
    assert refused.returncode != 0, refused.output[-3000:]
    assert "4 node(s) match no host of the inventory group glusterfs_servers" in refused.output, refused.output[-3000:]
    assert "clusters[0].nodes[3] (manage 192.168.1.50)" in refused.output
    proc = run_site("--tags", "preflight_only", "-e", f"topology_src={SEED_TOPOLOGY}", "-e", "topology_check_devices=false",
                    lab="ghdrill-absent")
    assert proc.returncode == 0, proc.output[-3000:]


# --- 2. on a real lab ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def drill_lab():
    """A 4-node lab (and the Kubernetes-node container site.yml also converges) with GlusterFS and Heketi
    converged but no topology loaded yet."""
    up = subprocess.run([str(LAB_TOOL), "up", "--name", DRILL_LAB, "--nodes", "4", "--client"],
                        cwd=ROOT, capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stderr[-3000:]
    try:
        proc = run_site("--tags", "glusterfs_servers,heketi")
        assert proc.returncode == 0, proc.output[-5000:]
        yield DRILL_LAB
    finally:
        subprocess.run([str(LAB_TOOL), "down", "--name", DRILL_LAB], cwd=ROOT, capture_output=True, check=False)


def heketi_topology(lab):
    out = dexec(f"{lab}-node1", "set -a; . /etc/heketi/heketi-cli.env; set +a; heketi-cli topology info --json").stdout
    return json.loads(out)


def test_device_with_data_is_kept(drill_lab):
    box = f"{drill_lab}-node4"
    dexec(box, "mkfs.ext4 -q -F -L drilldata /dev/sdg && "
               "echo precious-$(hostname) > /tmp/marker && debugfs -w -R 'write /tmp/marker marker' /dev/sdg")
    before = dexec(box, "debugfs -R 'cat marker' /dev/sdg 2>/dev/null").stdout
    assert before.strip() == "precious-node4"
    proc = run_site("--tags", "topology")
    assert proc.returncode != 0, proc.output[-3000:]
    assert "node4: /dev/sdg carries a ext4 signature" in proc.output, proc.output[-3000:]
    # Nothing was loaded and the filesystem and its file are intact.
    assert heketi_topology(drill_lab).get("clusters") in (None, [])
    assert dexec(box, "blkid -p -s TYPE -o value /dev/sdg").stdout.strip() == "ext4"
    assert dexec(box, "debugfs -R 'cat marker' /dev/sdg 2>/dev/null").stdout == before
    assert "Fix: if its data is not needed, clean it on node4 (wipefs -a)" in proc.output
    # The operator cleans the disk, as the message says.
    dexec(box, "wipefs -a -q /dev/sdg")


def test_missing_device_gets_its_own_message_not_the_wipe_hint(drill_lab, tmp_path):
    """A device that does not exist on the node (issue 25): named as missing, with how to find the right name."""
    inv = tmp_path / "missing.yml"
    inv.write_text(json.dumps({"all": {"children": {"glusterfs_servers": {"hosts": {
        "node3": {"topology_devices": ["/dev/sdf", "/dev/sdh"]}}}}}}))
    proc = run_site("--tags", "topology", extra_inventory=inv)
    assert proc.returncode != 0, proc.output[-3000:]
    line = next(x for x in proc.output.splitlines() if "node3: /dev/sdh does not exist" in x)
    assert "Fix: no such device on node3: correct the name in topology_devices of node3" in line, line
    assert "wipe" not in line.replace("wiping cannot help", ""), line
    assert heketi_topology(drill_lab).get("clusters") in (None, [])


def test_stopped_node_is_named(drill_lab):
    box = f"{drill_lab}-node3"
    docker("stop", box)
    try:
        proc = run_site("--tags", "topology")
        assert proc.returncode != 0, proc.output[-3000:]
        assert "cannot use these storage nodes; nothing was loaded" in proc.output, proc.output[-3000:]
        assert "node3 (node3): ssh failed" in proc.output, proc.output[-3000:]
        for other in ("node1 (node1)", "node2 (node2)", "node4 (node4)"):
            assert f"{other}: ssh failed" not in proc.output
        assert heketi_topology(drill_lab).get("clusters") in (None, [])
    finally:
        docker("start", box)
    for _attempt in range(90):
        state = dexec(box, "systemctl is-system-running; systemctl is-active glusterd ssh", check=False).stdout.split()
        if state[:1] in (["running"], ["degraded"]) and state[1:] == ["active", "active"]:
            break
        time.sleep(2)
    else:
        pytest.fail(f"{box} did not come back: {state}")


def test_rerun_completes_without_duplicates(drill_lab):
    proc = run_site()
    assert proc.returncode == 0, proc.output[-5000:]
    topo = heketi_topology(drill_lab)
    assert len(topo["clusters"]) == 1
    nodes = topo["clusters"][0]["nodes"]
    assert sorted(n["hostnames"]["manage"][0] for n in nodes) == ["node1", "node2", "node3", "node4"]
    for n in nodes:
        assert sorted(d["name"] for d in n["devices"]) == ["/dev/sdf", "/dev/sdg"], n
        assert all(d["state"] == "online" for d in n["devices"])
    # And once more: nothing changes, nothing is added twice.
    again = run_site("--tags", "topology")
    assert again.returncode == 0, again.output[-3000:]
    assert "changed=0" in [line for line in again.output.splitlines() if line.startswith("node1 ")][-1]
    assert heketi_topology(drill_lab) == topo
