# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""glusterfs.heketi.manifest_yaml and render_plan: the storageclass role's render mode, without Ansible."""
from __future__ import annotations

import hashlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.glusterfs.heketi.plugins.filter.manifest_yaml import manifest_yaml
from ansible_collections.glusterfs.heketi.plugins.filter.render_plan import render_plan

OBJECTS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}, "data": {"key": "a2V5"}},
    {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "sc"},
     "provisioner": "kubernetes.io/glusterfs", "parameters": {"gidMin": 2000, "volumetype": "replicate:3", "x": "true"}},
]


def test_documents_in_order_with_quoted_parameters():
    text = manifest_yaml(OBJECTS, header=["Rendered"])
    assert text.startswith("# Rendered\n---\n# Namespace ns\n") and text.endswith('  x: "true"\n')
    docs = [doc for doc in yaml.safe_load_all(text) if doc]
    assert [doc["kind"] for doc in docs] == ["Namespace", "Secret", "StorageClass"]
    assert docs[2]["parameters"] == {"gidMin": "2000", "volumetype": "replicate:3", "x": "true"}
    assert '  gidMin: "2000"\n' in text and "# Secret ns/s\n" in text


def test_an_object_without_metadata_is_refused():
    with pytest.raises(AnsibleFilterError, match="kind and metadata"):
        manifest_yaml([{"kind": "Namespace"}])


def _found(path, content=None, mode="0600", isdir=False):
    entry = {"path": path, "mode": mode, "isdir": isdir, "isreg": not isdir}
    if content is not None:
        entry["checksum"] = hashlib.sha1(content.encode()).hexdigest()
    return entry


def test_nothing_to_do_when_everything_matches():
    found = [_found("/o/a", isdir=True, mode="0700"), _found("/o/a/m.yaml", "text"), _found("/o/notes.txt", "x")]
    plan = render_plan(found, files=[{"path": "/o//a/m.yaml", "content": "text"}], folders=["/o/a/"],
                       stale=["[0-9][0-9]-*.yaml"])
    assert plan == {"folders": [], "write": [], "remove": []}


def test_missing_differing_or_open_files_are_written_and_older_files_removed():
    found = [_found("/o/a", isdir=True, mode="0755"), _found("/o/a/m.yaml", "old"), _found("/o/b.txt", "t", "0644"),
             _found("/o/a/00-secret-s.yaml", "x"), _found("/o/a/notes.yaml", "x"), _found("/o/00-x.yaml", "x")]
    wanted = [{"path": "/o/a/m.yaml", "content": "new"}, {"path": "/o/b.txt", "content": "t"},
              {"path": "/o/c/m.yaml", "content": "c"}]
    plan = render_plan(found, files=wanted, folders=["/o/a", "/o/c"], stale=["[0-9][0-9]-*.yaml"])
    assert plan["folders"] == ["/o/a", "/o/c"]
    assert plan["write"] == wanted
    assert plan["remove"] == ["/o/a/00-secret-s.yaml"]  # only in the variant folders, only the older layout


def test_a_variant_no_longer_rendered_is_removed_with_what_the_role_wrote_there():
    found = [_found("/o/csi", isdir=True, mode="0700"), _found("/o/csi/m.yaml", "key"),
             _found("/o/intree", isdir=True, mode="0700"), _found("/o/intree/m.yaml", "old key"),
             _found("/o/intree/01-secret-s.yaml", "x"),
             _found("/o/glusterfile", isdir=True, mode="0700"), _found("/o/glusterfile/m.yaml", "old key"),
             _found("/o/glusterfile/mine.txt", "the user's")]
    plan = render_plan(found, files=[{"path": "/o/csi/m.yaml", "content": "key"}], folders=["/o/csi"],
                       stale=["[0-9][0-9]-*.yaml"], retired=["/o/intree", "/o/glusterfile", "/o/absent"])
    # intree held only the role's files: the folder goes; glusterfile holds the user's file too: it stays
    assert plan == {"folders": [], "write": [], "remove": ["/o/glusterfile/m.yaml", "/o/intree"]}
