# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ssh_reach_info's parts: the exact ssh command, the reason on one line, all nodes at once (bounded) and in
order. A stand-in ``ssh`` executable answers here; the real ssh to real nodes runs on the lab
(tests/integration/test_heketi_role.py::test_changed_host_key_stops_the_reach_check_naming_the_node)."""
from __future__ import annotations

import subprocess
import threading
import time

from ansible_collections.glusterfs.heketi.plugins.filter.topology_reach_refusals import topology_reach_refusals
from ansible_collections.glusterfs.heketi.plugins.modules.ssh_reach_info import (
    check_all, device_answers, node_errors, reason, ssh_argv)

NODES = [{"host": "node%d" % i, "manage": "192.0.2.1%d" % i, "zone": 1} for i in range(1, 6)]
KH = "/etc/heketi/known_hosts"


def test_the_command_is_heketis_with_strict_host_keys():
    argv = ssh_argv("/usr/bin/ssh", NODES[1], "/etc/heketi/heketi_key", 2222, "heketi", True, 7, KH)
    assert argv == ["/usr/bin/ssh", "-n", "-i", "/etc/heketi/heketi_key", "-p", "2222",
                    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + KH,
                    "-o", "GlobalKnownHostsFile=/dev/null", "-o", "CheckHostIP=no", "-o", "LogLevel=ERROR",
                    "-o", "ConnectTimeout=7", "heketi@192.0.2.12",
                    "sudo -n gluster --version >/dev/null && sudo -n systemctl is-active glusterd"]
    assert ssh_argv("ssh", NODES[0], "k", 22, "root", False, 10, KH)[-1] == \
        "gluster --version >/dev/null && systemctl is-active glusterd"


def test_the_reason_is_one_line_and_a_changed_key_only_ssh_s_verdict():
    assert reason("Permission denied\r\n(publickey).\tx\n") == "Permission denied (publickey). x"
    banner = ("@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@@@@@\n"
              "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\nHost key verification failed.\n")
    assert reason(banner) == "Host key verification failed."


def test_all_nodes_at_once_bounded_and_in_order():
    running, peak, lock = [0], [0], threading.Lock()

    def run(argv):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        return (255, "", "Connection refused\n") if argv[-2].endswith(".13") else (0, "active\n", "")

    start = time.monotonic()
    answers = check_all(NODES, lambda node: ssh_argv("ssh", node, "k", 22, "root", False, 10, KH), run, parallel=3)
    elapsed = time.monotonic() - start
    assert peak[0] == 3  # concurrent, never more than parallel
    assert elapsed < 1.2  # 5 nodes x 0.3 s one after another would be 1.5 s
    assert [a["host"] for a in answers] == ["node1", "node2", "node3", "node4", "node5"]
    assert answers[2] == {"host": "node3", "manage": "192.0.2.13", "rc": 255, "reason": "Connection refused"}
    assert answers[0] == {"host": "node1", "manage": "192.0.2.11", "rc": 0, "reason": "active"}


def run_command(argv):
    """What AnsibleModule.run_command returns, for a real process."""
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    return proc.returncode, proc.stdout, proc.stderr


def test_a_real_process_answers_and_the_filter_reads_it(tmp_path):
    ssh = tmp_path / "ssh"
    ssh.write_text("#!/bin/sh\ncase \"$*\" in\n  *@bad*) printf '@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\\n"
                   "Host key verification failed.\\n' >&2; exit 255 ;;\n  *) echo active ;;\nesac\n")
    ssh.chmod(0o755)
    nodes = [{"host": "node1", "manage": "good"}, {"host": "node2", "manage": "bad"}]
    answers = check_all(nodes, lambda node: ssh_argv(str(ssh), node, "k", 22, "root", False, 10, KH), run_command)
    assert answers == [{"host": "node1", "manage": "good", "rc": 0, "reason": "active"},
                       {"host": "node2", "manage": "bad", "rc": 255, "reason": "Host key verification failed."}]
    refusals = topology_reach_refusals(answers, nodes=2, known_hosts=KH)
    assert refusals == ["node2 (bad): ssh failed: Host key verification failed. (the host key of node2 does not match "
                        "/etc/heketi/known_hosts: if the node was reinstalled, rerun the heketi stage to collect its new "
                        "key; otherwise find out who answers at bad)"]


def test_nodes_without_host_or_manage_are_named():
    assert node_errors(NODES) == []
    errors = node_errors([{"host": "node1", "manage": ""}, {"manage": "192.0.2.12"}, {"host": "node3", "manage": 3}])
    assert [e.split(" needs")[0] for e in errors] == ["nodes[0]", "nodes[1]", "nodes[2]"]


# What Heketi's delete needs on the node (the day-2 playbooks' preflight, issue 25): the device's volume group and
# the lvm-pv-uuid link its pvremove goes through, probed read-only in the same ssh session.
DEVICES = [{"id": "aa11", "name": "/dev/sdf", "pv_uuid": "rJ0bIG-3XNc"}, {"id": "bb22", "name": "/dev/sdg", "pv_uuid": "Zz9-x"},
           {"id": "cc33", "name": "/dev/sdh", "pv_uuid": ""}]


def test_the_device_probe_runs_after_the_glusterd_check_and_keeps_its_status():
    node = dict(NODES[0], teardown=DEVICES)
    command = ssh_argv("ssh", node, "k", 22, "root", True, 10, KH)[-1]
    assert command.startswith("sudo -n gluster --version >/dev/null && sudo -n systemctl is-active glusterd; rc=$?; ")
    assert "sudo -n vgs vg_aa11 " in command and '[ -e "/dev/disk/by-id/lvm-pv-uuid-rJ0bIG-3XNc" ]' in command
    assert command.endswith("exit $rc")


def test_device_teardown_verdicts():
    out = ("active\nglusterfs-heketi-device aa11 vg=1 link=1\nglusterfs-heketi-device bb22 vg=1 link=0\n"
           "glusterfs-heketi-device cc33 vg=0 link=1\n")
    answers = device_answers(DEVICES, 0, out)
    verdicts = [(a["name"], a["teardown"]) for a in answers]
    assert verdicts == [("/dev/sdf", "ready"), ("/dev/sdg", "link_missing"), ("/dev/sdh", "torn_down")]
    assert answers[1]["link"] == "/dev/disk/by-id/lvm-pv-uuid-Zz9-x" and answers[1]["vg"] == "vg_bb22"
    assert [a["teardown"] for a in device_answers(DEVICES, 255, "")] == ["unknown"] * 3


def test_probe_lines_stay_out_of_the_reason_and_bad_devices_are_named(tmp_path):
    ssh = tmp_path / "ssh"
    ssh.write_text("#!/bin/sh\necho active; echo 'glusterfs-heketi-device aa11 vg=1 link=0'\n")
    ssh.chmod(0o755)
    nodes = [dict(NODES[0], teardown=DEVICES[:1])]
    answers = check_all(nodes, lambda node: ssh_argv(str(ssh), node, "k", 22, "root", False, 10, KH), run_command)
    assert answers[0]["reason"] == "active" and answers[0]["teardown"][0]["teardown"] == "link_missing"
    errors = node_errors([dict(NODES[0], teardown=[{"id": "not-hex;", "pv_uuid": "x"}, {"id": "ab", "pv_uuid": "$(x)"}])])
    assert [e.split(" needs")[0] for e in errors] == ["nodes[0].teardown[0]", "nodes[0].teardown[1]"]


def test_the_topology_devices_of_a_node_are_no_teardown_request():
    """The topology role hands its model's nodes as they are: their devices (names only) are not probed."""
    node = dict(NODES[0], devices=[{"name": "/dev/sdf", "destroydata": False}])
    assert node_errors([node]) == []
    assert "vgs" not in ssh_argv("ssh", node, "k", 22, "root", False, 10, KH)[-1]
