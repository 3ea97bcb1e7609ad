# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.known_hosts, and host key checking kept on outside the lab."""
from __future__ import annotations

import configparser
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.glusterfs.heketi.plugins.filter.known_hosts import known_hosts

ROOT = Path(__file__).resolve().parents[4]
ED = "AAAAC3NzaC1lZDI1NTE5AAAAIB1111111111111111111111111111111111111111111"
RSA = "AAAAB3NzaC1yc2EAAAADAQABAAABgQC2222222222222222222222222222222222222222"


def facts(**keys):
    out = {}
    for key_type, (algorithm, public) in keys.items():
        out["ssh_host_key_%s_public" % key_type] = public
        out["ssh_host_key_%s_public_keytype" % key_type] = algorithm
    return {"ansible_facts": out}


HOSTVARS = {
    "node1": {"ansible_host": "192.0.2.11", **facts(ed25519=("ssh-ed25519", ED), rsa=("ssh-rsa", RSA))},
    "node2": {"topology_manage": ["node2.example", "192.0.2.12"], **facts(ed25519=("ssh-ed25519", ED))},
}


def test_one_line_per_key_with_every_name():
    assert known_hosts(["node1", "node2"], HOSTVARS) == (
        "192.0.2.11,node1 ssh-ed25519 %s\n192.0.2.11,node1 ssh-rsa %s\n"
        "node2.example,192.0.2.12,node2 ssh-ed25519 %s\n" % (ED, RSA, ED))


def test_another_port_uses_the_bracket_form():
    assert known_hosts(["node2"], HOSTVARS, port=2222).startswith("[node2.example]:2222,[192.0.2.12]:2222,[node2]:2222 ")


def test_a_node_without_host_keys_is_named():
    with pytest.raises(AnsibleFilterError, match="node3 reported no ssh host key"):
        known_hosts(["node1", "node3"], dict(HOSTVARS, node3={"ansible_facts": {}}))


@pytest.mark.parametrize("bad", ["two names", "a,b", "node*"])
def test_a_name_that_breaks_the_file_is_refused(bad):
    with pytest.raises(AnsibleFilterError, match="node9"):
        known_hosts(["node9"], {"node9": {"topology_manage": bad, **facts(ed25519=("ssh-ed25519", ED))}})


def test_host_key_checking_is_on_in_ansible_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "ansible.cfg")
    assert cfg.getboolean("defaults", "host_key_checking") is True


def test_no_inventory_turns_host_key_checking_off():
    """The lab is reached over ssh like real hosts: host key checking stays on everywhere (ansible.cfg), and
    the lab's inventories check strictly against the known_hosts the lab writes."""
    offenders = [str(path.relative_to(ROOT)) for path in sorted(ROOT.glob("inventories/**/*.yml"))
                 if "host_key_checking" in path.read_text()]
    assert offenders == []
    assert "StrictHostKeyChecking=no" not in (ROOT / "tools" / "lab" / "lab").read_text()
    lab = yaml.safe_load((ROOT / "inventories" / "local" / "group_vars" / "all.yml").read_text())
    assert "-o StrictHostKeyChecking=yes" in lab["ansible_ssh_common_args"]
    assert "UserKnownHostsFile={{ lab_dir }}/ssh/known_hosts" in lab["ansible_ssh_common_args"]
    assert "host_key_checking = True" in (ROOT / "ansible.cfg").read_text()
