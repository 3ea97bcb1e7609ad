#!/usr/bin/python
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Runs on the Heketi host, EL 7 (Python 2.7) included: no Python 3-only syntax here.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: heketi_certificate
short_description: Keep Heketi's TLS certificate signed by a CA of its own, on the Heketi host, in one run
version_added: 1.1.0
description:
  - Manages four files in O(path) with the Python C(cryptography) library, in one module run
    (the C(glusterfs.heketi.heketi) role's own-CA TLS setup).
  - C(ca.key), the CA's key (ECC secp384r1, O(owner):O(ca_group) C(0600)) is created once when missing and never
    regenerated or overwritten. An existing C(ca.key) that cannot be read or is not a private key is an error
    naming it; nothing is changed.
  - C(ca.crt), the CA certificate (self-signed with C(ca.key); CN C(Heketi CA (<common_name>)); C(CA:TRUE pathlen:0)
    and C(keyCertSign), C(cRLSign), both critical; valid O(ca_days); O(owner):O(ca_group) C(0644)) is created when
    missing and kept otherwise. An existing C(ca.crt) that is not a certificate or not made from C(ca.key) is an
    error naming it; nothing is changed. Delete both C(ca.key) and C(ca.crt) to start a new CA.
  - C(heketi.key), Heketi's key (ECC secp256r1, O(owner):O(group) C(0640)) is created when missing, when it is not a
    private key or not an ECC secp256r1 key.
  - C(heketi.crt), Heketi's certificate (CN O(common_name), the O(subject_alt_names), C(serverAuth),
    C(digitalSignature) and C(keyAgreement), signed by the CA, valid O(cert_days); O(owner):O(group) C(0644)) is
    created when missing and signed again when it is not a certificate, does not match C(heketi.key), was not signed
    by the current CA, its common name or names differ, or fewer than O(renew_days) days are left (renewal).
    It is kept byte for byte otherwise.
  - The owner, group and mode of O(path) (O(owner):O(group) C(0750)) and of the four files are enforced on every run;
    a repair is a change. Every file is written to a temporary file in O(path) with its final mode and moved into
    place, so an interrupted run leaves the earlier file or the new one, never a part.
requirements:
  - cryptography (python3-cryptography; python2-cryptography on EL 7) on the managed host
author:
  - glusterfs.heketi developers (@glusterfs)
options:
  path:
    description: The folder of the four files (the role's C(heketi_tls_dir)); created when missing.
    type: path
    required: true
  common_name:
    description: The certificate's common name, and in the CA's name (the role passes the inventory host name).
    type: str
    required: true
  subject_alt_names:
    description:
      - The names and addresses clients use, each V(IP:<address>) or V(DNS:<name>), as the
        P(glusterfs.heketi.subject_alt_names#filter) filter writes them. Their order does not matter.
    type: list
    elements: str
    required: true
  group:
    description: Group of O(path), C(heketi.key) and C(heketi.crt) (the group Heketi runs as).
    type: str
    required: true
  owner:
    description: Owner of O(path) and the four files.
    type: str
    default: root
  ca_group:
    description: Group of C(ca.key) and C(ca.crt).
    type: str
    default: root
  ca_days:
    description: Validity of a new CA certificate, in days.
    type: int
    default: 3650
  cert_days:
    description: Validity of a new or renewed server certificate, in days.
    type: int
    default: 825
  renew_days:
    description:
      - The server certificate is renewed when fewer than this many days are left. V(0) renews only an expired one.
      - Must be less than O(cert_days), or every run would renew it.
    type: int
    default: 30
extends_documentation_fragment:
  - glusterfs.heketi.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the files and reports what would be created, signed or repaired; writes nothing.
  diff_mode:
    support: full
    details:
      - The server certificate's subject alternative names, notAfter and issuer before and after (never key material).
  idempotent:
    support: full
  platform:
    platforms: posix
    support: full
    description: The Heketi host (its keys never leave it), with the Python cryptography library.
notes:
  - Heketi reads C(heketi.crt) and C(heketi.key) when it starts; restart it when RV(server_changed) is true.
    It does not read C(ca.crt) (the clients do).
  - A CA certificate that expires within O(renew_days) is reported as a warning; it is never replaced by the module.
  - Bad parameters are reported, naming the parameter, before any file is read or written.
seealso:
  - module: community.crypto.x509_certificate
'''

EXAMPLES = r'''
- name: Heketi's certificate from the role's CA
  glusterfs.heketi.heketi_certificate:
    path: /etc/heketi/tls
    common_name: heketi1
    subject_alt_names: [IP:127.0.0.1, DNS:heketi1, DNS:heketi1.example.com, IP:192.0.2.11]
    group: heketi
    renew_days: 30
  register: heketi_tls

- name: Restart Heketi when it has a new key or certificate
  ansible.builtin.systemd_service:
    name: heketi
    state: restarted
  when: heketi_tls.server_changed
'''

RETURN = r'''
ca_created:
  description: Whether the CA certificate was created (would be, in check mode). C(ca.key) created too when RV(ca_key_created).
  returned: always
  type: bool
  sample: false
ca_key_created:
  description: Whether the CA key was created (would be, in check mode).
  returned: always
  type: bool
  sample: false
key_created:
  description: Whether Heketi's key was created or replaced (would be, in check mode).
  returned: always
  type: bool
  sample: false
server_changed:
  description: Whether Heketi's key or certificate changed (would change), so Heketi must be restarted to serve them.
  returned: always
  type: bool
  sample: false
repaired:
  description: The paths whose owner, group or mode was repaired (would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/heketi/tls/heketi.key]
ca_not_after:
  description: The CA certificate's notAfter, UTC, ISO 8601 (in check mode, null for a CA not yet created).
  returned: always
  type: str
  sample: '2036-11-29T20:01:02Z'
certificate:
  description: What was done with Heketi's certificate.
  returned: always
  type: dict
  contains:
    action:
      description: V(kept), V(created) (it was missing), V(renewed) (fewer than O(renew_days) days left) or V(resigned).
      type: str
      sample: kept
    reason:
      description: Why, in words.
      type: str
      sample: 'the subject alternative names changed'
    not_after:
      description: The certificate's notAfter after the task, UTC, ISO 8601 (planned in check mode).
      type: str
      sample: '2029-03-06T20:01:02Z'
    serial:
      description: Its serial number, in hex (null in check mode for one not yet signed).
      type: str
      sample: '5e1f0c...'
    subject_alt_names:
      description: Its subject alternative names, sorted.
      type: list
      elements: str
      sample: [DNS:heketi1, IP:127.0.0.1, IP:192.0.2.11]
'''

import datetime
import grp
import os
import pwd
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.glusterfs.heketi.plugins.module_utils import _tls
from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure, run_module

NAMES = ('ca.key', 'ca.crt', 'heketi.key', 'heketi.crt')


def _read(path):
    """The file's bytes, None when it does not exist; another error (unreadable) is a ModuleFailure naming it."""
    try:
        with open(path, 'rb') as f:
            return f.read()
    except (IOError, OSError) as err:
        if not os.path.exists(path):
            return None
        raise ModuleFailure('%s cannot be read: %s' % (path, err))


class Files(object):
    """Writes and ownership repairs in the folder, recorded; nothing touched in check mode."""

    def __init__(self, module, uid, gid_of):
        self.module, self.uid, self.gid_of = module, uid, gid_of
        self.written, self.repaired = [], []

    def write(self, path, data, mode, group):
        self.written.append(path)
        if self.module.check_mode:
            return
        uid, gid = self.uid, self.gid_of[group]
        if os.path.lexists(path):
            # atomic_move gives the new file the old one's owner and mode: the final ones first
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', suffix='.tmp', dir=os.path.dirname(path))
        try:
            os.fchmod(fd, mode)
            os.fchown(fd, uid, gid)
            with os.fdopen(fd, 'wb') as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            # A new file gets 0666 & ~umask from atomic_move: never more than 0600 before the final mode below.
            umask = os.umask(0o177)
            try:
                self.module.atomic_move(tmp, path)
            finally:
                os.umask(umask)
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def enforce(self, path, mode, group):
        """Owner, group and mode of an existing path; a repair is recorded."""
        st = os.lstat(path)
        if stat.S_IMODE(st.st_mode) == mode and st.st_uid == self.uid and st.st_gid == self.gid_of[group]:
            return
        self.repaired.append(path)
        if not self.module.check_mode:
            os.chown(path, self.uid, self.gid_of[group])
            os.chmod(path, mode)


def _check_params(params, check_mode):
    for field in ('ca_days', 'cert_days'):
        if params[field] < 1:
            raise ModuleFailure('%s: must be at least 1 day, got %d' % (field, params[field]))
    if not 0 <= params['renew_days'] < params['cert_days']:
        raise ModuleFailure('renew_days: must be 0 or more and less than cert_days (%d), got %d; otherwise every run '
                            'would renew the certificate' % (params['cert_days'], params['renew_days']))
    if not params['common_name'].strip():
        raise ModuleFailure('common_name: must not be empty')
    try:
        sans = _tls.parse_sans(params['subject_alt_names'])
    except ValueError as err:
        raise ModuleFailure(str(err))
    # In check mode the group may be one the run would create first (the role's heketi group): None, so
    # every path is reported as to be repaired.
    try:
        uid = pwd.getpwnam(params['owner']).pw_uid
    except KeyError:
        if not check_mode:
            raise ModuleFailure('owner: no user %r on this host' % params['owner'])
        uid = None
    gid_of = {}
    for field in ('group', 'ca_group'):
        try:
            gid_of[field] = grp.getgrnam(params[field]).gr_gid
        except KeyError:
            if not check_mode:
                raise ModuleFailure('%s: no group %r on this host' % (field, params[field]))
            gid_of[field] = None
    return sans, uid, gid_of


def _cert_view(cert):
    return dict(subject_alt_names=_tls.cert_sans(cert), not_after=_tls.not_after(cert).isoformat() + 'Z',
                issuer=_tls.issuer_text(cert), serial='%x' % cert.serial_number)


def _diff_text(view):
    if view is None:
        return ''
    return ''.join('%s: %s\n' % (k, view[k]) for k in ('subject_alt_names', 'not_after', 'issuer'))


def run(module):
    if _tls.CRYPTOGRAPHY_IMPORT_ERROR:
        raise ModuleFailure(missing_required_lib('cryptography', reason='to create the CA and sign Heketi\'s certificate '
                                                 '(the role installs python3-cryptography)'),
                            exception=_tls.CRYPTOGRAPHY_IMPORT_ERROR)
    params = module.params
    sans, uid, gid_of = _check_params(params, module.check_mode)
    host = params['common_name'].strip()
    folder = params['path']
    paths = dict((name, os.path.join(folder, name)) for name in NAMES)
    files = Files(module, uid, gid_of)
    now = _tls.utcnow()

    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ModuleFailure('path: %s exists and is not a folder' % folder)
    data = dict((name, _read(paths[name]) if os.path.isdir(folder) else None) for name in NAMES)

    # Everything is read and checked before anything is written: a bad CA file changes nothing.
    ca_key = None
    if data['ca.key'] is not None:
        ca_key = _tls.load_key(data['ca.key'])
        if ca_key is None:
            raise ModuleFailure('%s is not a PEM private key without passphrase; it is never replaced: restore it, '
                                'or delete it and %s to start a new CA' % (paths['ca.key'], paths['ca.crt']))
    ca_cert = None
    if data['ca.crt'] is not None:
        ca_cert = _tls.load_cert(data['ca.crt'])
        if ca_cert is None:
            raise ModuleFailure('%s is not a PEM certificate; restore it or delete it (it is made again from %s)'
                                % (paths['ca.crt'], paths['ca.key']))
        if ca_key is None:
            raise ModuleFailure('%s exists without its key %s; restore the key, or delete %s to start a new CA'
                                % (paths['ca.crt'], paths['ca.key'], paths['ca.crt']))
        if not _tls.same_public_key(ca_cert, ca_key):
            raise ModuleFailure('%s was not made from %s; restore the matching pair, or delete both to start a new CA'
                                % (paths['ca.crt'], paths['ca.key']))

    if not os.path.isdir(folder):
        files.written.append(folder)
        if not module.check_mode:
            os.makedirs(folder, 0o750)
    if os.path.isdir(folder):
        files.enforce(folder, 0o750, 'group')

    result = dict(ca_key_created=ca_key is None, ca_created=ca_cert is None, key_created=False)
    if ca_key is None:
        ca_key = _tls.new_key(_tls.CA_CURVE)
        files.write(paths['ca.key'], _tls.key_pem(ca_key), 0o600, 'ca_group')
    if ca_cert is None:
        ca_cert = _tls.new_ca_cert(ca_key, host, params['ca_days'], now)
        files.write(paths['ca.crt'], _tls.cert_pem(ca_cert), 0o644, 'ca_group')
    if _tls.not_after(ca_cert) - now < datetime.timedelta(days=params['renew_days']):
        module.warn('The CA certificate %s expires on %sZ: delete it (it is self-signed again with the same key) and give '
                    'the new one to the clients' % (paths['ca.crt'], _tls.not_after(ca_cert).isoformat()))

    server_key = _tls.load_key(data['heketi.key']) if data['heketi.key'] is not None else None
    if server_key is None or not _tls.is_ec_key(server_key, _tls.SERVER_CURVE):
        result['key_created'] = True
        server_key = _tls.new_key(_tls.SERVER_CURVE)
        files.write(paths['heketi.key'], _tls.key_pem(server_key), 0o640, 'group')

    cert = _tls.load_cert(data['heketi.crt']) if data['heketi.crt'] is not None else None
    if data['heketi.crt'] is None:
        action, reason = 'created', 'there was no certificate'
    elif cert is None:
        action, reason = 'resigned', 'the file was not a PEM certificate'
    else:
        action, reason = _tls.certificate_plan(cert, server_key, ca_cert, host, sans, params['renew_days'], now)
    before = _cert_view(cert) if cert is not None else None
    if action == 'kept':
        after = before
    else:
        new = _tls.new_server_cert(server_key, ca_key, ca_cert, host, sans, params['cert_days'], now)
        files.write(paths['heketi.crt'], _tls.cert_pem(new), 0o644, 'group')
        after = _cert_view(new)

    for name, mode, group in (('ca.key', 0o600, 'ca_group'), ('ca.crt', 0o644, 'ca_group'),
                              ('heketi.key', 0o640, 'group'), ('heketi.crt', 0o644, 'group')):
        if paths[name] not in files.written:
            files.enforce(paths[name], mode, group)

    if module.check_mode and action != 'kept':
        after['serial'] = None  # nothing was signed
    certificate = dict(action=action, reason=reason, not_after=after['not_after'], serial=after['serial'],
                       subject_alt_names=after['subject_alt_names'])
    result.update(
        changed=bool(files.written or files.repaired),
        server_changed=result['key_created'] or action != 'kept',
        repaired=files.repaired,
        ca_not_after=None if module.check_mode and result['ca_created'] else _tls.not_after(ca_cert).isoformat() + 'Z',
        certificate=certificate,
    )
    if module._diff:
        result['diff'] = dict(before=_diff_text(before), after=_diff_text(after),
                              before_header=paths['heketi.crt'], after_header=paths['heketi.crt'])
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            common_name=dict(type='str', required=True),
            subject_alt_names=dict(type='list', elements='str', required=True),
            group=dict(type='str', required=True),
            owner=dict(type='str', default='root'),
            ca_group=dict(type='str', default='root'),
            ca_days=dict(type='int', default=3650),
            cert_days=dict(type='int', default=825),
            renew_days=dict(type='int', default=30),
        ),
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
