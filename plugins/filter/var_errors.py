# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: var_errors
short_description: What is wrong with a role's variables, one message per offending variable or entry
version_added: 1.1.0
description:
  - The strict per-variable checks of the collection's roles, in one place, so a role's preflight is one assert
    whose message names every offending variable (and entry) at once.
  - The role's C(meta/argument_specs.yml) owns types and choices, but it converts loosely (a string becomes a
    one-item or comma-split list, V(10) a string) and cannot express formats; these rules are strict.
  - Rules are V(strings) (a list of strings), V(kernel_modules) and V(packages) (a list of such names),
    V(ports) (a list of C(PORT/PROTO) or C(LOW-HIGH/PROTO)), V(major) (a GlusterFS major version such as C(10)),
    V(url) (an http(s) URL without a trailing slash), V(seconds) (an integer >= 0), V(positive_seconds) and
    V(jwt_key) (empty, or a key by the one rule of Heketi's JWT keys that the C(glusterfs.heketi.jwt_keys) filter
    applies to keys read back from the host; two V(jwt_key) variables must differ; the message names the variable
    and the rule, never the key).
  - "Rules C(csi_parameter:NAME) and C(intree_parameter:NAME) check a variable that becomes StorageClass parameter
    NAME of the collection's CSI driver or of the in-tree (and glusterfile) provisioner, by the contract the driver
    itself parses (C(plugins/module_utils/_storageclass_parameters.py), one table of cases for both): an empty value
    is not set; the parameters of one kind are checked together, so V(gidMin) above V(gidMax) is named too.
    Volume options are refused unless every entry is a safe C(<name> <value>): Heketi runs them through a root shell."
positional: _input, values
options:
  _input:
    description: Variable name -> rule name (see above).
    type: dict
    required: true
  values:
    description:
      - The variables' values, in the order of the names in O(_input).
      - "C(query('ansible.builtin.vars', *rules)) gives exactly that, so each variable is named once (see the example)."
    type: list
    elements: raw
    required: true
'''

EXAMPLES = r'''
- name: Check the variables
  ansible.builtin.assert:
    that: __errors | length == 0
    fail_msg: "{{ inventory_hostname }}: {{ __errors | join(' ') }}"
    quiet: true
  vars:
    __rules:
      glusterfs_server_version: major
      glusterfs_server_firewall_ports: ports
    __errors: "{{ __rules | glusterfs.heketi.var_errors(query('ansible.builtin.vars', *__rules)) }}"
'''

RETURN = r'''
_value:
  description: The messages, empty when every variable is right.
  type: list
  elements: str
'''

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.glusterfs.heketi.plugins.filter.jwt_keys import RULE as JWT_KEY_RULE, weaknesses
from ansible_collections.glusterfs.heketi.plugins.module_utils._storageclass_parameters import parameter_errors

_NAME = {
    'kernel_modules': (re.compile(r'^[A-Za-z0-9_-]+$'), 'is not a kernel module name'),
    'packages': (re.compile(r'^[A-Za-z0-9][A-Za-z0-9.+_-]*$'), 'is not a package name'),
}
_PORT = re.compile(r'^([0-9]{1,5})(?:-([0-9]{1,5}))?/(tcp|udp)$')
_URL = re.compile(r'^https?://\S+[^/\s]$')
_INTEGER = re.compile(r'^[0-9]+$')


def _is_list(value):
    return isinstance(value, (list, tuple))


def _type_name(value):
    for kind, name in ((bool, 'bool'), (int, 'int'), (float, 'float'), (str, 'str'), (dict, 'dict'),
                       ((list, tuple), 'list')):
        if isinstance(value, kind):
            return name
    return 'null' if value is None else type(value).__name__


def _port_ok(entry):
    match = _PORT.match(entry)
    if not match:
        return False
    low = int(match.group(1))
    high = int(match.group(2) or low)
    return 1 <= low <= high <= 65535


def _list_errors(name, value, rule):
    kind = 'package names' if rule == 'packages' else 'strings'
    if not _is_list(value) or not all(isinstance(v, str) for v in value):
        return ['%s must be a list of %s (found %s: %s).' % (name, kind, _type_name(value), value)]
    if rule in _NAME:
        pattern, what = _NAME[rule]
        return ["%s: '%s' %s." % (name, v, what) for v in value if not pattern.match(v)]
    if rule == 'ports':
        return ["%s: '%s' is not PORT/PROTO or LOW-HIGH/PROTO (1-65535, tcp or udp, LOW <= HIGH), e.g. 24007-24008/tcp."
                % (name, v) for v in value if not _port_ok(v)]
    return []


def _scalar_error(name, value, rule):
    text = '' if value is None or isinstance(value, bool) else str(value).strip()
    if rule == 'major' and not _INTEGER.match(text):
        return '%s (%s) must be a GlusterFS major version such as "10".' % (name, value)
    if rule == 'url' and not (isinstance(value, str) and _URL.match(value)):
        return '%s (%s) must be an http(s) URL without a trailing slash.' % (name, value)
    if rule == 'seconds' and not _INTEGER.match(text):
        return '%s (%s) must be a non-negative integer (seconds).' % (name, value)
    if rule == 'positive_seconds' and not (_INTEGER.match(text) and int(text) > 0):
        return '%s (%s) must be a positive integer (seconds).' % (name, value)
    return None


def _jwt_key_errors(rules, given):
    """Rule jwt_key: each key alone, then any two equal keys; the messages never hold a key."""
    names = sorted(name for name, rule in rules.items() if rule == 'jwt_key')
    errors = []
    for name in names:
        value = given[name]
        if value in (None, ''):
            continue
        if not isinstance(value, str):
            errors.append('%s must be a string (found %s); the rule for Heketi\'s JWT keys: %s.'
                          % (name, _type_name(value), JWT_KEY_RULE))
            continue
        found = weaknesses(value)
        if found:
            errors.append('%s is wrong: %s. The rule for Heketi\'s JWT keys: %s; or leave %s empty and the heketi '
                          'role generates one.' % (name, ' and '.join(found), JWT_KEY_RULE, name))
    for index, name in enumerate(names):
        for other in names[index + 1:]:
            if given[name] not in (None, '') and given[name] == given[other]:
                errors.append('%s and %s are the same key: with one key for both accounts, anyone holding the user key '
                              'can sign admin tokens. Give two different keys.' % (name, other))
    return errors


_LIST_RULES = ('strings', 'kernel_modules', 'packages', 'ports')
_SCALAR_RULES = ('major', 'url', 'seconds', 'positive_seconds')
_PARAMETER_KINDS = {'csi_parameter': 'csi', 'intree_parameter': 'intree'}


def _parameter_errors(rules, given):
    """The StorageClass parameter rules, checked together per provisioner kind; each message names the variable."""
    errors = []
    for rule_kind, kind in sorted(_PARAMETER_KINDS.items()):
        variables = {}
        for name, rule in rules.items():
            prefix, _sep, parameter = rule.partition(':')
            if prefix == rule_kind and given[name] not in (None, ''):
                variables[parameter] = name
        messages = parameter_errors({p: str(given[v]) for p, v in variables.items()}, kind)
        for message in messages:
            parameter = message[len('parameter '):].split('=', 1)[0]
            errors.append('%s: StorageClass %s' % (variables[parameter], message))
    return errors


def var_errors(rules, values):
    """See DOCUMENTATION."""
    if not isinstance(rules, dict) or not isinstance(values, (list, tuple)):
        raise AnsibleFilterError('var_errors: expects a dict (name -> rule) and the list of the values in its order')
    if len(values) != len(rules):
        raise AnsibleFilterError('var_errors: %d values for %d rules (%s)' % (len(values), len(rules), ', '.join(rules)))
    given = dict(zip(rules, values))
    errors = []
    for name in sorted(rules):
        rule = rules[name]
        if rule == 'jwt_key' or rule.partition(':')[0] in _PARAMETER_KINDS and rule.partition(':')[2]:
            continue
        if rule not in _LIST_RULES + _SCALAR_RULES:
            raise AnsibleFilterError('var_errors: unknown rule %r for %s' % (rule, name))
        if rule in _LIST_RULES:
            errors.extend(_list_errors(name, given[name], rule))
        else:
            error = _scalar_error(name, given[name], rule)
            if error:
                errors.append(error)
    return errors + _jwt_key_errors(rules, given) + sorted(_parameter_errors(rules, given))


class FilterModule(object):

    def filters(self):
        return {'var_errors': var_errors}
