# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify the whole flow on the lab: Heketi (real server, ssh executor) over real glusterd."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import testinfra

LAB = os.environ.get("MOLECULE_LAB_NAME", "mole2e")
NODES = int(os.environ.get("MOLECULE_LAB_NODES", "4"))
ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[4]))
NODE_NAMES = [f"node{i}" for i in range(1, NODES + 1)]

# Heketi runs on node1, as in the seed.
testinfra_hosts = [f"docker://{LAB}-node1"]


def node(name):
    return testinfra.get_host(f"docker://{LAB}-{name}")


CA = "/etc/heketi/tls/ca.crt"


def http_status(host, path, port=8080, scheme="https"):
    """Status of an unauthenticated request from inside the Heketi host (the image has no curl); https
    verifies Heketi's certificate against the role's CA for the name 127.0.0.1."""
    code = (
        "import ssl, sys, urllib.request, urllib.error\n"
        f"ctx = ssl.create_default_context(cafile='{CA}')\n"
        "try:\n"
        f"    r = urllib.request.urlopen('{scheme}://127.0.0.1:{port}{path}', timeout=10, context=ctx)\n"
        "    print(r.status, r.read().decode().strip())\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code, e.read().decode().strip())\n"
        "except Exception as e:\n"
        "    print(0, type(e).__name__, e)\n"
    )
    out = host.check_output("python3 -c %s", code)
    status, _sep, body = out.partition(" ")
    return int(status), body


def heketi_cli(host, *args):
    """heketi-cli as root with the root-only environment file the role writes (no secret typed)."""
    cmd = "set -a; . /etc/heketi/heketi-cli.env; set +a; heketi-cli " + " ".join(args)
    return host.check_output("bash -c %s", cmd)


@pytest.fixture(scope="module")
def topology(host):
    return json.loads(heketi_cli(host, "topology", "info", "--json"))


def test_heketi_active_and_enabled(host):
    svc = host.service("heketi")
    assert svc.is_running
    assert svc.is_enabled


def test_hello_answers(host):
    status, body = http_status(host, "/hello")
    assert status == 200
    assert "Hello from Heketi" in body


def test_auth_enforced(host):
    status, body = http_status(host, "/clusters")
    assert status == 401, body


def test_tls_on_and_no_plain_http(host):
    cfg = json.loads(host.file("/etc/heketi/heketi.json").content_string)
    assert (cfg["enable_tls"], cfg["cert_file"], cfg["key_file"]) == (
        True, "/etc/heketi/tls/heketi.crt", "/etc/heketi/tls/heketi.key")
    # An unauthenticated plain-HTTP request gets no API answer (Heketi answers TLS only on its port).
    status, body = http_status(host, "/clusters", scheme="http")
    assert status in (0, 400), body
    status, body = http_status(host, "/hello", scheme="http")
    assert status != 200, body
    # The certificate names 127.0.0.1 and node1 and is signed by the role's CA.
    text = host.check_output("python3 -c %s", "import ssl; print(ssl._ssl._test_decode_cert('/etc/heketi/tls/heketi.crt'))")
    assert "'IP Address', '127.0.0.1'" in text and "'DNS', 'node1'" in text


def test_host_keys_are_checked(host):
    assert host.file("/etc/heketi/known_hosts").exists
    env = host.check_output("systemctl show heketi -p Environment --value")
    assert "SSH_KNOWN_HOSTS=/etc/heketi/known_hosts" in env
    known = host.file("/etc/heketi/known_hosts").content_string
    for name in NODE_NAMES:
        ed25519 = node(name).file("/etc/ssh/ssh_host_ed25519_key.pub").content_string.split()[1]
        assert any(line.split()[2] == ed25519 and name in line.split()[0].split(",") for line in known.splitlines())
    since = host.check_output("systemctl show heketi -p ActiveEnterTimestamp --value")
    assert "skipping ssh host verification" not in host.check_output("journalctl -u heketi --no-pager --since %s", since)


@pytest.mark.parametrize(
    "path,owner,group,mode",
    [
        ("/etc/heketi", "root", "heketi", 0o750),
        ("/etc/heketi/heketi.json", "root", "heketi", 0o640),
        ("/etc/heketi/heketi_key", "heketi", "heketi", 0o600),
        ("/etc/heketi/heketi-cli.env", "root", "root", 0o600),
        ("/var/lib/heketi", "heketi", "heketi", 0o700),
        ("/var/lib/heketi/heketi.db", "heketi", "heketi", 0o600),
        ("/etc/heketi/known_hosts", "root", "heketi", 0o640),
        ("/etc/heketi/tls", "root", "heketi", 0o750),
        ("/etc/heketi/tls/ca.key", "root", "root", 0o600),
        ("/etc/heketi/tls/heketi.key", "root", "heketi", 0o640),
        ("/etc/heketi/tls/ca.crt", "root", "root", 0o644),
    ],
)
def test_owner_and_mode(host, path, owner, group, mode):
    f = host.file(path)
    assert f.exists, path
    assert (f.user, f.group, f.mode) == (owner, group, mode)


def test_heketi_json_has_no_placeholder_and_ssh_executor(host):
    cfg = json.loads(host.file("/etc/heketi/heketi.json").content_string)
    assert cfg["glusterfs"]["executor"] == "ssh"
    assert cfg["glusterfs"]["sshexec"]["keyfile"] == "/etc/heketi/heketi_key"
    assert len(cfg["jwt"]["admin"]["key"]) >= 16 and len(cfg["jwt"]["user"]["key"]) >= 16
    assert cfg["jwt"]["admin"]["key"] != cfg["jwt"]["user"]["key"]

    def strings(value):
        if isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, str):
            yield value

    assert not [s for s in strings(cfg) if re.match(r"(?i)optional:|path to|execute plugin", s)]


def test_key_is_a_private_key_with_public_half(host):
    assert "PRIVATE KEY" in host.check_output("head -n 1 /etc/heketi/heketi_key")
    assert host.file("/etc/heketi/heketi_key.pub").content_string.startswith("ssh-rsa ")


@pytest.mark.parametrize("name", NODE_NAMES)
def test_ssh_trust(host, name):
    pub = host.file("/etc/heketi/heketi_key.pub").content_string.split()[1]
    lines = [line for line in node(name).file("/root/.ssh/authorized_keys").content_string.splitlines() if pub in line]
    address = host.check_output("hostname -I").split()[0]
    assert lines == [line for line in lines if line.startswith('restrict,from="%s" ssh-rsa ' % address)] and lines


@pytest.mark.parametrize("name", NODE_NAMES)
def test_peers_connected(name):
    out = node(name).check_output("LC_ALL=C gluster --mode=script peer status")
    assert f"Number of Peers: {NODES - 1}" in out
    states = re.findall(r"^State: (.*)$", out, re.M)
    assert len(states) == NODES - 1
    assert all(s == "Peer in Cluster (Connected)" for s in states), out


def test_topology_four_nodes_two_devices_online_one_cluster(topology):
    clusters = topology["clusters"]
    assert len(clusters) == 1
    nodes = clusters[0]["nodes"]
    assert sorted(n["hostnames"]["manage"][0] for n in nodes) == NODE_NAMES
    for n in nodes:
        assert n["state"] == "online"
        assert n["zone"] == 1
        assert sorted(d["name"] for d in n["devices"]) == ["/dev/sdf", "/dev/sdg"]
        assert all(d["state"] == "online" for d in n["devices"])
        assert all(d["storage"]["total"] > 0 for d in n["devices"])


def test_effective_topology_file_matches(host, topology):
    written = json.loads(host.file("/etc/heketi/topology.json").content_string)
    wanted = {
        n["node"]["hostnames"]["manage"][0]: sorted(d if isinstance(d, str) else d["name"] for d in n["devices"])
        for c in written["clusters"] for n in c["nodes"]
    }
    held = {
        n["hostnames"]["manage"][0]: sorted(d["name"] for d in n["devices"])
        for c in topology["clusters"] for n in c["nodes"]
    }
    assert wanted == held


@pytest.mark.parametrize("name", NODE_NAMES)
def test_pvs_are_heketis(name, topology):
    """pvs on the node shows /dev/sdf and /dev/sdg in the VGs Heketi created (vg_<device id>)."""
    out = node(name).check_output("LC_ALL=C pvs --noheadings --separator '|' -o pv_name,vg_name")
    pvs = dict(line.strip().split("|") for line in out.splitlines() if line.strip())
    heketi_node = next(n for c in topology["clusters"] for n in c["nodes"] if n["hostnames"]["manage"][0] == name)
    expected = {d["name"]: "vg_" + d["id"] for d in heketi_node["devices"]}
    assert {k: v for k, v in pvs.items() if k in expected} == expected


def test_no_key_in_verbose_output(host):
    """A -v run of the Heketi and topology stages prints neither JWT key, and changes nothing."""
    cfg = json.loads(host.file("/etc/heketi/heketi.json").content_string)
    secrets = [cfg["jwt"]["admin"]["key"], cfg["jwt"]["user"]["key"]]
    env = dict(os.environ, LAB_NAME=LAB, ANSIBLE_NOCOLOR="1")
    run = subprocess.run(
        [str(ROOT / ".venv/bin/ansible-playbook"), "site.yml", "-i", "inventories/local",
         "--tags", "heketi,topology", "-v"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    for secret in secrets:
        assert secret not in output
    recap = re.search(r"^node1\s+:.*$", output, re.M).group(0)
    assert "changed=0" in recap and "failed=0" in recap, recap
