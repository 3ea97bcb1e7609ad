# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Backup files of Heketi's database: written whole or not at all, checksummed, verified, rotated. PRIVATE.

Standard library only, and Python 3.6 or later (no ``from __future__ import annotations``), so that the same file
also runs on the Heketi host as the systemd timer's backup command (``python3 _heketi_backup.py --config FILE``)
without Ansible, EL 7 and EL 8 included (python3 3.6 there).

* The backup folder is opened once, without following a link anywhere on its path (``Folder``): every folder
  above it must belong to root or to the account running this code, and the folder itself to one of them, or it
  is refused before anything is written. Every file operation is then relative to that open folder and never
  follows a link, so an account that can write in the folder (or in Heketi's own data folder) cannot make this
  code, run as root, write, read or remove a file anywhere else.
* ``write`` puts the bytes in a temporary file in the folder, fsyncs it, checks it is a bolt database, renames it
  into place and writes ``<name>.sha256`` (``sha256sum -c`` format) the same way: an interrupted backup (Heketi
  killed, disk full, the run stopped) never replaces or removes an earlier backup, and leaves at most a ``.tmp``
  file that the next run removes.
* ``rotate`` keeps the newest ``keep`` backups (by the UTC time stamp in their name) and runs only after a backup
  was written and verified.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import stat
import struct
import sys
import time

PREFIX = 'heketi-'
SUFFIX = '.db'
# Backups and checksum files: the owner, and the folder's group (the backup timer's account reads them through it).
FILE_MODE = 0o640
# bolt (go.etcd.io/bbolt, boltdb/bolt): page header of 16 bytes, then the meta page's magic, little endian
BOLT_MAGIC = 0xED0CDAED
_NAME = re.compile(r'^(?P<prefix>.*)(?P<stamp>\d{8}T\d{6}Z)(?:-\d+)?\.db$')
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0)


class BackupError(Exception):
    pass


class MissingFolder(BackupError):
    """The backup folder (or a folder above it) does not exist and was not to be created."""


def is_bolt(data):
    """Whether ``data`` starts like a bolt database (both meta pages are checked by Heketi itself on open)."""
    return len(data) >= 20 and struct.unpack('<I', data[16:20])[0] == BOLT_MAGIC


def _owner(uid):
    try:
        import pwd
        return '%s (uid %d)' % (pwd.getpwuid(uid).pw_name, uid)
    except (ImportError, KeyError):
        return 'uid %d' % uid


class Folder(object):
    """A backup folder, opened without following links, and the operations on its files (relative to it).

    ``create`` makes the missing folders of the path (mode 0700, owned by the running account). Refused (BackupError,
    naming the folder and the check): a link anywhere on the path, a folder above it owned by an account other than
    root or the running one, the folder itself owned by another account or writable by everyone, a path that is not
    a folder.
    """

    def __init__(self, path, create=False):
        self.path = os.path.abspath(path)
        self.fd = self._open(create)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _open(self, create):
        trusted = (0, os.geteuid())
        parts = [p for p in self.path.split('/') if p]
        fd = os.open('/', _DIR_FLAGS)
        where = '/'
        try:
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                where = os.path.join(where, part)
                try:
                    info = os.stat(part, dir_fd=fd, follow_symlinks=False)
                except OSError as e:
                    if e.errno != 2 or not create:
                        error = MissingFolder if e.errno == 2 else BackupError
                        raise error('%s: the backup folder cannot be used: %s is missing or unreadable (%s)'
                                    % (self.path, where, e.strerror))
                    try:
                        os.mkdir(part, 0o700, dir_fd=fd)
                    except OSError as e2:
                        raise BackupError('%s: the backup folder cannot be created: mkdir %s failed (%s)'
                                          % (self.path, where, e2.strerror))
                    info = os.stat(part, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode):
                    raise BackupError('%s: refused: %s is a symbolic link; backups are written only into a folder '
                                      'reached without following links' % (self.path, where))
                if not stat.S_ISDIR(info.st_mode):
                    raise BackupError('%s: refused: %s is not a folder' % (self.path, where))
                if info.st_uid not in trusted:
                    raise BackupError(
                        '%s: refused: %s belongs to %s; every folder of the backup path must belong to root%s, or '
                        'that account could redirect the backup (keep backups outside Heketi\'s own data folder)'
                        % (self.path, where, _owner(info.st_uid),
                           '' if os.geteuid() == 0 else ' or to %s' % _owner(os.geteuid())))
                if last and info.st_mode & stat.S_IWOTH:
                    raise BackupError('%s: refused: the backup folder is writable by every account' % self.path)
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = nxt
        except BaseException:
            os.close(fd)
            raise
        return fd

    def join(self, name):
        return os.path.join(self.path, name)

    def names(self):
        return os.listdir(self.fd)

    def backups(self, prefix=PREFIX):
        """Backup files made with ``prefix``, oldest first (full paths)."""
        found = []
        for name in self.names():
            match = _NAME.match(name)
            if match and match.group('prefix') == prefix:
                found.append((match.group('stamp'), name))
        return [self.join(name) for _stamp, name in sorted(found)]

    def _read(self, name, limit=None):
        """The bytes of a regular file of the folder (not through a link), up to ``limit``."""
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0), dir_fd=self.fd)
        with os.fdopen(fd, 'rb') as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise BackupError('%s is not a regular file' % self.join(name))
            return f.read() if limit is None else f.read(limit)

    def size(self, path):
        return os.stat(os.path.basename(path), dir_fd=self.fd, follow_symlinks=False).st_size

    def verify(self, path):
        """Check a backup against its .sha256 file and the bolt magic; returns its sha256."""
        name = os.path.basename(path)
        try:
            data = self._read(name)
        except OSError as e:
            raise BackupError('%s cannot be read: %s' % (self.join(name), e.strerror))
        if not is_bolt(data):
            raise BackupError('%s is not a bolt database (Heketi database)' % self.join(name))
        digest = hashlib.sha256(data).hexdigest()
        try:
            recorded = self._read(name + '.sha256').decode('ascii', 'replace').split()[0]
        except (OSError, IndexError):
            raise BackupError('%s has no checksum file %s.sha256' % (self.join(name), self.join(name)))
        if recorded != digest:
            raise BackupError('%s does not match its checksum (%s recorded, %s now)'
                              % (self.join(name), recorded, digest))
        return digest

    def _atomic(self, name, data):
        tmp = '.%s.%s.tmp' % (name, binascii.hexlify(os.urandom(6)).decode())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0),
                     FILE_MODE, dir_fd=self.fd)
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, 'wb') as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            # rename replaces a link at the target; it never writes through it
            os.rename(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=self.fd)
            except OSError:
                pass
            raise
        os.fsync(self.fd)

    def _exists(self, name):
        try:
            os.stat(name, dir_fd=self.fd, follow_symlinks=False)
            return True
        except OSError:
            return False

    def write(self, data, prefix=PREFIX, now=None):
        """Store ``data`` (the answer of GET /backup/db) as a new backup; returns (path, sha256, skipped).

        ``skipped`` is True when the newest backup holds exactly these bytes (no new file then).
        """
        if not is_bolt(data):
            raise BackupError('Heketi answered GET /backup/db with %d bytes that are not a bolt database' % len(data))
        self._tidy(prefix)
        digest = hashlib.sha256(data).hexdigest()
        existing = self.backups(prefix)
        if existing and self.same(existing[-1], digest):
            return existing[-1], digest, True
        stamp = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))
        name = '%s%s%s' % (prefix, stamp, SUFFIX)
        count = 1
        while self._exists(name):
            name = '%s%s-%d%s' % (prefix, stamp, count, SUFFIX)
            count += 1
        self._atomic(name, data)
        self._atomic(name + '.sha256', ('%s  %s\n' % (digest, name)).encode())
        return self.join(name), digest, False

    def _tidy(self, prefix):
        """Remove what an interrupted run left, and give this account's backups the folder's group (the timer's
        account reads through it; backups written before the folder had that group keep root's otherwise)."""
        gid = os.fstat(self.fd).st_gid
        for name in self.names():
            if name.startswith('.' + prefix) and name.endswith('.tmp'):
                os.unlink(name, dir_fd=self.fd)
                continue
            match = _NAME.match(name[:-len('.sha256')] if name.endswith('.sha256') else name)
            if match and match.group('prefix') == prefix:
                info = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and info.st_gid != gid:
                    os.chown(name, -1, gid, dir_fd=self.fd, follow_symlinks=False)

    def same(self, path, digest):
        """Whether the backup at ``path`` is intact and holds the bytes of ``digest``."""
        try:
            return self.verify(path) == digest
        except BackupError:
            return False

    def rotate(self, keep, prefix=PREFIX, dry_run=False):
        """Remove all but the newest ``keep`` backups (and their checksum files); returns the removed paths."""
        if keep < 1:
            raise BackupError('keep: must be at least 1, got %s' % keep)
        removed = self.backups(prefix)[:-keep]
        for path in removed if not dry_run else []:
            for name in (os.path.basename(path), os.path.basename(path) + '.sha256'):
                if self._exists(name):
                    os.unlink(name, dir_fd=self.fd)
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


def _settings(path):
    """The command's settings file; the admin key is in it (``key``) or read from heketi.json (``heketi_config``)."""
    try:
        with open(path) as f:
            conf = json.load(f)
        key = conf.get('key')
        if not key:
            with open(conf['heketi_config']) as f:
                key = json.load(f)['jwt']['admin']['key']
        return conf, key
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise BackupError('the settings %s cannot be used: %s' % (path, e))


def _fetch(conf, key):
    import ssl
    import urllib.request
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
    with opener.open(req, timeout=int(conf.get('timeout', 300))) as resp:
        return resp.read()


def _cli(argv):
    import subprocess
    if len(argv) not in (2, 3) or argv[0] != '--config' or argv[2:] not in ([], ['--json']):
        sys.stderr.write('usage: %s --config FILE [--json]\n' % os.path.basename(__file__))
        return 2
    prefix = PREFIX
    try:
        conf, key = _settings(argv[1])
        prefix = conf.get('prefix', PREFIX)
        # the folder is checked before Heketi is asked for anything
        with Folder(conf['dest'], create=True) as folder:
            data = _fetch(conf, key)
            path, digest, skipped = folder.write(data, prefix)
            removed = folder.rotate(int(conf.get('keep', 7)), prefix)
            kept = folder.backups(prefix)
    except (OSError, BackupError) as e:
        sys.stderr.write('heketi backup failed, earlier backups are untouched: %s\n' % e)
        return 1
    if argv[2:] == ['--json']:
        sys.stdout.write(json.dumps({'path': path, 'sha256': digest, 'size': len(data), 'written': not skipped,
                                     'removed': removed, 'kept': kept}) + '\n')
    else:
        note = ' (unchanged)' if skipped else ''
        sys.stdout.write('%s %s%s; rotated out: %s\n' % (path, digest, note, ', '.join(removed) or 'none'))
    target = conf.get('offhost')
    if target:
        # The same copy kept off-host: scp, no shell, with the key and known hosts of the settings (the backup
        # account has no home of its own under the sandbox). This branch runs only as the timer's standalone
        # command, where there is no AnsibleModule.run_command.
        cmd = ['scp', '-q', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes']
        if conf.get('offhost_key'):
            cmd += ['-i', conf['offhost_key'], '-o', 'IdentitiesOnly=yes']
        if conf.get('offhost_known_hosts'):
            cmd += ['-o', 'UserKnownHostsFile=' + conf['offhost_known_hosts']]
        if subprocess.call(cmd + ['--', path, path + '.sha256', target]) != 0:  # pylint: disable=ansible-bad-function
            sys.stderr.write('heketi backup: the off-host copy to %s failed\n' % target)
            return 1
    return 0


if __name__ == '__main__':
    raise SystemExit(_cli(sys.argv[1:]))
