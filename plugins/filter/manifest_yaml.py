# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: manifest_yaml
short_description: Kubernetes objects as one multi-document YAML text, in apply order
version_added: 1.1.0
description:
  - Writes each object as one YAML document, in the order given, each introduced by C(---) and a comment
    naming its kind and name, so that C(kubectl apply -f) of the file (or of its folder) creates them in that order.
  - The C(parameters) of a StorageClass (a C(map[string]string) in the API) come last in their document,
    every value converted to a string and double-quoted, so that no YAML reader turns C("3") or C(true) into
    a number or a boolean.
  - Keys of every other mapping are sorted, as C(ansible.builtin.to_nice_yaml) does.
positional: _input
options:
  _input:
    description: The objects, each a mapping with at least C(kind) and C(metadata.name).
    type: list
    elements: dict
    required: true
  header:
    description: Comment lines written before the first document (without the leading C(#)).
    type: list
    elements: str
    default: []
'''

EXAMPLES = r'''
- name: Write the objects of one provisioner variant into one file
  ansible.builtin.copy:
    content: "{{ objects | glusterfs.heketi.manifest_yaml(header=['Rendered by the storageclass role']) }}"
    dest: /srv/manifests/intree/manifests.yaml
    mode: "0600"
  no_log: true
'''

RETURN = r'''
_value:
  description: The YAML text, ending with a newline.
  type: str
  sample: "# Rendered ...\n---\n# Namespace glusterfs-heketi\napiVersion: v1\nkind: Namespace\n..."
'''

import json

import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible.parsing.yaml.dumper import AnsibleDumper


def _document(obj):
    if not isinstance(obj, dict) or not isinstance(obj.get('metadata'), dict) or 'kind' not in obj:
        raise AnsibleFilterError('manifest_yaml: every object needs kind and metadata, got %r' % (obj,))
    meta = obj['metadata']
    where = '%s/%s' % (meta['namespace'], meta.get('name', '')) if meta.get('namespace') else meta.get('name', '')
    body = dict(obj)
    parameters = body.pop('parameters', None) if obj['kind'] == 'StorageClass' else None
    lines = ['---', '# %s %s' % (to_text(obj['kind']), to_text(where)),
             yaml.dump(body, Dumper=AnsibleDumper, indent=2, allow_unicode=True, default_flow_style=False).rstrip('\n')]
    if parameters is not None:
        lines.append('# StorageClass parameters are strings (map[string]string): every value is quoted.')
        lines.append('parameters:' if parameters else 'parameters: {}')
        lines.extend('  %s: %s' % (to_text(key), json.dumps(to_text(value)))
                     for key, value in sorted(parameters.items(), key=lambda kv: to_text(kv[0])))
    return '\n'.join(lines)


def manifest_yaml(objects, header=()):
    """See DOCUMENTATION."""
    if not isinstance(objects, list):
        raise AnsibleFilterError('manifest_yaml: expects a list of objects, got %s' % type(objects).__name__)
    return '\n'.join(['# %s' % to_text(line) for line in header] + [_document(obj) for obj in objects]) + '\n'


class FilterModule(object):

    def filters(self):
        return {'manifest_yaml': manifest_yaml}
