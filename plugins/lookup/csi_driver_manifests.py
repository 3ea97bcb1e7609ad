# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: csi_driver_manifests
short_description: The CSI driver's objects from its kustomize base, with a site's settings applied as kustomize would
version_added: 1.1.0
description:
  - >-
    Reads the kustomize base of the Heketi CSI driver (C(csi/deploy) of the collection, its C(kustomization.yaml)
    and the files it lists under C(resources)), turns the settings into a kustomize overlay (C(namespace),
    C(images), JSON 6902 C(patches), a strategic-merge patch deleting the Namespace when it is not to be created)
    and applies that overlay to the objects with kustomize's semantics, so the role applies exactly what
    C(kustomize build) of that overlay gives. The tests compare both.
  - "Applied as kustomize v5 does: the patches first (by the base's kind and name), then the namespace (every
    namespaced object; the Namespace object is renamed; ServiceAccount subjects of (Cluster)RoleBindings follow the
    ServiceAccount they name), then the images (by name, in containers and initContainers)."
  - Strings holding the base's kubelet folder (C(/var/lib/kubelet)) or driver name are replaced in whole by patches;
    a setting equal to the base's adds no patch.
  - Returns one element, a dictionary with C(objects) (in apply order) and C(overlay) (the kustomization).
options:
  _terms:
    description: The folder of the base (holding C(kustomization.yaml)).
    type: list
    elements: path
    required: true
  namespace:
    description: The namespace of the driver's namespaced objects.
    type: str
    default: heketi-csi
  create_namespace:
    description: Keep the base's Namespace object (renamed to O(namespace)); false drops it (a namespace managed elsewhere).
    type: bool
    default: true
  driver_name:
    description: The CSI driver's name (the CSIDriver's name, the C(--drivername) flags, the plugin folder).
    type: str
    default: heketi.csi.glusterfs
  kubelet_dir:
    description: The kubelet's root folder on the nodes.
    type: str
    default: /var/lib/kubelet
  images:
    description:
      - Image references by the base's image name (C(glusterfs-heketi/heketi-csi),
        C(registry.k8s.io/sig-storage/csi-provisioner), C(registry.k8s.io/sig-storage/csi-resizer)), each
        C(name[:tag][@digest]); an entry without tag and digest keeps the base's tag.
    type: dict
    default: {}
  image_pull_policy:
    description: C(imagePullPolicy) of every container; empty keeps the base's.
    type: str
    default: ""
  node_args:
    description: Arguments appended to the node plugin's C(heketi-csi) container (e.g. C(--host-process=kubelet)).
    type: list
    elements: str
    default: []
'''

EXAMPLES = r'''
- name: The driver's objects for this site
  ansible.builtin.set_fact:
    csi_objects: >-
      {{ (query('glusterfs.heketi.csi_driver_manifests', role_path ~ '/../../csi/deploy', namespace='storage',
                images={'glusterfs-heketi/heketi-csi': 'registry.example.com/heketi-csi@sha256:0123...'}) | first).objects }}
'''

RETURN = r'''
_raw:
  description: One element.
  type: list
  elements: dict
  contains:
    objects:
      description: The objects, in the base's order.
      type: list
      elements: dict
    overlay:
      description: The kustomization (C(resources) names the base's folder) whose C(kustomize build) gives the objects.
      type: dict
'''

import copy
import json
import os
import re

import yaml
from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

# Kinds kustomize's namespace transformer leaves without a namespace (the ones this base and its users hold).
CLUSTER_SCOPED = frozenset([
    'Namespace', 'CSIDriver', 'CSINode', 'ClusterRole', 'ClusterRoleBinding', 'StorageClass', 'PersistentVolume',
    'PriorityClass', 'CustomResourceDefinition', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration',
    'APIService', 'VolumeAttachment', 'Node'])
BASE_KUBELET_DIR = '/var/lib/kubelet'
IMAGE_RE = re.compile(r'^(?P<name>[^@]+?)(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>[A-Za-z0-9_+.-]+:[0-9a-fA-F]{32,}))?$')


def split_image(ref):
    """name, tag, digest of an image reference (the tag is what follows the last ':' after the last '/')."""
    match = IMAGE_RE.match(ref or '')
    if not match or not match.group('name') or re.search(r'\s', ref):
        raise ValueError('%r is not an image reference (name[:tag][@digest])' % (ref,))
    name, tag, digest = match.group('name'), match.group('tag'), match.group('digest')
    if tag is None and ':' in name.rsplit('/', 1)[-1]:  # a tag the pattern did not take: invalid characters
        raise ValueError('%r is not an image reference (name[:tag][@digest])' % (ref,))
    return name, tag, digest


def load_base(base_dir):
    """The objects of a kustomize base (its resources, files only, in order) and its kustomization."""
    path = os.path.join(base_dir, 'kustomization.yaml')
    try:
        with open(path, encoding='utf-8') as handle:
            kustomization = yaml.safe_load(handle)
        objects = []
        for resource in kustomization.get('resources', []):
            with open(os.path.join(base_dir, resource), encoding='utf-8') as handle:
                objects.extend(doc for doc in yaml.safe_load_all(handle) if doc)
    except (OSError, yaml.YAMLError, AttributeError) as err:
        raise AnsibleLookupError('csi_driver_manifests: cannot read the kustomize base in %s: %s' % (base_dir, err))
    base_ns = kustomization.get('namespace')
    if base_ns:  # the base's own namespace transformer
        objects = set_namespace(objects, base_ns)
    return kustomization, objects


def _walk(node, pointer=''):
    """(JSON pointer, string) of every string value below node."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, pointer + '/' + str(key).replace('~', '~0').replace('/', '~1'))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, '%s/%d' % (pointer, index))
    elif isinstance(node, str):
        yield pointer, node


def _pod_spec(obj):
    return ((obj.get('spec') or {}).get('template') or {}).get('spec')


def make_overlay(base_dir, objects, namespace, create_namespace, driver_name, kubelet_dir, images,
                 image_pull_policy, node_args):
    """The kustomization that turns the base into this site's objects."""
    base_driver = next((o['metadata']['name'] for o in objects if o['kind'] == 'CSIDriver'), None)
    patches = []
    for obj in objects:
        ops = []
        for pointer, value in _walk(obj):
            if pointer in ('/apiVersion', '/kind'):
                continue
            new = value
            if kubelet_dir != BASE_KUBELET_DIR and (new == BASE_KUBELET_DIR or BASE_KUBELET_DIR + '/' in new):
                new = new.replace(BASE_KUBELET_DIR, kubelet_dir)
            if base_driver and driver_name != base_driver and base_driver in new:
                new = new.replace(base_driver, driver_name)
            if new != value:
                ops.append({'op': 'replace', 'path': pointer, 'value': new})
        spec = _pod_spec(obj)
        if spec:
            for index, container in enumerate(spec.get('containers', [])):
                if image_pull_policy and container.get('imagePullPolicy') != image_pull_policy:
                    ops.append({'op': 'add' if 'imagePullPolicy' not in container else 'replace',
                                'path': '/spec/template/spec/containers/%d/imagePullPolicy' % index,
                                'value': image_pull_policy})
                if obj['kind'] == 'DaemonSet' and container['name'] == 'heketi-csi':
                    ops.extend({'op': 'add', 'path': '/spec/template/spec/containers/%d/args/-' % index, 'value': arg}
                               for arg in node_args)
        if ops:
            patches.append({'target': {'kind': obj['kind'], 'name': obj['metadata']['name']},
                            'patch': json.dumps(ops, sort_keys=True)})
    if not create_namespace:
        for obj in objects:
            if obj['kind'] == 'Namespace':
                patches.append({'patch': json.dumps({'apiVersion': 'v1', 'kind': 'Namespace', '$patch': 'delete',
                                                     'metadata': {'name': obj['metadata']['name']}}, sort_keys=True)})
    entries = []
    for name in sorted(images):
        new_name, tag, digest = split_image(images[name])
        entry = {'name': name}
        if new_name != name:
            entry['newName'] = new_name
        if tag:
            entry['newTag'] = tag
        if digest:
            entry['digest'] = digest
        entries.append(entry)
    overlay = {'apiVersion': 'kustomize.config.k8s.io/v1beta1', 'kind': 'Kustomization',
               'resources': [base_dir], 'namespace': namespace}
    if entries:
        overlay['images'] = entries
    if patches:
        overlay['patches'] = patches
    return overlay


def _unescape(token):
    return token.replace('~1', '/').replace('~0', '~')


def json6902(obj, ops):
    """RFC 6902 add and replace (what make_overlay writes) on a copy of obj."""
    obj = copy.deepcopy(obj)
    for op in ops:
        tokens = [_unescape(t) for t in op['path'].split('/')[1:]]
        parent = obj
        for token in tokens[:-1]:
            parent = parent[int(token)] if isinstance(parent, list) else parent[token]
        last = tokens[-1]
        if isinstance(parent, list):
            if last == '-':
                parent.append(op['value'])
            elif op['op'] == 'add':
                parent.insert(int(last), op['value'])
            else:
                parent[int(last)] = op['value']
        elif op['op'] == 'replace' and last not in parent:
            raise AnsibleLookupError('csi_driver_manifests: replace of a missing field %s' % op['path'])
        else:
            parent[last] = op['value']
    return obj


def set_namespace(objects, namespace):
    """kustomize's namespace transformer, then its name references of ServiceAccount subjects."""
    moved = {}
    out = []
    for obj in objects:
        obj = copy.deepcopy(obj)
        meta = obj['metadata']
        if obj['kind'] == 'Namespace':
            meta['name'] = namespace
        elif obj['kind'] not in CLUSTER_SCOPED:
            if obj['kind'] == 'ServiceAccount':
                moved[(meta['name'], meta.get('namespace'))] = namespace
            meta['namespace'] = namespace
        out.append(obj)
    for obj in out:
        if obj['kind'] in ('RoleBinding', 'ClusterRoleBinding'):
            for subject in obj.get('subjects') or []:
                if subject.get('name') == 'default':
                    subject['namespace'] = namespace
                elif subject.get('kind') == 'ServiceAccount' and (subject['name'], subject.get('namespace')) in moved:
                    subject['namespace'] = moved[(subject['name'], subject.get('namespace'))]
    return out


def set_images(objects, entries):
    """kustomize's images transformer (containers and initContainers of pod templates)."""
    by_name = dict((e['name'], e) for e in entries)
    for obj in objects:
        spec = _pod_spec(obj)
        for container in (spec or {}).get('containers', []) + (spec or {}).get('initContainers', []):
            name, tag, digest = split_image(container['image'])
            entry = by_name.get(name)
            if entry is None:
                continue
            image = entry.get('newName', name)
            if entry.get('digest'):
                image += (':' + entry['newTag'] if entry.get('newTag') else '') + '@' + entry['digest']
            elif entry.get('newTag'):
                image += ':' + entry['newTag']
            else:
                image += (':' + tag if tag else '') + ('@' + digest if digest else '')
            container['image'] = image
    return objects


def apply_overlay(objects, overlay):
    """The objects kustomize builds from the base's objects and this overlay (make_overlay's fields only)."""
    out = []
    deleted = set()
    patches = [dict(p, patch=json.loads(p['patch'])) for p in overlay.get('patches', [])]
    for patch in patches:
        body = patch['patch']
        if isinstance(body, dict) and body.get('$patch') == 'delete':
            deleted.add((body['kind'], body['metadata']['name']))
    for obj in objects:
        key = (obj['kind'], obj['metadata']['name'])
        if key in deleted:
            continue
        for patch in patches:
            target = patch.get('target')
            if target and (target['kind'], target['name']) == key:
                obj = json6902(obj, patch['patch'])
        out.append(obj)
    if overlay.get('namespace'):
        out = set_namespace(out, overlay['namespace'])
    return set_images(out, overlay.get('images', []))


def build(base_dir, namespace='heketi-csi', create_namespace=True, driver_name='heketi.csi.glusterfs',
          kubelet_dir=BASE_KUBELET_DIR, images=None, image_pull_policy='', node_args=()):
    kustomization, objects = load_base(base_dir)
    del kustomization
    try:
        overlay = make_overlay(os.path.abspath(base_dir), objects, namespace, create_namespace, driver_name,
                               kubelet_dir.rstrip('/') or '/', images or {}, image_pull_policy, list(node_args))
    except ValueError as err:
        raise AnsibleLookupError('csi_driver_manifests: %s' % err)
    return {'objects': apply_overlay(objects, overlay), 'overlay': overlay}


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleLookupError('csi_driver_manifests: give exactly one folder, got %d' % len(terms))
        return [build(terms[0], namespace=self.get_option('namespace'),
                      create_namespace=self.get_option('create_namespace'),
                      driver_name=self.get_option('driver_name'), kubelet_dir=self.get_option('kubelet_dir'),
                      images=self.get_option('images'), image_pull_policy=self.get_option('image_pull_policy'),
                      node_args=self.get_option('node_args'))]
