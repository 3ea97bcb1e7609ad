# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The topology role run for real (ansible-playbook, localhost as the Heketi host) against the REAL Heketi
server (mock executor, so the ssh reach check does not apply; the device check is the lab's, see
test_drills.py). What reaches Heketi is read back from the server and from the effective topology.json
the role writes, which is what it hands the module.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"


def run_role(tmp_path, server, storage_hosts, extra):
    inventory = {"all": {"children": {
        "heketi": {"hosts": {"localhost": {"ansible_connection": "local",
                                           "ansible_python_interpreter": sys.executable}}},
        "glusterfs_servers": {"hosts": dict((h, {}) for h in storage_hosts)}}}}
    inv = tmp_path / "inventory.json"
    inv.write_text(json.dumps(inventory))
    dest = tmp_path / "effective-topology.json"
    play = [{"hosts": "heketi", "gather_facts": False, "roles": [{"role": "glusterfs.heketi.topology"}]}]
    pb = tmp_path / "play.json"
    pb.write_text(json.dumps(play))
    variables = {"topology_heketi_config": str(server.config_path), "topology_delegate_to": "",
                 "topology_dest": str(dest), "topology_check_ssh": False}
    variables.update(extra)
    varsfile = tmp_path / "vars.json"
    varsfile.write_text(json.dumps(variables))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    env = {k: v for k, v in env.items() if not k.startswith("HEKETI_")}
    proc = subprocess.run([str(PLAYBOOK), "-i", str(inv), "-e", "@%s" % varsfile, str(pb)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    proc.output = proc.stdout + proc.stderr
    proc.written = json.loads(dest.read_text()) if dest.exists() else None
    return proc


def one_node(name, devices):
    return {"clusters": [{"nodes": [{"node": {"hostnames": {"manage": [name], "storage": ["192.0.2.11"]}, "zone": 1},
                                     "devices": devices}]}]}


def test_the_wipe_switch_gates_destroydata_from_topology_src(heketi_server, tmp_path):
    """Defect 1: destroydata: true in the user's topology.json reached Heketi with topology_wipe_devices false."""
    src = tmp_path / "topology.json"
    src.write_text(json.dumps(one_node("192.0.2.11", [{"name": "/dev/sdb", "destroydata": True}, "/dev/sdc"])))
    proc = run_role(tmp_path, heketi_server, ["192.0.2.11"], {"topology_src": str(src), "topology_check_devices": False})
    assert proc.returncode == 0, proc.output[-3000:]
    devices = proc.written["clusters"][0]["nodes"][0]["devices"]
    assert [d for d in devices if isinstance(d, dict) and d.get("destroydata")] == [], devices
    assert "destroydata is not sent for clusters[0].nodes[0].devices[0]" in proc.output
    held = [d["name"] for c in heketi_server.state()["clusters"] for n in c["nodes"] for d in n["devices"]]
    assert sorted(held) == ["/dev/sdb", "/dev/sdc"]


def test_with_the_wipe_switch_on_destroydata_is_handed_over(heketi_server, tmp_path):
    src = tmp_path / "topology.json"
    src.write_text(json.dumps(one_node("192.0.2.11", [{"name": "/dev/sdb", "destroydata": True}])))
    proc = run_role(tmp_path, heketi_server, ["192.0.2.11"], {"topology_src": str(src), "topology_check_devices": False,
                                                              "topology_wipe_devices": True})
    assert proc.returncode == 0, proc.output[-3000:]
    assert proc.written["clusters"][0]["nodes"][0]["devices"] == [{"name": "/dev/sdb", "destroydata": True}]


def test_a_node_matching_no_inventory_host_stops_the_preflight(heketi_server, tmp_path):
    """Defect 2: a file naming node1.example.com, an inventory with 10.99.0.1: the device check was skipped silently."""
    src = tmp_path / "topology.json"
    src.write_text(json.dumps(one_node("node1.example.com", ["/dev/sdb"])))
    proc = run_role(tmp_path, heketi_server, ["10.99.0.1"], {"topology_src": str(src)})
    assert proc.returncode != 0, proc.output[-3000:]
    assert "clusters[0].nodes[0] (manage node1.example.com)" in proc.output, proc.output[-3000:]
    assert "match no host of the inventory group glusterfs_servers" in proc.output
    assert "topology_check_devices: false" in proc.output
    assert heketi_server.writes() == []
    # Turned off explicitly, the node is loaded unchecked.
    again = run_role(tmp_path, heketi_server, ["10.99.0.1"], {"topology_src": str(src), "topology_check_devices": False})
    assert again.returncode == 0, again.output[-3000:]
    assert [n["hostnames"]["manage"] for c in heketi_server.state()["clusters"] for n in c["nodes"]] == [["node1.example.com"]]


def test_duplicate_keys_in_topology_src_are_refused(heketi_server, tmp_path):
    src = tmp_path / "topology.json"
    src.write_text('{"clusters": [{"nodes": [{"node": {"hostnames": {"manage": ["192.0.2.11"], "storage": ["192.0.2.11"]},'
                   ' "zone": 1}, "devices": [{"name": "/dev/sdb", "destroydata": false, "destroydata": true}]}]}]}')
    proc = run_role(tmp_path, heketi_server, ["192.0.2.11"], {"topology_src": str(src), "topology_wipe_devices": True,
                                                              "topology_check_devices": False})
    assert proc.returncode != 0
    assert "the key 'destroydata' appears twice in one object" in proc.output, proc.output[-3000:]
    assert heketi_server.writes() == []
