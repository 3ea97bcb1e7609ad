#!/usr/bin/python
# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: heketi_topology
short_description: Load a GlusterFS topology into Heketi, idempotently
version_added: 1.0.0
description:
  - Takes a topology in the schema of Heketi's C(topology.json) (the file C(heketi-cli topology load --json) reads)
    and makes Heketi hold it. Unlike C(heketi-cli topology load), it validates the whole file before any write,
    adds only what is missing, updates what the API can update, reports what it cannot, fails when
    something fails and never leaves an empty cluster behind.
  - B(Validation.) The whole topology is checked before Heketi is contacted. Every problem is reported with its
    path, for example C(clusters[0].nodes[2].node.zone) followed by C(must be an integer >= 1, got 0). Checked are the
    structure and types, non-empty C(manage) and C(storage) hostname lists of valid hostnames or IP addresses,
    zones (integers >= 1), device names (absolute paths of the characters Heketi accepts,
    C(^/[a-zA-Z0-9_.:/-]+$)), tags (Heketi's limits), a manage or storage hostname used by two nodes,
    and a device listed twice on one node, also under another spelling (V(/dev/sdb), V(/dev//sdb), V(/dev/./sdb)
    and V(/dev/sdb/) are one device; the error names the alias, and names are sent normalised).
  - Refused as well, before any write, is what Heketi would refuse only after writes began (a trailing newline
    after a name such as V(/dev/sdb), a scoped IPv6 address such as V(fe80::1%eth0)), and in O(src) a key given twice in one
    object (JSON would silently keep the last).
  - The role C(glusterfs.heketi.topology) checks its topology with this same validator (filter
    P(glusterfs.heketi.topology_model#filter)).
  - B(Unknown keys fail.) A key the schema does not know (a typo such as C(zones), or C(cluster) inside C(node))
    is an error, where C(heketi-cli) silently ignores it.
  - B(Matching.) A node is the Heketi node that has any of its manage hostnames (compared case-insensitively, as
    RV(drift) compares them). A device is the device of that node whose name, or one of the paths Heketi records
    for it (udev aliases), equals the device name once both are normalised.
    Each file cluster maps to the Heketi cluster that holds its known nodes; when none of its nodes is known yet,
    a new cluster is created (with explicit C(file) and C(block) flags,
    default V(true)) just before its first node joins, and deleted again if no node could join it.
  - A file cluster whose nodes already sit in two Heketi clusters, two file clusters mapping to the same Heketi
    cluster, a manage hostname list matching two Heketi nodes and a new node whose storage hostname another Heketi
    node uses are refused before any write.
  - B(Changes.) Missing clusters, nodes and devices are added. Node and device tags are merged (tags listed in the
    topology are set to the listed value, other tags are kept) and cluster flags set when the topology states them.
    A zone or hostname that differs on an existing node cannot be changed through the API; it is returned in
    RV(drift) and warned about, without failing. Nothing is ever removed.
  - B(Duplicates.) Two devices of one node with the same name (or recorded path), or two nodes with one hostname
    (in one cluster or in two), are reported in RV(drift) and warned about, with their ids, on every run, whoever
    created them. When such duplicate nodes make the topology impossible to match, the module stops before any
    write, naming them and the fix (remove the copy that holds no bricks), not advising to change the file.
  - B(Concurrent runs.) Every run on one host is serialized by an exclusive lock file,
    C(/run/lock/glusterfs-heketi-topology.lock) (the temporary folder where C(/run/lock) cannot be written),
    held from the read of Heketi's topology to the last write (check mode takes none), whatever the URL's
    spelling and the run's temporary folder. The C(glusterfs.heketi.topology) role runs the module on the Heketi
    host, so every load it makes, from any controller or AWX execution node, takes that one lock. Runs of the
    module on two other hosts are not serialized (for example with EL 7 or 8 Heketi hosts, where the role runs
    the module on the controller, and the collection's AWX job templates do not run simultaneously); what they
    duplicate is reported as above.
  - The plan is one list of actions (RV(actions)); check mode predicts from it, execution performs it.
  - Nodes are added one after another. Devices are added concurrently across nodes (the devices of one node one
    after another), with at most O(max_inflight_operations) Heketi operations in flight.
  - B(Failures.) When a node or device cannot be added, the module carries on with everything else, then fails
    with the counts and the first few failures (all are in RV(failures)) and everything it added. A rerun
    completes the rest.
  - B(A lost server.) Once Heketi cannot be reached, no further write is sent; those in flight are waited for.
    An operation sent but never answered is V(unknown) (Heketi may have made it) and listed in RV(added).
author:
  - glusterfs.heketi developers (@glusterfs-heketi)
requirements:
  - A Heketi server (API of Heketi 10) reachable from the host the module runs on, and its admin key.
options:
  topology:
    description:
      - The topology, inline, in the schema of C(topology.json) (the same keys, a mapping with a C(clusters) list).
      - Validated by the module itself rather than by the argument spec, so that every error names its path.
      - Mutually exclusive with O(src).
      - 'The schema: C(clusters) (required, a non-empty list). Each cluster has C(nodes) (required, non-empty)
        and optionally C(file) and C(block) (booleans, the cluster flags; V(true) for a new cluster by default;
        the flags of an existing cluster change only when they are set).'
      - 'Each entry of C(nodes) has C(node) (C(hostnames) with non-empty C(manage) and C(storage) lists, C(zone)
        an integer >= 1, optional C(tags)) and C(devices).'
      - A device is a path string such as V(/dev/sdb), or a mapping with C(name), C(destroydata) (boolean)
        and C(tags).
      - Tags are mappings of names (1 to 32 characters of letters, digits, C(_), C(.), C(-)) to string values
        (up to 64 characters), at most 32 per node or device.
    type: dict
  src:
    description:
      - Path of a C(topology.json) file on the host the module runs on (with C(delegate_to), that host).
      - Mutually exclusive with O(topology).
    type: path
  max_inflight_operations:
    description:
      - At most this many Heketi operations (node and device additions) in flight at a time.
      - Keep it at or below the server's C(max_inflight_operations) setting (default 8); the module retries
        when the server answers HTTP 429 (busy) anyway.
    type: int
    default: 8
extends_documentation_fragment:
  - glusterfs.heketi.heketi
  - glusterfs.heketi.attributes
attributes:
  check_mode:
    support: full
    details:
      - No request that changes anything is sent; RV(changed) and the planned RV(actions) are returned.
  diff_mode:
    support: full
    details:
      - Before and after show clusters, nodes (hostnames, zone, tags) and devices (name, tags).
  idempotent:
    support: full
seealso:
  - name: Heketi topology.json
    description: The file format C(heketi-cli topology load) reads.
    link: https://github.com/heketi/heketi/blob/master/docs/admin/topology.md
notes:
  - The module needs the C(admin) user. The C(user) key can only create and list volumes.
  - Heketi cannot change a node's zone or hostnames; apply such a change by removing the node's devices,
    deleting the node and running the module again.
  - Heketi is reached directly; proxies set in the environment (C(http_proxy), C(https_proxy)) are not used.
    The HTTP connections are kept alive and reused for the requests of one run.
  - With O(validate_certs=true) the server certificate must chain to O(ca_path) (only that file when it is given,
    otherwise the system's default trust store) and name the host of O(url).
'''

EXAMPLES = r'''
# The seed's flow: Heketi runs on node1; put topology.json there, then load it
# (what "heketi-cli topology load --json=/etc/heketi/topology.json" did, idempotently).
- name: Copy the topology file to the Heketi host
  ansible.builtin.copy:
    src: files/topology.json
    dest: /etc/heketi/topology.json
    owner: root
    group: root
    mode: "0644"
  delegate_to: node1
  run_once: true

- name: Load the GlusterFS topology into Heketi
  glusterfs.heketi.heketi_topology:
    url: http://localhost:8080
    user: admin
    key: "{{ heketi_admin_key }}"
    src: /etc/heketi/topology.json
  delegate_to: node1
  run_once: true
  register: topology

- name: Show the cluster id for the StorageClass
  ansible.builtin.debug:
    msg: "clusterid: {{ topology.topology.clusters[0].id }}"

# The same topology inline: 4 storage nodes, zone 1, devices /dev/sdf and /dev/sdg.
- name: Load an inline topology
  glusterfs.heketi.heketi_topology:
    url: http://heketi.example.com:8080
    key: "{{ heketi_admin_key }}"
    topology:
      clusters:
        - nodes:
            - node:
                hostnames:
                  manage: [192.168.1.113]
                  storage: [192.168.1.113]
                zone: 1
              devices: [/dev/sdf, /dev/sdg]
            - node:
                hostnames:
                  manage: [192.168.1.48]
                  storage: [192.168.1.48]
                zone: 1
              devices: [/dev/sdf, /dev/sdg]
            - node:
                hostnames:
                  manage: [192.168.1.49]
                  storage: [192.168.1.49]
                zone: 1
              devices: [/dev/sdf, /dev/sdg]
            - node:
                hostnames:
                  manage: [192.168.1.50]
                  storage: [192.168.1.50]
                zone: 1
              devices: [/dev/sdf, /dev/sdg]

# Tags, device objects and cluster flags. The key from Ansible Vault as the option key (not through the
# task's environment, which would put it into the remote command's environment, visible in ps and -vvv).
- name: Load a tagged topology with a file-only cluster
  glusterfs.heketi.heketi_topology:
    url: http://heketi.example.com:8080
    key: "{{ heketi_admin_key }}"
    topology:
      clusters:
        - file: true
          block: false
          nodes:
            - node:
                hostnames:
                  manage: [node1.example.com]
                  storage: [10.0.0.11]
                zone: 1
                tags:
                  rack: r1
              devices:
                - /dev/sdf
                - name: /dev/sdg
                  destroydata: false
                  tags:
                    disk: ssd

- name: Preview what a load would change
  glusterfs.heketi.heketi_topology:
    url: http://heketi.example.com:8080
    key: "{{ heketi_admin_key }}"
    src: /etc/heketi/topology.json
  check_mode: true
  diff: true
  register: plan
'''

RETURN = r'''
changed:
  description: Whether anything was (or in check mode, would be) added or updated.
  returned: always
  type: bool
actions:
  description:
    - What the module did, or in check mode would do, in order.
    - When writes began and some did not succeed (the task fails), only the actions that did not end V(done).
      A large load's full list is kept out of the failure's output; RV(counts) and RV(added) say the rest.
    - C(action) is one of V(create_cluster), V(set_cluster_flags), V(add_node), V(set_node_tags), V(add_device),
      V(set_device_tags); C(path) is the place in the topology; C(status) is V(planned) (check mode), V(done),
      V(failed) (with C(error)), V(unknown) (sent, but no answer came, the server was lost and may have made the
      change), V(skipped) (not sent, because its node or cluster could not be added or the server was lost) or
      V(reverted) (a created cluster deleted again because no node joined it).
  returned: always
  type: list
  elements: dict
  sample:
    - action: add_node
      path: clusters[0].nodes[0]
      manage: [192.168.1.113]
      storage: [192.168.1.113]
      zone: 1
      tags: {}
      status: done
      node: 16cb266f3674dc04af2d657e2e284fd4
    - action: add_device
      path: clusters[0].nodes[0].devices[0]
      hostname: 192.168.1.113
      name: /dev/sdf
      destroydata: false
      tags: {}
      status: done
drift:
  description:
    - Differences the API cannot change on existing nodes (C(field) V(zone), V(manage) or V(storage)).
    - Duplicates Heketi holds, with C(ids) naming them (C(field) V(devices) when one node holds a device name twice,
      V(nodes) for two nodes with one hostname in different case).
  returned: always
  type: list
  elements: dict
  sample:
    - path: clusters[0].nodes[1].node.zone
      node: 16cb266f3674dc04af2d657e2e284fd4
      hostname: 192.168.1.48
      field: zone
      heketi: 1
      topology: 2
      msg: "clusters[0].nodes[1].node.zone: Heketi node 16cb... (192.168.1.48) has zone 1, the topology says 2; ..."
topology:
  description:
    - What Heketi holds after the run, as C(heketi-cli topology info --json) shows it, with ids.
    - In check mode, what it held before.
  returned: success
  type: dict
  sample:
    clusters:
      - id: 074ffdd767a308bb66af6dd1ea0eaea7
        file: true
        block: true
        volumes: []
        nodes:
          - id: 16cb266f3674dc04af2d657e2e284fd4
            cluster: 074ffdd767a308bb66af6dd1ea0eaea7
            zone: 1
            hostnames:
              manage: [192.168.1.113]
              storage: [192.168.1.113]
            state: online
            devices:
              - id: 6d18fe13c015d80f659e2f8b10b458de
                name: /dev/sdf
                state: online
                storage: {total: 524288000, free: 524288000, used: 0}
                bricks: []
failures:
  description:
    - Every failed addition or update, with the server's message (C(msg)), C(status) (HTTP, null when no answer
      came) and C(outcome) (V(failed), or V(unknown) when the request was sent but never answered).
  returned: failure after writes began
  type: list
  elements: dict
  sample:
    - path: clusters[0].nodes[2]
      action: add_node
      status: 400
      msg: "New Node doesn't have glusterd running"
added:
  description:
    - Everything that was (V(done), V(reverted)) or may have been (V(unknown)) added or updated before the failure,
      in short, C(path), C(action), C(status) and what names it (C(hostname) and C(name) of a device, the id
      Heketi gave when it answered).
  returned: failure after writes began
  type: list
  elements: dict
  sample:
    - {path: "clusters[0].nodes[3].devices[1]", action: add_device, status: done, hostname: node4, name: /dev/sdg}
counts:
  description: How many actions ended V(done), V(failed), V(unknown), V(skipped) and V(reverted).
  returned: failure after writes began
  type: dict
  sample: {done: 38, failed: 0, unknown: 2, skipped: 60, reverted: 0}
errors:
  description: Every validation problem or conflict with Heketi, each starting with its path in the topology.
  returned: when the topology is refused (nothing was written)
  type: list
  elements: str
  sample:
    - "clusters[0].nodes[2].node.zone: must be an integer >= 1, got 0"
'''

from collections import Counter

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi import (
    HEKETI_ARGUMENT_SPEC,
    HeketiError,
    run_module,
)
from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import ModuleFailure
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology.execute import ServerLock, execute
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology.plan import (
    make_plan,
    predict,
    public,
    summarize,
)
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology.schema import (
    TopologyError,
    loads_json,
    validate_topology,
)

FIRST_FAILURES = 3


def load_source(module):
    if module.params['topology'] is not None:
        return module.params['topology']
    src = module.params['src']
    try:
        with open(src, 'rb') as fh:
            raw = fh.read()
    except (IOError, OSError) as e:
        raise TopologyError(['src: cannot read %s: %s' % (src, to_native(e))], title='Cannot load the topology')
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as e:
        raise TopologyError(['src: %s is not UTF-8: %s' % (src, to_native(e))], title='Cannot load the topology')
    return loads_json(text, 'src: %s' % src)


def failure_message(url, actions, failures, lost):
    """A short message: counts, the first few failures, what to do."""
    counts = Counter(a['status'] for a in actions)
    shown = ['%s (%s): %s' % (f['path'] or '-', f['action'], f['msg']) for f in failures[:FIRST_FAILURES]]
    if len(failures) > FIRST_FAILURES:
        shown.append('and %d more (see failures)' % (len(failures) - FIRST_FAILURES))
    tally = '%d done, %d failed, %d unknown, %d not sent' % (
        counts['done'] + counts['reverted'], counts['failed'], counts['unknown'], counts['skipped'])
    if lost is not None:
        return ('Lost the Heketi server at %s during the load; no further write was sent. Of %d operations: %s '
                '("unknown": sent, but no answer came, so Heketi may have made them; they are listed in added). '
                'First failures: %s. Bring the server back and run again: the rerun adds what is missing and '
                'reports any duplicate in drift.' % (url, len(actions), tally, '; '.join(shown)))
    return ('%d of %d Heketi operation(s) failed (%s): %s. What was added is in added; a rerun adds what '
            'is still missing.' % (len(failures), len(actions), tally, '; '.join(shown)))


def run(module, client):
    if module.params['max_inflight_operations'] < 1:
        raise ModuleFailure('Invalid option: max_inflight_operations: must be an integer >= 1, got %s'
                            % module.params['max_inflight_operations'], changed=False)
    try:
        spec = validate_topology(load_source(module))
    except TopologyError as e:
        raise ModuleFailure(e.message, errors=e.errors, changed=False)
    if module.check_mode:
        return load(module, client, spec)
    # Serialize the loads against one server on this host: two plans made from the same read would
    # add the same devices twice.
    with ServerLock(timeout=module.params['timeout']):
        return load(module, client, spec)


def load(module, client, spec):
    current = client.topology(include_volumes=False)
    try:
        plan = make_plan(spec, current)
    except TopologyError as e:
        raise ModuleFailure(e.message, errors=e.errors, changed=False)
    actions = plan['actions']
    for d in plan['drift']:
        module.warn(d['msg'])
    result = dict(changed=bool(actions), actions=public(actions), drift=plan['drift'])
    before = summarize(current)
    if module.check_mode or not actions:
        result['topology'] = current
        if module._diff:
            result['diff'] = dict(before=before, after=predict(current, actions))
        return result
    failures = execute(client, actions, max_inflight=module.params['max_inflight_operations'])
    result['actions'] = public(actions)
    result['changed'] = any(a['status'] in ('done', 'unknown') for a in actions)
    lost = next((f for f in failures if f['status'] is None), None)
    if lost is None:
        try:
            after = client.topology(include_volumes=False)
            result['topology'] = after
            if module._diff:
                result['diff'] = dict(before=before, after=summarize(after))
        except HeketiError as e:
            failures.append({'path': '', 'action': 'read_topology', 'status': e.status, 'outcome': 'failed',
                             'msg': e.message, 'error': e.message})
    if failures:
        counts = Counter(a['status'] for a in actions)
        result.update(
            failures=failures,
            counts=dict((status, counts[status]) for status in ('done', 'failed', 'unknown', 'skipped', 'reverted')),
            added=[_short(a) for a in result['actions'] if a['status'] in ('done', 'reverted', 'unknown')],
            actions=[a for a in result['actions'] if a['status'] != 'done'])
        result.pop('topology', None)
        raise ModuleFailure(failure_message(client.url, actions, failures, lost), **result)
    return result


_NAMES = ('hostname', 'name', 'cluster', 'node', 'device')


def _short(action):
    """An action of the failure's RV(added): what it was and what names it."""
    short = dict((k, action[k]) for k in ('path', 'action', 'status'))
    short.update((k, action[k]) for k in _NAMES if action.get(k))
    return short


def main():
    argument_spec = dict(
        topology=dict(type='dict'),
        src=dict(type='path'),
        max_inflight_operations=dict(type='int', default=8),
    )
    argument_spec.update(HEKETI_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('topology', 'src')],
        required_one_of=[('topology', 'src')],
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
