# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""heketi_certificate with the real ``cryptography`` library on files under tmp_path, owner and groups the
current user's (the role passes root and the heketi group): the module's run() with a real AnsibleModule,
and one task through ansible-playbook for check and diff mode (the lab runs it on the Heketi host:
tests/integration/test_heketi_role.py)."""
from __future__ import annotations

import contextlib
import grp
import json
import os
import pwd
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from ansible.module_utils import basic
from ansible_collections.glusterfs.heketi.plugins.module_utils import _tls
from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure
from ansible_collections.glusterfs.heketi.plugins.modules import heketi_certificate

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
SANS = ["IP:127.0.0.1", "DNS:heketi1", "IP:192.0.2.11"]
MODES = {"ca.key": 0o600, "ca.crt": 0o644, "heketi.key": 0o640, "heketi.crt": 0o644}


@contextlib.contextmanager
def _module_args(args):
    try:
        from ansible.module_utils.testing import patch_module_args  # ansible-core 2.19+
    except ImportError:
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved
    else:
        with patch_module_args(args):
            yield


def run(folder, check=False, diff=False, **overrides):
    args = dict(path=str(folder), common_name="heketi1", subject_alt_names=SANS, group=GROUP, owner=OWNER,
                ca_group=GROUP, _ansible_check_mode=check, _ansible_diff=diff)
    args.update(overrides)
    with _module_args(args):
        module = basic.AnsibleModule(argument_spec=dict(
            path=dict(type="path", required=True), common_name=dict(type="str", required=True),
            subject_alt_names=dict(type="list", elements="str", required=True), group=dict(type="str", required=True),
            owner=dict(type="str", default="root"), ca_group=dict(type="str", default="root"),
            ca_days=dict(type="int", default=3650), cert_days=dict(type="int", default=825),
            renew_days=dict(type="int", default=30)), supports_check_mode=True)
    return heketi_certificate.run(module)


def contents(folder):
    return {name: (folder / name).read_bytes() for name in MODES if (folder / name).exists()}


def cert(folder, name="heketi.crt"):
    return x509.load_pem_x509_certificate((folder / name).read_bytes())


@pytest.fixture
def tls(tmp_path):
    return tmp_path / "tls"


def test_the_first_run_creates_the_folder_the_ca_and_the_certificate(tls):
    result = run(tls)
    assert result["changed"] and result["ca_created"] and result["ca_key_created"] and result["server_changed"]
    assert result["certificate"]["action"] == "created"
    assert stat.S_IMODE(tls.stat().st_mode) == 0o750
    for name, mode in MODES.items():
        st = (tls / name).stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (mode, os.getuid(), os.getgid()), name
    assert sorted(os.listdir(tls)) == sorted(MODES)  # no temporary file left
    ca, server = cert(tls, "ca.crt"), cert(tls)
    ca_key = _tls.load_key((tls / "ca.key").read_bytes())
    assert ca_key.curve.name == "secp384r1"
    assert _tls.load_key((tls / "heketi.key").read_bytes()).curve.name == "secp256r1"
    assert _tls.common_name(ca) == "Heketi CA (heketi1)"
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign and not ku.value.digital_signature
    assert _tls.common_name(server) == "heketi1" and _tls.signed_by(server, ca)
    assert _tls.cert_sans(server) == sorted(SANS) == result["certificate"]["subject_alt_names"]
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]
    sku = server.extensions.get_extension_for_class(x509.KeyUsage).value
    assert sku.digital_signature and sku.key_agreement and not sku.key_cert_sign
    days = (_tls.not_after(server) - _tls.utcnow()).days
    assert 823 <= days <= 825
    assert 3648 <= (_tls.not_after(ca) - _tls.utcnow()).days <= 3650


def test_a_rerun_changes_nothing(tls):
    run(tls)
    before = contents(tls)
    result = run(tls)
    assert not result["changed"] and not result["server_changed"] and result["repaired"] == []
    assert result["certificate"]["action"] == "kept"
    assert contents(tls) == before


def test_other_names_are_signed_again_by_the_same_ca(tls):
    run(tls)
    before = contents(tls)
    result = run(tls, subject_alt_names=SANS + ["DNS:heketi.example.com"])
    assert result["changed"] and result["server_changed"] and not result["ca_created"]
    assert result["certificate"]["action"] == "resigned"
    assert "names" in result["certificate"]["reason"]
    after = contents(tls)
    assert {n: after[n] for n in ("ca.key", "ca.crt", "heketi.key")} == {n: before[n] for n in ("ca.key", "ca.crt", "heketi.key")}
    assert after["heketi.crt"] != before["heketi.crt"]
    assert "DNS:heketi.example.com" in _tls.cert_sans(cert(tls))
    assert _tls.signed_by(cert(tls), cert(tls, "ca.crt"))


def test_a_certificate_near_its_end_is_renewed(tls):
    run(tls, cert_days=10, renew_days=5)
    assert not run(tls, cert_days=10, renew_days=5)["changed"]  # 10 days left, 5 asked: kept
    old = cert(tls)
    ca_before = (tls / "ca.crt").read_bytes()
    result = run(tls, renew_days=20)  # 10 days left < 20
    assert result["certificate"]["action"] == "renewed" and result["server_changed"]
    new = cert(tls)
    assert new.serial_number != old.serial_number
    assert (_tls.not_after(new) - _tls.not_after(old)).days >= 814
    assert (tls / "ca.crt").read_bytes() == ca_before and _tls.signed_by(new, cert(tls, "ca.crt"))
    assert not run(tls, renew_days=20)["changed"]


def test_a_new_ca_gets_the_certificate_signed_again(tls):
    run(tls)
    server_key = (tls / "heketi.key").read_bytes()
    old_ca = (tls / "ca.crt").read_bytes()
    (tls / "ca.key").unlink()
    (tls / "ca.crt").unlink()
    result = run(tls)
    assert result["ca_created"] and result["certificate"]["action"] == "resigned"
    assert "CA" in result["certificate"]["reason"]
    assert (tls / "ca.crt").read_bytes() != old_ca and (tls / "heketi.key").read_bytes() == server_key
    assert _tls.signed_by(cert(tls), cert(tls, "ca.crt"))


def test_a_lost_ca_certificate_is_self_signed_again_with_the_kept_key(tls):
    run(tls)
    ca_key, server = (tls / "ca.key").read_bytes(), (tls / "heketi.crt").read_bytes()
    (tls / "ca.crt").unlink()
    result = run(tls)
    assert result["ca_created"] and not result["ca_key_created"] and not result["server_changed"]
    assert (tls / "ca.key").read_bytes() == ca_key and (tls / "heketi.crt").read_bytes() == server
    assert _tls.signed_by(cert(tls), cert(tls, "ca.crt"))


@pytest.mark.parametrize("bad", [b"not a key\n", b""])
def test_a_bad_ca_key_is_an_error_naming_it_and_nothing_is_written(tls, bad):
    run(tls)
    (tls / "ca.key").write_bytes(bad)
    (tls / "heketi.crt").unlink()
    (tls / "heketi.key").chmod(0o644)
    before = contents(tls)
    with pytest.raises(ModuleFailure) as err:
        run(tls)
    assert str(tls / "ca.key") in err.value.msg
    assert contents(tls) == before and not (tls / "heketi.crt").exists()
    assert stat.S_IMODE((tls / "heketi.key").stat().st_mode) == 0o644


def test_an_unreadable_ca_key_is_an_error_naming_it(tls, monkeypatch):
    run(tls)
    real_open = open

    def deny(path, *args, **kwargs):
        if str(path) == str(tls / "ca.key"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(ModuleFailure) as err:
        run(tls)
    assert err.value.msg.startswith("%s cannot be read" % (tls / "ca.key"))


def test_a_ca_certificate_of_another_key_is_refused(tls, tmp_path):
    run(tls)
    run(tmp_path / "other")
    (tls / "ca.crt").write_bytes((tmp_path / "other" / "ca.crt").read_bytes())
    before = contents(tls)
    with pytest.raises(ModuleFailure) as err:
        run(tls)
    assert "%s was not made from %s" % (tls / "ca.crt", tls / "ca.key") in err.value.msg
    assert contents(tls) == before


def test_check_mode_reports_and_writes_nothing(tls):
    result = run(tls, check=True, diff=True)
    assert result["changed"] and result["ca_created"] and result["certificate"]["action"] == "created"
    assert not tls.exists()
    assert "IP:192.0.2.11" in result["diff"]["after"] and result["diff"]["before"] == ""
    run(tls)
    before = contents(tls)
    result = run(tls, check=True, diff=True, cert_days=1000, renew_days=900)
    assert result["certificate"]["action"] == "renewed" and result["certificate"]["serial"] is None
    assert "not_after" in result["diff"]["before"] and "issuer: commonName=Heketi CA (heketi1)" in result["diff"]["after"]
    assert contents(tls) == before
    assert "PRIVATE" not in json.dumps(result)


def test_check_mode_accepts_a_group_the_run_would_create_first(tls):
    result = run(tls, check=True, group="no-such-group-here")
    assert result["changed"] and not tls.exists()
    run(tls)
    result = run(tls, check=True, group="no-such-group-here")
    assert result["changed"] and str(tls / "heketi.key") in result["repaired"] and not result["server_changed"]


def test_modes_drift_is_repaired(tls):
    run(tls)
    before = contents(tls)
    (tls / "ca.key").chmod(0o644)
    (tls / "heketi.key").chmod(0o666)
    tls.chmod(0o755)
    result = run(tls)
    assert result["changed"] and not result["server_changed"]
    assert sorted(result["repaired"]) == sorted([str(tls), str(tls / "ca.key"), str(tls / "heketi.key")])
    assert stat.S_IMODE((tls / "ca.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tls / "heketi.key").stat().st_mode) == 0o640
    assert stat.S_IMODE(tls.stat().st_mode) == 0o750
    assert contents(tls) == before


def test_a_bad_or_other_server_key_is_replaced_and_the_certificate_follows(tls):
    run(tls)
    old_cert = (tls / "heketi.crt").read_bytes()
    (tls / "heketi.key").write_bytes(_tls.key_pem(ec.generate_private_key(ec.SECP384R1())))
    result = run(tls)
    assert result["key_created"] and result["certificate"]["action"] == "resigned"
    assert "server key" in result["certificate"]["reason"]
    key = _tls.load_key((tls / "heketi.key").read_bytes())
    assert key.curve.name == "secp256r1" and _tls.same_public_key(cert(tls), key)
    assert (tls / "heketi.crt").read_bytes() != old_cert
    (tls / "heketi.crt").write_bytes(b"garbage")
    result = run(tls)
    assert result["certificate"]["action"] == "resigned" and not result["key_created"]


@pytest.mark.parametrize("overrides, msg", [
    (dict(renew_days=825), "renew_days: must be 0 or more and less than cert_days (825), got 825"),
    (dict(renew_days=-1), "renew_days: must be 0 or more"),
    (dict(cert_days=0), "cert_days: must be at least 1 day, got 0"),
    (dict(subject_alt_names=["IP:127.0.0.1", "heketi1"]), "subject_alt_names[1] 'heketi1' must be IP:<address> or DNS:<name>"),
    (dict(subject_alt_names=["IP:999.1.1.1"]), "subject_alt_names[0] 'IP:999.1.1.1' is not an IP address"),
    (dict(group="no-such-group-here"), "group: no group 'no-such-group-here' on this host"),
])
def test_bad_parameters_are_refused_before_anything_is_written(tls, overrides, msg):
    with pytest.raises(ModuleFailure) as err:
        run(tls, **overrides)
    assert err.value.msg.startswith(msg), err.value.msg
    assert not tls.exists()


def test_the_sans_are_the_filters_format():
    from ansible_collections.glusterfs.heketi.plugins.filter.subject_alt_names import subject_alt_names
    entries = subject_alt_names(["127.0.0.1", "Heketi1.", "2001:db8::1", "192.0.2.11"])
    assert _tls.parse_sans(entries) == entries


def test_the_task_in_check_and_diff_mode(run_playbook, tmp_path):
    play = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars: {ansible_python_interpreter: "{{ ansible_playbook_python }}"}
  tasks:
    - glusterfs.heketi.heketi_certificate:
        path: "%(dir)s"
        common_name: heketi1
        subject_alt_names: [IP:127.0.0.1, DNS:heketi1]
        owner: %(owner)s
        group: %(group)s
        ca_group: %(group)s
      register: tls
    - ansible.builtin.copy: {content: "{{ tls | to_json }}", dest: "%(out)s", mode: "0600"}
      check_mode: false
""" % dict(dir=tmp_path / "tls", owner=OWNER, group=GROUP, out=tmp_path / "out.json")
    rc, out = run_playbook(play, "--check", "--diff")
    assert rc == 0, out
    assert "+subject_alt_names: ['DNS:heketi1', 'IP:127.0.0.1']" in out
    assert not (tmp_path / "tls").exists()
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["changed"] and result["certificate"]["action"] == "created"
    rc, out = run_playbook(play)
    assert rc == 0, out
    assert sorted(os.listdir(tmp_path / "tls")) == sorted(MODES)
    rc, out = run_playbook(play)
    assert rc == 0 and "ok: [localhost]" in out.split("TASK [ansible.builtin.copy]")[0], out
