# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The heketi role as a real ansible-playbook run on a small lab (tools/lab/lab, 2 containers): the
real Heketi server under systemd on node1, node2 a storage node for the SSH trust.

- Weak JWT keys already in /etc/heketi/heketi.json (the seed's admin@123, the samples' "My Secret",
  one key for admin and user) are replaced: both keys new and different, the old key refused (401)
  by the real server, the replacement reported without printing a key.
- The systemd unit is sandboxed; heketi.db and its folder are heketi-only (0600/0700), repaired.
- Heketi's key is authorized with restrict,from=<the Heketi host>: no pty, refused from elsewhere; a bad
  from= entry stops the run before anything changes; the non-root sudo user still works.
- TLS with the role's own CA: https only, every consumer (the /hello wait, heketi-cli's environment
  file) follows, and a rerun changes nothing and keeps the CA and the certificate.
- Host keys: /etc/heketi/known_hosts holds each node's keys as Ansible read them, Heketi is started with
  SSH_KNOWN_HOSTS, and the topology role's reach check names a node whose host key changed.
"""
from __future__ import annotations

import datetime
import json
import hashlib
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from heketi_server import REPO_ROOT, ensure_built, token  # noqa: E402

PLAYBOOK = REPO_ROOT / ".venv" / "bin" / "ansible-playbook"
LAB_TOOL = REPO_ROOT / "tools" / "lab" / "lab"
LAB = os.environ.get("HEKETI_ROLE_LAB_NAME", "ghhkrole")
HEKETI_BOX = f"{LAB}-node1"
# Loopback and the lab's own containers only, whatever the environment says about proxies.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def docker(*args, check=True, input_text=None):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, input=input_text)


def dexec(command, box=HEKETI_BOX, check=True, input_text=None):
    return docker("exec", "-i", box, "sh", "-c", command, check=check, input_text=input_text)


class Lab:
    def __init__(self, name, inventory, tmp):
        self.name, self.inventory, self.tmp = name, inventory, tmp
        self.ip = docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                         HEKETI_BOX).stdout.strip()
        self.runs = 0

    def run_role(self, *args, extra_vars=None, playbook="playbooks/heketi.yml"):
        """ansible-playbook of a stage playbook on this lab; returns the CompletedProcess (+ .output)."""
        self.runs += 1
        evars = {"heketi_binaries_src": str(REPO_ROOT / ".cache" / "heketi" / "bin")}
        evars.update(extra_vars or {})
        vfile = self.tmp / ("vars%02d.json" % self.runs)
        vfile.write_text(json.dumps(evars))
        cmd = [str(PLAYBOOK), playbook, "-i", str(self.inventory), "-e", "@%s" % vfile, *args]
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"))
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800)
        proc.output = proc.stdout + proc.stderr
        return proc

    def config(self):
        return json.loads(dexec("cat /etc/heketi/heketi.json").stdout)

    def status(self, path, user, key, method="GET", scheme="http", cafile=None):
        """Status the real server gives a request signed with ``key`` (https: verified with ``cafile``)."""
        req = urllib.request.Request("%s://%s:8080%s" % (scheme, self.ip, path), method=method)
        req.add_header("Authorization", "bearer " + token(method, path, user, key))
        opener = _OPENER
        if scheme == "https":
            context = ssl.create_default_context(cafile=cafile)
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                 urllib.request.HTTPSHandler(context=context))
        try:
            with opener.open(req, timeout=15) as resp:
                return resp.status
        except urllib.error.HTTPError as err:
            return err.code
        except OSError:  # not listening (yet)
            return None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    ensure_built()
    up = subprocess.run([str(LAB_TOOL), "up", "--name", LAB, "--nodes", "2"], cwd=REPO_ROOT,
                        capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stderr[-3000:]
    try:
        the_lab = Lab(LAB, up.stdout.strip().splitlines()[-1], tmp_path_factory.mktemp("heketi-role"))
        first = the_lab.run_role()
        assert first.returncode == 0, first.output[-5000:]
        yield the_lab
    finally:
        subprocess.run([str(LAB_TOOL), "down", "--name", LAB], cwd=REPO_ROOT, capture_output=True, check=False)


def plant_keys(lab, admin, user):
    """Put these keys into the live heketi.json and restart Heketi with them (the state a host is in
    after the seed's manual setup or a copied sample)."""
    cfg = lab.config()
    cfg["jwt"] = {"admin": {"key": admin}, "user": {"key": user}}
    dexec("cat > /etc/heketi/heketi.json && systemctl restart heketi", input_text=json.dumps(cfg))
    for _attempt in range(60):
        if lab.status("/clusters", "admin", admin) == 200:
            return
        dexec("sleep 0.5")
    pytest.fail("Heketi did not come back with the planted keys")


WEAK_FILES = {
    "seed_admin@123": ("admin@123", "admin@123"),
    "sample_my_secret": ("My Secret", "My Secret"),
    "admin_equals_user": ("Q" * 48, "Q" * 48),
    "user_key_too_short": ("A" * 40, "user@123"),
}


@pytest.mark.parametrize("case", sorted(WEAK_FILES))
def test_weak_jwt_keys_on_the_host_are_replaced(lab, case):
    old_admin, old_user = WEAK_FILES[case]
    plant_keys(lab, old_admin, old_user)
    # Before the run the real server takes the weak keys.
    assert lab.status("/clusters", "admin", old_admin) == 200
    assert lab.status("/clusters", "user", old_user) in (200, 401)  # the user account may list nothing
    proc = lab.run_role("--tags", "heketi_configure,heketi_service")
    assert proc.returncode == 0, proc.output[-5000:]
    new = lab.config()["jwt"]
    new_admin, new_user = new["admin"]["key"], new["user"]["key"]
    assert new_admin != new_user
    assert len(new_admin) >= 32 and len(new_user) >= 32
    if case == "user_key_too_short":
        # The strong admin key that differs from the user key is kept; only the user key is new.
        assert new_admin == old_admin and new_user != old_user
        assert "user key replaced" in proc.output and "admin key replaced" not in proc.output
    else:
        assert new_admin != old_admin and new_user != old_user
        assert "admin key replaced" in proc.output and "user key replaced" in proc.output
        # The old admin key is refused by the real server; the new one works.
        assert lab.status("/clusters", "admin", old_admin) == 401
    assert lab.status("/clusters", "admin", new_admin) == 200
    assert lab.status("/clusters", "admin", old_user) == 401
    # Reported as a change, and no key (old or new) reached the output.
    assert "changed: [node1]" in proc.output.split("Report the weak JWT keys replaced")[1].split("TASK")[0]
    for key in (old_user, new_admin, new_user) + (() if case == "user_key_too_short" else (old_admin,)):
        assert key not in proc.output
    # heketi-cli's root-only environment file follows.
    assert "HEKETI_CLI_KEY=%s\n" % new_admin in dexec("cat /etc/heketi/heketi-cli.env").stdout


# ---------------------------------------------------------------------- systemd unit, database modes
def unit_properties(*names):
    out = dexec("systemctl show heketi " + " ".join("-p " + n for n in names)).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_unit_is_sandboxed_and_heketi_runs(lab):
    props = unit_properties("ActiveState", "ProtectSystem", "PrivateDevices", "CapabilityBoundingSet",
                            "RestrictAddressFamilies", "ProtectKernelTunables", "ProtectKernelModules",
                            "ProtectKernelLogs", "ProtectControlGroups", "SystemCallFilter", "UMask",
                            "NoNewPrivileges", "ReadWritePaths", "Environment")
    assert props["ActiveState"] == "active"
    assert props["ProtectSystem"] == "strict"
    assert props["ReadWritePaths"] == "/var/lib/heketi"
    for name in ("PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
                 "ProtectControlGroups", "NoNewPrivileges"):
        assert props[name] == "yes", name
    assert props["CapabilityBoundingSet"] == ""
    assert sorted(props["RestrictAddressFamilies"].split()) == ["AF_INET", "AF_INET6", "AF_UNIX"]
    assert props["SystemCallFilter"]  # the resolved @system-service list
    assert props["UMask"] == "0077"
    # The sandbox holds for the running process: /etc is read-only for it, no capability is left.
    pid = dexec("systemctl show heketi -p MainPID --value").stdout.strip()
    status = dexec("cat /proc/%s/status" % pid).stdout
    assert "CapBnd:\t0000000000000000" in status and "CapEff:\t0000000000000000" in status
    mounts = dexec("cat /proc/%s/mountinfo" % pid).stdout
    assert any(" /etc " in line and " ro," in line for line in mounts.splitlines()) or any(
        line.split()[4] == "/" and " ro," in line for line in mounts.splitlines()), mounts[:2000]


def test_database_and_folder_are_heketi_only_and_repaired(lab):
    dexec("chmod 0644 /var/lib/heketi/heketi.db && chown root:root /var/lib/heketi/heketi.db && chmod 0755 /var/lib/heketi")
    proc = lab.run_role("--tags", "heketi_configure,heketi_service")
    assert proc.returncode == 0, proc.output[-5000:]
    out = dexec("stat -c '%U:%G %a' /var/lib/heketi /var/lib/heketi/heketi.db").stdout.split("\n")
    assert out[:2] == ["heketi:heketi 700", "heketi:heketi 600"]
    assert lab.status("/clusters", "admin", lab.config()["jwt"]["admin"]["key"]) == 200


def test_a_changed_or_opened_binary_is_copied_again_and_a_rerun_copies_nothing(lab):
    given = REPO_ROOT / ".cache" / "heketi" / "bin" / "heketi-cli"
    dexec("printf x >> /usr/local/bin/heketi-cli && chmod 0777 /usr/local/bin/heketi && chown nobody /usr/local/bin/heketi")
    proc = lab.run_role("--tags", "heketi_install")
    assert proc.returncode == 0, proc.output[-5000:]
    copied = proc.output.split("TASK [glusterfs.heketi.heketi : Copy the binaries that are missing or differ]")[1].split("TASK [")[0]
    assert copied.count("changed:") == 2, copied
    assert dexec("stat -c '%U:%G %a' /usr/local/bin/heketi /usr/local/bin/heketi-cli").stdout.split() == [
        "root:root", "755", "root:root", "755"]
    assert dexec("sha256sum < /usr/local/bin/heketi-cli").stdout.split()[0] == hashlib.sha256(given.read_bytes()).hexdigest()
    again = lab.run_role("--tags", "heketi_install")
    recap = [line for line in again.output.splitlines() if line.startswith("node1 ")][-1]
    assert again.returncode == 0 and "changed=0" in recap, again.output[-3000:]


# ---------------------------------------------------------------------- the authorized key
NODE2 = f"{LAB}-node2"
KEY = "/etc/heketi/heketi_key"
STRICT = "-o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/etc/heketi/known_hosts -o CheckHostIP=no"


def heketi_ssh(command, user="root", options="", box=HEKETI_BOX, check=False):
    return dexec("ssh -n -i %s %s %s %s@node2 %s" % (KEY, STRICT, options, user, command), box=box, check=check)


def test_key_is_restricted_to_the_heketi_host(lab):
    line = [entry for entry in dexec("cat /root/.ssh/authorized_keys", box=NODE2).stdout.splitlines()
            if entry.endswith("heketi@node1")]
    assert line == ['restrict,from="%s" %s' % (lab.ip, dexec("cat %s.pub" % KEY).stdout.strip())]
    # Commands run (what Heketi needs), with strict host key checking against Heketi's known_hosts.
    ok = heketi_ssh("echo reached")
    assert (ok.returncode, ok.stdout.strip()) == (0, "reached"), ok.stderr
    # No pty.
    tty = dexec("ssh -tt -i %s %s root@node2 tty" % (KEY, STRICT), check=False)
    assert "PTY allocation request failed" in tty.stderr + tty.stdout or "not a tty" in tty.stdout
    # No port forwarding (a remote forward is asked of the server at once, and refused).
    fwd = heketi_ssh("true", options="-o ExitOnForwardFailure=yes -R 127.0.0.1:18022:127.0.0.1:22")
    assert fwd.returncode != 0 and "forwarding failed" in fwd.stderr, fwd.stderr
    # The same key from another address (node2 itself) is refused.
    dexec("install -m 0600 /dev/stdin /root/stolen_key", box=NODE2, input_text=dexec("cat %s" % KEY).stdout)
    try:
        stolen = dexec("ssh -n -i /root/stolen_key -o BatchMode=yes -o StrictHostKeyChecking=no "
                       "-o UserKnownHostsFile=/dev/null root@node2 true", box=NODE2, check=False)
        assert stolen.returncode == 255 and "Permission denied" in stolen.stderr, stolen.stderr
    finally:
        dexec("rm -f /root/stolen_key", box=NODE2)


@pytest.mark.parametrize("entry,message", [
    ('192.0.2.1"', "heketi_ssh_from_addresses[1] '192.0.2.1\"' contains a quote, comma or space"),
    ("192.0.2.1,192.0.2.2", "heketi_ssh_from_addresses[1] '192.0.2.1,192.0.2.2' contains a quote, comma"),
    ("not a host", "contains a quote, comma or space"),
    ("192.0.2.256", "is not a valid IPv4 address"),
])
def test_bad_from_entry_stops_the_run_before_anything_changes(lab, entry, message):
    before = dexec("cat /root/.ssh/authorized_keys", box=NODE2).stdout, dexec("cat /etc/heketi/heketi.json").stdout
    proc = lab.run_role(extra_vars={"heketi_ssh_from_addresses": ["192.0.2.10", entry]})
    assert proc.returncode != 0
    assert message in proc.output, proc.output[-3000:]
    assert "TASK [glusterfs.heketi.heketi : Create the configuration folder]" not in proc.output
    assert (dexec("cat /root/.ssh/authorized_keys", box=NODE2).stdout, dexec("cat /etc/heketi/heketi.json").stdout) == before


def test_non_root_sudo_user_works_with_the_restricted_key(lab):
    proc = lab.run_role("--tags", "heketi_configure,heketi_service,heketi_ssh_trust",
                        extra_vars={"heketi_ssh_user": "heketiops", "heketi_ssh_sudo": True})
    assert proc.returncode == 0, proc.output[-5000:]
    try:
        line = dexec("cat /home/heketiops/.ssh/authorized_keys", box=NODE2).stdout.strip()
        assert line.startswith('restrict,from="%s" ' % lab.ip)
        ran = heketi_ssh("sudo -n id -u", user="heketiops")
        assert (ran.returncode, ran.stdout.strip()) == (0, "0"), ran.stderr
        sshexec = lab.config()["glusterfs"]["sshexec"]
        assert (sshexec["user"], sshexec["sudo"]) == ("heketiops", True)
    finally:
        back = lab.run_role("--tags", "heketi_configure,heketi_service")
        assert back.returncode == 0, back.output[-3000:]


# ---------------------------------------------------------------------- host keys
def test_known_hosts_holds_the_nodes_keys_and_heketi_uses_it(lab):
    assert dexec("stat -c '%U:%G %a' /etc/heketi/known_hosts").stdout.strip() == "root:heketi 640"
    known = [line.split() for line in dexec("cat /etc/heketi/known_hosts").stdout.splitlines()]
    for box, name in ((HEKETI_BOX, "node1"), (NODE2, "node2")):
        # The names Ansible knows the node by: its inventory name and the address it reaches it at (ssh).
        address = docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", box).stdout.strip()
        for key_type in ("ed25519", "ecdsa", "rsa"):
            algorithm, public = dexec("cat /etc/ssh/ssh_host_%s_key.pub" % key_type, box=box).stdout.split()[:2]
            assert [sorted(line[0].split(",")) for line in known if line[1:] == [algorithm, public]] == [
                sorted([name, address])], (key_type, known)
    assert unit_properties("Environment")["Environment"] == "SSH_KNOWN_HOSTS=/etc/heketi/known_hosts"
    since = dexec("systemctl show heketi -p ActiveEnterTimestamp --value").stdout.strip()
    log = dexec("journalctl -u heketi --no-pager --since '%s'" % since).stdout
    assert "skipping ssh host verification" not in log


def test_changed_host_key_stops_the_reach_check_naming_the_node(lab):
    assert heketi_ssh("true").returncode == 0
    dexec("rm -f /etc/ssh/ssh_host_* && ssh-keygen -A -q && systemctl restart ssh", box=NODE2)
    # The operator accepts the reinstalled node's new key for Ansible's own ssh (the lab's known_hosts);
    # Heketi's known_hosts is the role's business.
    rekey = subprocess.run([str(LAB_TOOL), "known-hosts", "--name", LAB], cwd=REPO_ROOT, capture_output=True,
                           text=True, check=False)
    assert rekey.returncode == 0, rekey.stderr
    assert "Host key verification failed" in heketi_ssh("true").stderr
    proc = lab.run_role("--tags", "topology_preflight", playbook="playbooks/topology.yml",
                        extra_vars={"topology_devices": ["/dev/sdf"], "topology_check_devices": False,
                                    "topology_manage": "{{ inventory_hostname }}"})
    assert proc.returncode != 0
    assert "node2 (node2): ssh failed: Host key verification failed." in proc.output, proc.output[-3000:]
    assert "the host key of node2 does not match /etc/heketi/known_hosts" in proc.output
    assert "node1 (node1): ssh failed" not in proc.output  # node1 fails only the gluster check here
    # The heketi stage collects the new key over Ansible's connection; ssh passes again.
    again = lab.run_role("--tags", "heketi_configure,heketi_service")
    assert again.returncode == 0, again.output[-3000:]
    # Read by the play on the storage nodes, all at once, not delegated from the Heketi host.
    assert "TASK [glusterfs.heketi.heketi : Read this node's ssh host keys over Ansible's connection]" in again.output
    assert "node1 -> node2" not in again.output
    assert heketi_ssh("true").returncode == 0


def test_the_role_alone_reads_the_nodes_keys_itself(lab, tmp_path):
    """Without playbooks/heketi.yml's play on the storage nodes, the role reads the keys from the Heketi host."""
    dexec("rm -f /etc/ssh/ssh_host_* && ssh-keygen -A -q && systemctl restart ssh", box=NODE2)
    rekey = subprocess.run([str(LAB_TOOL), "known-hosts", "--name", LAB], cwd=REPO_ROOT, capture_output=True,
                           text=True, check=False)
    assert rekey.returncode == 0, rekey.stderr
    playbook = tmp_path / "role_alone.yml"
    playbook.write_text(json.dumps([{"hosts": "heketi", "become": True, "gather_facts": True,
                                     "roles": [{"role": "glusterfs.heketi.heketi"}]}]))
    proc = lab.run_role("--tags", "heketi_known_hosts", playbook=str(playbook))
    assert proc.returncode == 0, proc.output[-3000:]
    assert "node1 -> node2" in proc.output  # read from the Heketi host, delegated
    algorithm, public = dexec("cat /etc/ssh/ssh_host_ed25519_key.pub", box=NODE2).stdout.split()[:2]
    assert "%s %s" % (algorithm, public) in dexec("cat /etc/heketi/known_hosts").stdout
    assert heketi_ssh("true").returncode == 0


# ---------------------------------------------------------------------- TLS
def test_tls_end_to_end_and_the_certificate_is_kept_on_rerun(lab, tmp_path):
    proc = lab.run_role(extra_vars={"heketi_tls": True})
    assert proc.returncode == 0, proc.output[-5000:]

    def fingerprints():
        return {name: hashlib.sha256(dexec("cat /etc/heketi/tls/%s" % name).stdout.encode()).hexdigest()
                for name in ("ca.crt", "ca.key", "heketi.crt")}

    first = fingerprints()
    again = lab.run_role(extra_vars={"heketi_tls": True})
    assert again.returncode == 0, again.output[-5000:]
    recap = [line for line in again.output.splitlines() if line.startswith("node1 ")][-1]
    assert "changed=0" in recap, recap
    assert fingerprints() == first
    ca = tmp_path / "ca.crt"
    ca.write_text(dexec("cat /etc/heketi/tls/ca.crt").stdout)
    admin = lab.config()["jwt"]["admin"]["key"]
    # https, verified against the role's CA for the lab address (a SAN); plain HTTP gets no API answer.
    assert lab.status("/clusters", "admin", admin, scheme="https", cafile=str(ca)) == 200
    assert lab.status("/clusters", "admin", admin) in (None, 400)
    with pytest.raises(ssl.SSLError):
        ssl.create_default_context().wrap_socket(__import__("socket").create_connection((lab.ip, 8080), 10),
                                                 server_hostname=lab.ip)
    # heketi-cli as root with the environment file: https://127.0.0.1, trusting the CA.
    env = dexec("cat /etc/heketi/heketi-cli.env").stdout
    assert "HEKETI_CLI_SERVER=https://127.0.0.1:8080\n" in env and "SSL_CERT_FILE=/etc/heketi/tls/ca.crt\n" in env
    cli = dexec("set -a; . /etc/heketi/heketi-cli.env; set +a; heketi-cli cluster list", check=False)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "Clusters:" in cli.stdout


def _served_certificate(lab, cafile):
    """The certificate Heketi serves on the lab address, verified against ``cafile``."""
    from cryptography import x509
    context = ssl.create_default_context(cafile=cafile)
    with context.wrap_socket(__import__("socket").create_connection((lab.ip, 8080), 10), server_hostname=lab.ip) as tls:
        return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def _not_after(cert):
    """notAfter, naive UTC, whatever the cryptography version."""
    value = getattr(cert, "not_valid_after_utc", None)
    return value.replace(tzinfo=None) if value is not None else cert.not_valid_after


def test_tls_certificate_with_fewer_than_renew_days_left_is_renewed_and_served(lab, tmp_path):
    from cryptography import x509
    # A 10-day certificate (heketi_tls_renew_days 5: kept by its own settings), signed by the role's CA.
    short = {"heketi_tls": True, "heketi_tls_cert_days": 10, "heketi_tls_renew_days": 5}
    dexec("rm -f /etc/heketi/tls/heketi.crt")
    proc = lab.run_role(extra_vars=short)
    assert proc.returncode == 0, proc.output[-5000:]
    ca_before = dexec("cat /etc/heketi/tls/ca.crt /etc/heketi/tls/ca.key").stdout
    ca = tmp_path / "ca.crt"
    ca.write_text(dexec("cat /etc/heketi/tls/ca.crt").stdout)
    old = _served_certificate(lab, str(ca))
    assert old.serial_number == x509.load_pem_x509_certificate(dexec("cat /etc/heketi/tls/heketi.crt").stdout.encode()).serial_number
    assert 9 <= (_not_after(old) - datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)).days <= 10
    again = lab.run_role(extra_vars=short)
    assert again.returncode == 0, again.output[-5000:]
    assert "changed=0" in [line for line in again.output.splitlines() if line.startswith("node1 ")][-1]

    # The defaults (825 days, renewal 30 days before the end): 10 days left, renewed; Heketi restarted with it.
    proc = lab.run_role("--diff", extra_vars={"heketi_tls": True})
    assert proc.returncode == 0, proc.output[-5000:]
    assert "Heketi's certificate: renewed (it expires on" in proc.output
    assert "RUNNING HANDLER [glusterfs.heketi.heketi : Restart Heketi]" in proc.output
    assert dexec("cat /etc/heketi/tls/ca.crt /etc/heketi/tls/ca.key").stdout == ca_before
    for _attempt in range(60):
        try:
            new = _served_certificate(lab, str(ca))
            break
        except OSError:  # restarting
            dexec("sleep 0.5")
    else:
        pytest.fail("Heketi did not serve TLS again after the renewal")
    assert new.serial_number != old.serial_number
    assert (_not_after(new) - _not_after(old)).days >= 800
    assert new.issuer == old.issuer
    admin = lab.config()["jwt"]["admin"]["key"]
    assert lab.status("/clusters", "admin", admin, scheme="https", cafile=str(ca)) == 200
    # A renewal window as long as the validity is refused before anything changes.
    bad = lab.run_role(extra_vars={"heketi_tls": True, "heketi_tls_renew_days": 825})
    assert bad.returncode != 0 and "heketi_tls_cert_days > heketi_tls_renew_days >= 0" in " ".join(bad.output.split())
    assert _served_certificate(lab, str(ca)).serial_number == new.serial_number
