# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The StorageClass parameter contract, as the collection's CSI driver parses it (csi/pkg/driver/params.go).

The storageclass role checks the parameters it renders with these rules (filter var_errors), and heketi_volume
checks its volume options with them, so a class the role makes is a class the driver accepts.
tests/contracts/storageclass_parameters.json holds the cases both implementations pass.

Volume options reach Heketi's ``gluster volume set <volume> <name> <value>``, which Heketi's ssh executor runs
unquoted through ``/bin/bash -c``, as root, on a storage node (the in-tree provisioner hands them to Heketi the
same way). So both words are made of characters no shell treats specially: VOLUME_OPTION_RULE.
"""

from __future__ import annotations

import re

OPTION_NAME = re.compile(r'^[a-z][a-z0-9._-]{0,127}$')
OPTION_VALUE = re.compile(r'^[A-Za-z0-9._:/@%+=-]{1,256}$')
VOLUME_OPTION_RULE = ('want comma-separated "<name> <value>" entries: the name [a-z][a-z0-9._-]* (at most 128 '
                      'characters), the value 1-256 of [A-Za-z0-9._:/@%+=-] (Heketi\'s ssh executor runs the option '
                      'through a root shell)')

_HEX_ID = re.compile(r'^[a-fA-F0-9]{32}$')
_PREFIX = {'csi': re.compile(r'^[A-Za-z0-9_-]{1,40}$'), 'intree': re.compile(r'^[A-Za-z0-9-]{1,40}$')}
_PREFIX_RULE = {'csi': 'want 1-40 characters of [a-zA-Z0-9_-]',
                'intree': "want 1-40 characters of [a-zA-Z0-9-] (the in-tree provisioner joins the name's parts with '_')"}
_VOLUME_TYPE = re.compile(r'^(none|replicate:[0-9]+|disperse:[0-9]+:[0-9]+)$')
_GID_MIN, _GID_MAX = 2000, 2147483647
KINDS = ('csi', 'intree')


def volume_option_entry_error(entry):
    """Why one "<name> <value>" entry is refused, or None."""
    fields = entry.split()
    if len(fields) == 2 and OPTION_NAME.match(fields[0]) and OPTION_VALUE.match(fields[1]):
        return None
    return 'entry %r refused: %s' % (entry.strip(), VOLUME_OPTION_RULE)


def parse_volume_options(text):
    """The entries of a volumeoptions string, normalised to "<name> <value>"; ValueError names the first bad one."""
    options = []
    for entry in str(text).split(','):
        if not entry.strip():
            continue
        error = volume_option_entry_error(entry)
        if error:
            raise ValueError(error)
        options.append(' '.join(entry.split()))
    return options


def _volume_type_error(value):
    numbers = value.split(':')[1:]
    if not _VOLUME_TYPE.match(value) or any(int(n) < 1 for n in numbers):
        return 'want replicate:<replicas>, disperse:<data>:<redundancy> or none (numbers >= 1)'
    return None


def _gid_error(value):
    if not re.match(r'^[0-9]+$', value) or not _GID_MIN <= int(value) <= _GID_MAX:
        return 'want an integer from %d to %d' % (_GID_MIN, _GID_MAX)
    return None


def parameter_errors(parameters, kind='csi'):
    """What is wrong with StorageClass ``parameters`` (name -> string) for provisioner ``kind`` (csi or intree).

    One message per offending parameter, each starting "parameter <name>=<value>:"; empty when all are right.
    Only the parameters of the contract are checked (the role adds the secret references itself)."""
    if kind not in KINDS:
        raise ValueError('kind: want one of %s, got %r' % (', '.join(KINDS), kind))
    errors = []

    def refuse(name, why):
        errors.append('parameter %s=%r: %s' % (name, parameters[name], why))

    for name in sorted(parameters):
        value = str(parameters[name])
        if name == 'resturl' and not value.startswith(('http://', 'https://')):
            refuse(name, 'want an http:// or https:// URL of the Heketi server')
        elif name == 'restuser' and value not in ('admin', 'user'):
            refuse(name, 'Heketi knows the users admin and user')
        elif name in ('clusterid', 'clusterids'):
            bad = [i.strip() for i in value.split(',') if i.strip() and not _HEX_ID.match(i.strip())]
            if bad:
                refuse(name, '%r is not a Heketi cluster id (32 hex digits)' % bad[0])
        elif name == 'volumetype' and _volume_type_error(value):
            refuse(name, _volume_type_error(value))
        elif name == 'volumenameprefix' and not _PREFIX[kind].match(value):
            refuse(name, _PREFIX_RULE[kind])
        elif name == 'volumeoptions':
            try:
                parse_volume_options(value)
            except ValueError as exc:
                refuse(name, str(exc))
        elif name in ('gidMin', 'gidMax') and _gid_error(value):
            refuse(name, _gid_error(value))
    gid_min, gid_max = str(parameters.get('gidMin', _GID_MIN)), str(parameters.get('gidMax', _GID_MAX))
    if not _gid_error(gid_min) and not _gid_error(gid_max) and int(gid_min) > int(gid_max):
        refuse('gidMin', 'greater than gidMax %s' % gid_max)
    return errors
