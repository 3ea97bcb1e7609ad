# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Heketi's API and the GlusterFS ports behind REAL firewalls, on a lab of 3 containers with CAP_NET_ADMIN
(tools/lab/lab up --net-admin):

- node1, the Heketi host, runs ufw (Debian's ufw 0.36, iptables-nft) with a blanket ``ufw allow 8080/tcp``
  an operator or an earlier version left; node2, a storage node, runs firewalld (Debian's firewalld 1.3,
  nftables); k8s-node01 (the lab's client container) is the inventory's Kubernetes node.
- The heketi role with its defaults opens 8080 only to the sources derived from the inventory (k8s-node01,
  resolved on node1, and the controller, the ssh connection's source as node1 sees it): both get Heketi's
  /hello, node2 does not; the blanket rule is gone; a rerun reports changed=0. A list given replaces the
  default (then the controller is refused too), and the rules of a source no longer listed are removed.
- A bad entry in heketi_api_allowed_sources stops the run naming it, before the firewall is touched; check mode
  reports the change with its diff and changes nothing.
- glusterfs_server without glusterfs_server_allowed_sources keeps opening 24007-24008 and the brick range to
  every source (firewalld ports); with the storage and client sources given, the plain ports are removed and only
  those sources reach glusterd on 24007 (node1 no longer does); a rerun reports changed=0.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"
LAB_TOOL = ROOT / "tools" / "lab" / "lab"
LAB = os.environ.get("FIREWALL_LAB_NAME", "ghfwlab")
NODE1, NODE2, CLIENT = LAB + "-node1", LAB + "-node2", LAB + "-client"
# Loopback and the lab's own containers only, whatever the environment says about proxies.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# Connect from inside a container: "open" when the TCP handshake completes, else the error's name.
_PROBE = ("import socket,sys\n"
          "try:\n socket.create_connection((sys.argv[1], int(sys.argv[2])), 4).close(); print('open')\n"
          "except OSError as e:\n print(type(e).__name__)\n")


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=900)


def dexec(box, command, check=True):
    return docker("exec", box, "sh", "-c", command, check=check)


def address(box):
    return docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", box).stdout.strip()


def reach(source_box, target, port):
    """'open' when source_box completes a TCP handshake with target:port."""
    return docker("exec", source_box, "python3", "-c", _PROBE, target, str(port)).stdout.strip()


def hello_from_controller(target):
    try:
        with _OPENER.open("http://%s:8080/hello" % target, timeout=4) as resp:
            return resp.status
    except OSError as err:
        return type(err).__name__


class Lab:
    def __init__(self, inventory, tmp):
        self.inventory, self.tmp, self.runs = inventory, tmp, 0
        self.ip = {box: address(box) for box in (NODE1, NODE2, CLIENT)}

    def play(self, playbook, extra_vars=None, *args):
        self.runs += 1
        evars = {"heketi_binaries_src": str(ROOT / ".cache" / "heketi" / "bin")}
        evars.update(extra_vars or {})
        vfile = self.tmp / ("vars%02d.json" % self.runs)
        vfile.write_text(json.dumps(evars))
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
        proc = subprocess.run([str(PLAYBOOK), playbook, "-i", str(self.inventory), "-e", "@%s" % vfile, *args],
                              cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800)
        proc.output = proc.stdout + proc.stderr
        return proc


def recap(output, host):
    match = re.search(r"^%s\s+:\s+ok=\d+\s+changed=(\d+)" % re.escape(host), output, re.M)
    assert match, output[-3000:]
    return int(match.group(1))


def ufw_added():
    return dexec(NODE1, "ufw show added").stdout


def firewalld(args):
    return dexec(NODE2, "firewall-cmd " + args).stdout


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    up = subprocess.run([str(LAB_TOOL), "up", "--name", LAB, "--nodes", "2", "--client", "--net-admin"], cwd=ROOT,
                        capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stderr[-3000:]
    try:
        # The site's firewalls, set up as an operator would: ufw on the Heketi host with the API opened to
        # everyone, firewalld on the storage node (netbase: firewalld refuses to start without /etc/protocols,
        # "INVALID_PROTOCOL: esp").
        apt = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq %s >/dev/null"
        dexec(NODE1, apt % "ufw" + " && ufw allow 22/tcp && ufw allow 8080/tcp && ufw --force enable")
        dexec(NODE2, apt % "netbase firewalld" + " && systemctl enable --now firewalld && firewall-cmd --state")
        yield Lab(up.stdout.strip().splitlines()[-1], tmp_path_factory.mktemp("firewall-lab"))
    finally:
        subprocess.run([str(LAB_TOOL), "down", "--name", LAB], cwd=ROOT, capture_output=True, check=False)


def test_heketi_api_only_for_the_inventory_sources(lab):
    before = ufw_added()
    assert "ufw allow 8080/tcp" in before
    # A bad entry stops the run, naming it, before the firewall is touched.
    bad = lab.play("playbooks/heketi.yml", {"heketi_api_allowed_sources": ["192.0.2.10", "heketi.example.com"]})
    assert bad.returncode != 0
    assert "heketi_api_allowed_sources[1] 'heketi.example.com' is not an IPv4 or IPv6 address or CIDR network" in bad.output
    assert ufw_added() == before
    # Check mode reports the change (with the diff) and leaves the rules as they are.
    check = lab.play("playbooks/heketi.yml", None, "--check", "--diff", "--tags", "heketi_firewall")
    assert check.returncode == 0, check.output[-5000:]
    # The default sources: the Kubernetes node and the controller as the Heketi host sees the ssh connection.
    assert "-8080/tcp\n" in check.output and "+%s 8080/tcp" % lab.ip[CLIENT] in check.output, check.output[-5000:]
    # Two changes: the firewall rule, and the installation check mode cannot preview before Heketi is installed.
    assert "node1: Heketi is not installed yet" in check.output, check.output[-8000:]
    assert recap(check.output, "node1") == 2, check.output[-8000:]
    assert ufw_added() == before

    first = lab.play("playbooks/heketi.yml")
    assert first.returncode == 0, first.output[-5000:]
    client, node2 = lab.ip[CLIENT], lab.ip[NODE2]
    rules = ufw_added()
    assert "ufw allow from %s to any port 8080 proto tcp" % client in rules
    assert "ufw allow 8080/tcp" not in rules and "ufw allow 22/tcp" in rules
    assert reach(CLIENT, "node1", 8080) == "open"
    assert reach(NODE2, "node1", 8080) != "open"
    assert hello_from_controller(lab.ip[NODE1]) == 200  # the controller is a default source
    # Heketi really answers the allowed source.
    assert "200" in dexec(CLIENT, "python3 -c \"import urllib.request as u; "
                                  "print(u.urlopen('http://node1:8080/hello', timeout=5).status)\"").stdout

    again = lab.play("playbooks/heketi.yml")
    assert again.returncode == 0, again.output[-5000:]
    assert recap(again.output, "node1") == 0, again.output[-5000:]

    # A list given replaces the default; the source no longer listed loses its rule.
    swap = lab.play("playbooks/heketi.yml", {"heketi_api_allowed_sources": [node2 + "/32"]})
    assert swap.returncode == 0, swap.output[-5000:]
    rules = ufw_added()
    assert "ufw allow from %s to any port 8080 proto tcp" % node2 in rules and client not in rules
    assert reach(NODE2, "node1", 8080) == "open"
    assert reach(CLIENT, "node1", 8080) != "open"
    assert hello_from_controller(lab.ip[NODE1]) != 200  # nor the controller: the list replaced the default


def test_glusterfs_ports_open_to_all_by_default_and_only_to_the_given_sources(lab):
    default = lab.play("playbooks/glusterfs_servers.yml", None, "--limit", "node2")
    assert default.returncode == 0, default.output[-5000:]
    for config in ("--permanent --list-ports", "--list-ports"):
        assert set(firewalld(config).split()) >= {"24007-24008/tcp", "49152-60999/tcp"}
    assert reach(NODE1, "node2", 24007) == "open"
    assert reach(CLIENT, "node2", 24007) == "open"

    sources = [lab.ip[NODE2], lab.ip[CLIENT]]
    restricted = lab.play("playbooks/glusterfs_servers.yml", {"glusterfs_server_allowed_sources": sources},
                          "--limit", "node2")
    assert restricted.returncode == 0, restricted.output[-5000:]
    for config in ("--permanent ", ""):
        assert "24007" not in firewalld(config + "--list-ports")
        rich = firewalld(config + "--list-rich-rules")
        for source in sources:
            for port in ("24007-24008", "49152-60999"):
                assert ('rule family="ipv4" source address="%s" port port="%s" protocol="tcp" accept'
                        % (source, port)) in rich, rich
    assert reach(CLIENT, "node2", 24007) == "open"
    assert reach(NODE1, "node2", 24007) != "open"

    again = lab.play("playbooks/glusterfs_servers.yml", {"glusterfs_server_allowed_sources": sources},
                     "--limit", "node2")
    assert again.returncode == 0, again.output[-5000:]
    assert recap(again.output, "node2") == 0, again.output[-5000:]
