# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Backup files of Heketi's database: written whole or not at all, checksummed, verified, rotated. PRIVATE.

Standard library only, so that the same file also runs on the Heketi host as the systemd timer's
backup command (``python3 _heketi_backup.py --config FILE``), without Ansible.

* ``write`` puts the bytes in a temporary file in the same folder, fsyncs it, checks it is a bolt
  database, renames it into place and writes ``<name>.sha256`` (``sha256sum -c`` format) the same
  way: an interrupted backup (Heketi killed, disk full, the run stopped) never replaces or removes
  an earlier backup, and leaves at most a ``.tmp`` file that the next run removes.
* ``rotate`` keeps the newest ``keep`` backups (by the UTC time stamp in their name) and runs only
  after a backup was written and verified.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import struct
import sys
import tempfile
import time

PREFIX = 'heketi-'
SUFFIX = '.db'
# bolt (go.etcd.io/bbolt, boltdb/bolt): page header of 16 bytes, then the meta page's magic, little endian
BOLT_MAGIC = 0xED0CDAED
_NAME = re.compile(r'^(?P<prefix>.*)(?P<stamp>\d{8}T\d{6}Z)(?:-\d+)?\.db$')


class BackupError(Exception):
    pass


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def is_bolt(data):
    """Whether ``data`` starts like a bolt database (both meta pages are checked by Heketi itself on open)."""
    return len(data) >= 20 and struct.unpack('<I', data[16:20])[0] == BOLT_MAGIC


def _atomic(path, data, mode=0o600):
    folder = os.path.dirname(path) or '.'
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', suffix='.tmp', dir=folder)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dfd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def backups(folder, prefix=PREFIX):
    """Backup files in ``folder`` made with ``prefix``, oldest first."""
    if not os.path.isdir(folder):
        return []
    found = []
    for name in os.listdir(folder):
        match = _NAME.match(name)
        if match and match.group('prefix') == prefix:
            found.append((match.group('stamp'), name))
    return [os.path.join(folder, name) for _stamp, name in sorted(found)]


def verify(path):
    """Check a backup against its .sha256 file and the bolt magic; returns its sha256."""
    with open(path, 'rb') as f:
        head = f.read(4096)
    if not is_bolt(head):
        raise BackupError('%s is not a bolt database (Heketi database)' % path)
    digest = sha256_file(path)
    try:
        with open(path + '.sha256') as f:
            recorded = f.read().split()[0]
    except (OSError, IndexError):
        raise BackupError('%s has no checksum file %s.sha256' % (path, path))
    if recorded != digest:
        raise BackupError('%s does not match its checksum (%s recorded, %s now)' % (path, recorded, digest))
    return digest


def write(folder, data, prefix=PREFIX, now=None):
    """Store ``data`` (the answer of GET /backup/db) as a new backup; returns (path, sha256, skipped).

    ``skipped`` is True when the newest backup holds exactly these bytes (no new file then).
    """
    if not is_bolt(data):
        raise BackupError('Heketi answered GET /backup/db with %d bytes that are not a bolt database' % len(data))
    if not os.path.isdir(folder):
        os.makedirs(folder, 0o700)
    for name in os.listdir(folder):  # left by an interrupted run
        if name.startswith('.' + prefix) and name.endswith('.tmp'):
            os.unlink(os.path.join(folder, name))
    digest = hashlib.sha256(data).hexdigest()
    existing = backups(folder, prefix)
    if existing:
        try:
            if verify(existing[-1]) == digest:
                return existing[-1], digest, True
        except BackupError:
            pass
    stamp = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))
    path = os.path.join(folder, '%s%s%s' % (prefix, stamp, SUFFIX))
    count = 1
    while os.path.exists(path):
        path = os.path.join(folder, '%s%s-%d%s' % (prefix, stamp, count, SUFFIX))
        count += 1
    _atomic(path, data)
    _atomic(path + '.sha256', ('%s  %s\n' % (digest, os.path.basename(path))).encode())
    return path, digest, False


def rotate(folder, keep, prefix=PREFIX):
    """Remove all but the newest ``keep`` backups (and their checksum files); returns the removed paths."""
    if keep < 1:
        raise BackupError('keep: must be at least 1, got %s' % keep)
    removed = []
    for path in backups(folder, prefix)[:-keep]:
        for name in (path, path + '.sha256'):
            if os.path.exists(name):
                os.unlink(name)
        removed.append(path)
    return removed


# ---------------------------------------------------------------- the timer's command (no Ansible there)
def _token(method, path, key):
    # The same claims as _heketi.make_token; repeated here because this file runs without Ansible.
    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b'=').decode()
    now = int(time.time())
    claims = {'iss': 'admin', 'iat': now, 'exp': now + 60,
              'qsh': hashlib.sha256(('%s&%s' % (method, path)).encode()).hexdigest()}
    signing = b64(b'{"alg":"HS256","typ":"JWT"}') + '.' + b64(json.dumps(claims, separators=(',', ':')).encode())
    return signing + '.' + b64(hmac.new(key.encode(), signing.encode(), hashlib.sha256).digest())


def _cli(argv):
    import ssl
    import subprocess
    import urllib.request
    if len(argv) != 2 or argv[0] != '--config':
        sys.stderr.write('usage: %s --config FILE\n' % os.path.basename(__file__))
        return 2
    with open(argv[1]) as f:
        conf = json.load(f)
    with open(conf['heketi_config']) as f:
        key = json.load(f)['jwt']['admin']['key']
    url = conf['url'].rstrip('/')
    req = urllib.request.Request(url + '/backup/db', headers={'Authorization': 'bearer ' + _token('GET', '/backup/db', key)})
    handlers = [urllib.request.ProxyHandler({})]
    if url.startswith('https://'):
        # Heketi with enable_tls: verified against the CA of the settings (empty: the system's trust store)
        context = ssl.create_default_context(cafile=conf.get('ca_path') or None)
        if not conf.get('validate_certs', True):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(req, timeout=int(conf.get('timeout', 300))) as resp:
            data = resp.read()
        path, digest, skipped = write(conf['dest'], data, conf.get('prefix', PREFIX))
        removed = rotate(conf['dest'], int(conf.get('keep', 7)), conf.get('prefix', PREFIX))
    except (OSError, BackupError) as e:
        sys.stderr.write('heketi backup failed, earlier backups are untouched: %s\n' % e)
        return 1
    note = ' (unchanged)' if skipped else ''
    sys.stdout.write('%s %s%s; rotated out: %s\n' % (path, digest, note, ', '.join(removed) or 'none'))
    target = conf.get('offhost')
    if target:
        # the same copy kept off-host: scp with the key of the account the timer runs as, no shell.
        # This branch runs only as the timer's standalone command, where there is no AnsibleModule.run_command.
        cmd = ['scp', '-q', '-o', 'BatchMode=yes', path, path + '.sha256', target]
        if subprocess.call(cmd) != 0:  # pylint: disable=ansible-bad-function
            sys.stderr.write('heketi backup: the off-host copy to %s failed\n' % target)
            return 1
    return 0


if __name__ == '__main__':
    raise SystemExit(_cli(sys.argv[1:]))
