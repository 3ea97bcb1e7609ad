# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: jwt_keys
short_description: Choose Heketi's JWT keys, replacing weak keys found on the host
version_added: 1.1.0
description:
  - Decides the C(jwt.admin.key) and C(jwt.user.key) that the C(glusterfs.heketi.heketi) role writes to C(heketi.json).
  - A key given by the user (O(admin), O(user)) is used as it is (the role's preflight checks it).
  - A key read back from the existing C(heketi.json) on the host is kept only when it is at least
    O(min_length) characters long, is not a known sample placeholder (C(My Secret) of Heketi's container and
    Kubernetes sample files, the seed's C(admin@123), C(changeme), ...), and differs from the other key
    (with one key for both accounts, anyone holding the user key can sign admin tokens).
  - Any other key is replaced by a new random key of O(length) letters and digits from Python's C(secrets) module.
  - The result never says what a key was; RV(_value.replaced) only says which account got a new key and why.
positional: _input
options:
  _input:
    description:
      - The current content of C(heketi.json) on the host, as a dict, as JSON text, or empty (V({}), V(''),
        V(None)) when there is no file. Text that is not JSON keeps no key (both are reported as replaced).
    type: raw
    required: true
  admin:
    description: The admin key given by the user; empty means choose one.
    type: str
    default: ''
  user:
    description: The user key given by the user; empty means choose one.
    type: str
    default: ''
  min_length:
    description: Shortest key read back from the host that may be kept.
    type: int
    default: 32
  length:
    description: Length of a generated key.
    type: int
    default: 48
'''

EXAMPLES = r'''
- name: Choose the JWT keys
  ansible.builtin.set_fact:
    __keys: >-
      {{ (__slurped.content | b64decode if __slurped.content is defined else '')
         | glusterfs.heketi.jwt_keys(admin=heketi_admin_key, user=heketi_user_key) }}
  no_log: true

- name: Report the replaced keys (the keys themselves are never printed)
  ansible.builtin.debug:
    msg: "{{ __keys.replaced }}"
  when: __keys.replaced | length > 0
'''

RETURN = r'''
_value:
  description: The keys to write and what happened to each.
  type: dict
  contains:
    admin:
      description: The admin key.
      type: str
    user:
      description: The user key.
      type: str
    replaced:
      description:
        - One line per key found on the host and replaced, naming the account and the reason, never the key.
        - Empty on a first install (nothing to replace) and when the keys on the host are kept.
      type: list
      elements: str
    sources:
      description: Where each key came from, V(given), V(kept) or V(generated), by account (V(admin), V(user)).
      type: dict
'''

import json
import re
import secrets
import string

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

# Keys that ship in samples and manual setups, compared case-insensitively with spaces, dashes and
# underscores removed: Heketi's container and Kubernetes sample heketi.json ("My Secret"), the seed's
# manual setup (admin@123) and the usual stand-ins.
PLACEHOLDERS = frozenset(re.sub(r'[\s_-]', '', p.lower()) for p in (
    'My Secret', 'MySecret', 'admin@123', 'admin', 'user', 'secret', 'password', 'changeme',
    'change me', 'adminkey', 'admin key', 'userkey', 'user key', 'admin secret', 'user secret',
    'heketi', 'key', 'jwt secret',
))

ALPHABET = string.ascii_letters + string.digits
# The one rule for Heketi's JWT keys, for keys given (the heketi role's preflight, through
# glusterfs.heketi.var_errors's rule jwt_key) and keys read back from the host (kept only when they pass):
# at least MIN_LENGTH characters, not a known sample placeholder, admin and user keys different.
MIN_LENGTH = 32
RULE = ('at least %d characters, not a sample placeholder such as admin@123 or My Secret, and the admin and user '
        'keys different' % MIN_LENGTH)
ACCOUNTS = ('admin', 'user')


def is_placeholder(key):
    """Whether ``key`` is a known sample placeholder (case, spaces, dashes and underscores ignored)."""
    return re.sub(r'[\s_-]', '', to_text(key).lower()) in PLACEHOLDERS


def generate(length=48):
    return ''.join(secrets.choice(ALPHABET) for dummy in range(length))


def _existing_keys(config):
    """(keys by account, reason when the file could not be read)."""
    if config in (None, '', {}):
        return {}, None
    if not isinstance(config, dict):
        try:
            config = json.loads(to_text(config))
        except ValueError:
            return {}, 'the existing heketi.json is not valid JSON'
        if not isinstance(config, dict):
            return {}, 'the existing heketi.json is not a JSON object'
    jwt = config.get('jwt') if isinstance(config.get('jwt'), dict) else {}
    keys = {}
    for account in ACCOUNTS:
        entry = jwt.get(account)
        key = entry.get('key') if isinstance(entry, dict) else None
        if isinstance(key, str) and key:
            keys[account] = key
    return keys, None


def weaknesses(key, min_length=MIN_LENGTH):
    """What breaks the rule in ``key`` alone (never the key itself): a list, empty for a good key."""
    found = []
    if len(key) < min_length:
        found.append('it is shorter than %d characters' % min_length)
    if is_placeholder(key):
        found.append('it is a known sample placeholder')
    return found


def _weakness(key, other, min_length):
    """Why a key read back from the host may not be kept, or None."""
    found = weaknesses(key, min_length)
    if other is not None and key == other:
        found.append('it is the same as the other account\'s key')
    return ' and '.join(found) or None


def jwt_keys(config, admin='', user='', min_length=MIN_LENGTH, length=48):
    """Choose the admin and user keys; see DOCUMENTATION."""
    try:
        min_length, length = int(min_length), int(length)
    except (TypeError, ValueError):
        raise AnsibleFilterError('jwt_keys: min_length and length must be integers')
    if length < min_length:
        raise AnsibleFilterError('jwt_keys: length (%d) must be at least min_length (%d)' % (length, min_length))
    given = {'admin': to_text(admin or ''), 'user': to_text(user or '')}
    existing, unreadable = _existing_keys(config)
    chosen, sources, replaced = {}, {}, []
    for account in ACCOUNTS:
        if given[account]:
            chosen[account], sources[account] = given[account], 'given'
    # A key on the host is compared with the other account's given key when there is one, else with
    # the other key on the host: one key shared by both accounts on the host replaces both.
    for account in ACCOUNTS:
        if account in chosen:
            continue
        other = 'user' if account == 'admin' else 'admin'
        key = existing.get(account)
        if key is None:
            if unreadable:
                replaced.append('%s key replaced: %s' % (account, unreadable))
            chosen[account], sources[account] = generate(length), 'generated'
            continue
        why = _weakness(key, given[other] or existing.get(other), min_length)
        if why:
            replaced.append('%s key replaced: the key found in heketi.json was weak (%s)' % (account, why))
            chosen[account], sources[account] = generate(length), 'generated'
        else:
            chosen[account], sources[account] = key, 'kept'
    # Two generated keys of 48 random characters do not collide; a given key equal to a kept one is
    # refused by the preflight. Guard anyway: the admin and user keys must never be equal.
    if chosen['admin'] == chosen['user']:
        raise AnsibleFilterError('jwt_keys: the admin and user keys are equal; give two different keys')
    return {'admin': chosen['admin'], 'user': chosen['user'], 'replaced': replaced, 'sources': sources}


class FilterModule(object):

    def filters(self):
        return {'jwt_keys': jwt_keys}
