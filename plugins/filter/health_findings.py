# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: health_findings
short_description: Findings and a short table from Heketi's and GlusterFS's health reports
version_added: 1.1.0
description:
  - Turns what M(glusterfs.heketi.heketi_info) (with C(include_pending_operations) and C(include_examine)) and
    M(glusterfs.heketi.glusterfs_health_info) (one answer per storage node) report into findings, each one line
    with the way to fix it, and a short table of the pool. The C(check.yml) playbook prints the table, and fails with
    the findings when there is any.
  - "Findings: Heketi not answering or not in normal mode; database inconsistencies (C(db/check)); stale, failed or
    long-running operations, with their age; volumes in Heketi's database and not in GlusterFS or the reverse (Heketi's
    own comparison, C(examine gluster)); nodes or devices not online in Heketi; a storage node whose glusterd does not
    answer; peers not connected; bricks offline; entries waiting for self-heal or in split-brain; devices and clusters
    below O(min_free_percent) free."
positional: _input
options:
  _input:
    description: The registered result of M(glusterfs.heketi.heketi_info) (a failed result is a finding).
    type: dict
    required: true
  gluster:
    description: A dict, each storage node to its registered result of M(glusterfs.heketi.glusterfs_health_info) (failed
      ones too).
    type: dict
    required: true
  min_free_percent:
    description: A device or cluster with less free space than this (percent of its size) is a finding.
    type: int
    default: 10
  running_after:
    description: An operation Heketi still runs after this many seconds is a finding.
    type: int
    default: 3600
'''

EXAMPLES = r'''
- name: Turn the reports into findings
  ansible.builtin.set_fact:
    health: "{{ heketi_report | glusterfs.heketi.health_findings(gluster=gluster_reports, min_free_percent=10) }}"
'''

RETURN = r'''
_value:
  description: C(findings), one dict each (C(what), C(fix)); C(table), lines describing the pool.
  type: dict
'''

from ansible.errors import AnsibleFilterError


def _age(seconds):
    seconds = int(seconds)
    if seconds < 120:
        return '%d s' % seconds
    if seconds < 7200:
        return '%d min' % (seconds // 60)
    if seconds < 172800:
        return '%.1f h' % (seconds / 3600.0)
    return '%.1f days' % (seconds / 86400.0)


def _percent(free, total):
    return 100.0 * free / total if total else 100.0


def _answered(report, key):
    """Whether a registered module result is an answer: its key is there (failed_when: false clears ``failed``)."""
    return not (report.get('failed') or report.get('unreachable')) and key in report


def _heketi_findings(heketi, min_free, running_after):
    out = []
    add = out.append
    if not _answered(heketi, 'clusters'):
        add(('Heketi does not answer: %s' % heketi.get('msg', 'no answer'),
             'start or fix Heketi (systemctl status heketi); playbooks/failover.yml promotes the standby'))
        return out
    if heketi.get('admin_state') not in (None, 'normal'):
        add(('Heketi is in %s mode: it refuses writes' % heketi['admin_state'],
             'restart Heketi (read-only) or heketi-cli server mode set normal (local-client) after maintenance'))
    inconsistencies = (heketi.get('db_check') or {}).get('totalinconsistencies') or 0
    if inconsistencies:
        add(('Heketi database: %d inconsistencies (heketi-cli db check)' % inconsistencies,
             'read heketi-cli db check; restore the backup taken just before the damage (playbooks/restore.yml)'))
    for op in heketi.get('pending_operations') or []:
        if op['status'] in ('stale', 'failed'):
            add(('Heketi operation %s (%s) is %s, recorded %s ago' % (op['id'], op['kind'], op['status'], _age(op['age'])),
                 'playbooks/cleanup_operations.yml (Heketi rolls it back: heketi-cli server operations cleanup)'))
        elif op['age'] > running_after:
            add(('Heketi operation %s (%s) has run for %s' % (op['id'], op['kind'], _age(op['age'])),
                 'read Heketi\'s log (journalctl -u heketi) for what it waits for'))
    examine = heketi.get('examine') or {}
    for cid in examine.get('unreachable_clusters') or []:
        add(('Heketi could read nothing from the nodes of cluster %s' % cid,
             'check that Heketi reaches them over ssh and that glusterd runs there'))
    gluster_volumes = examine.get('gluster_volumes') or {}
    for cid, names in sorted((examine.get('heketi_volumes') or {}).items()):
        if cid not in gluster_volumes:
            continue
        for name in sorted(set(names) - set(gluster_volumes[cid])):
            add(('volume %s is in Heketi\'s database (cluster %s) but not in GlusterFS' % (name, cid),
                 'deleted behind Heketi\'s back: check no claim uses it, then heketi-cli volume delete <its id>'))
    for cid, names in sorted(gluster_volumes.items()):
        for name in sorted(set(names) - set((examine.get('heketi_volumes') or {}).get(cid) or [])):
            add(('volume %s is in GlusterFS (cluster %s) but not in Heketi\'s database' % (name, cid),
                 'made outside Heketi, or lost by it: its bricks use space Heketi counts as free; '
                 'gluster volume info %s, then delete it with gluster or keep it out of Heketi\'s devices' % name))
    for node in heketi.get('nodes') or []:
        if node.get('state') != 'online':
            add(('Heketi node %s is %s' % (_host(node.get('hostnames')), node.get('state')),
                 'heketi-cli node enable %s, or finish its removal (playbooks/remove_node.yml)' % node['id']))
    for dev in heketi.get('devices') or []:
        where = '%s %s' % (_host(dev.get('node_hostnames')), dev.get('name'))
        if dev.get('state') != 'online':
            add(('Heketi device %s is %s' % (where, dev.get('state')),
                 'heketi-cli device enable %s, or finish its replacement (playbooks/replace_device.yml)' % dev['id']))
        storage = dev.get('storage') or {}
        if storage.get('total') and _percent(storage.get('free') or 0, storage['total']) < min_free:
            free = storage.get('free') or 0
            what = 'device %s: %.0f%% free (%d of %d GiB)' % (
                where, _percent(free, storage['total']), free // 1048576, storage['total'] // 1048576)
            add((what, 'add a device (topology_devices, site.yml) or grow it (playbooks/grow_device.yml)'))
    for cluster in heketi.get('clusters') or []:
        devices = [d for d in heketi.get('devices') or [] if d.get('cluster') == cluster['id']]
        total = sum((d.get('storage') or {}).get('total') or 0 for d in devices)
        free = sum((d.get('storage') or {}).get('free') or 0 for d in devices)
        if total and _percent(free, total) < min_free:
            add(('cluster %s: %.0f%% free' % (cluster['id'], _percent(free, total)),
                 'add nodes or devices to it (site.yml)'))
    return out


def _host(hostnames):
    return ((hostnames or {}).get('manage') or ['?'])[0]


def _gluster_findings(gluster):
    out = []
    disconnected = {}
    for host, report in sorted(gluster.items()):
        if not _answered(report, 'peers'):
            out.append(('%s: glusterd does not answer: %s' % (host, (report.get('msg') or 'unreachable').strip()),
                        'systemctl start glusterd on %s; check the host' % host))
            continue
        for peer in report.get('peers') or []:
            if not peer.get('connected'):
                disconnected.setdefault(peer.get('hostname'), []).append(host)
    for peer, seen_by in sorted(disconnected.items()):
        out.append(('peer %s is not connected (seen from %s)' % (peer, ', '.join(seen_by)),
                    'start glusterd on %s, or check the network between the nodes' % peer))
    volumes = next((r['volumes'] for _h, r in sorted(gluster.items()) if r.get('volumes') is not None), [])
    for vol in volumes:
        if vol.get('status') != 'Started':
            continue
        for brick in vol.get('bricks') or []:
            if not brick.get('online'):
                out.append(('brick %s of volume %s is offline' % (brick['name'], vol['name']),
                            'gluster volume start %s force (starts the missing brick processes); then check '
                            'its heal' % vol['name']))
        heal = vol.get('heal') or {}
        if heal.get('pending'):
            out.append(('volume %s: %d entries wait for self-heal' % (vol['name'], heal['pending']),
                        'wait for the self-heal daemon (gluster volume heal %s info summary); '
                        'gluster volume heal %s starts it' % (vol['name'], vol['name'])))
        if heal.get('split_brain'):
            out.append(('volume %s: %d entries in split-brain' % (vol['name'], heal['split_brain']),
                        'gluster volume heal %s info split-brain, then resolve each entry' % vol['name']))
    return out, volumes


def _table(heketi, gluster, volumes):
    lines = []
    ops = heketi.get('operations') or {}
    if _answered(heketi, 'clusters'):
        lines.append('Heketi: %s mode, %d cluster(s), %d node(s), %d device(s), %d volume(s); operations: %d in flight, '
                     '%d stale, %d failed; db check: %d inconsistencies' % (
                         heketi.get('admin_state') or '?', len(heketi.get('clusters') or []),
                         len(heketi.get('nodes') or []), len(heketi.get('devices') or []),
                         len(heketi.get('volumes') or []), ops.get('in_flight') or 0, ops.get('stale') or 0,
                         ops.get('failed') or 0, (heketi.get('db_check') or {}).get('totalinconsistencies') or 0))
        for dev in sorted(heketi.get('devices') or [], key=lambda d: (_host(d.get('node_hostnames')), d.get('name'))):
            storage = dev.get('storage') or {}
            lines.append('  %-20s %-12s %-8s %6.1f GiB free of %6.1f GiB (%3.0f%%), %d brick(s)' % (
                _host(dev.get('node_hostnames')), dev.get('name'), dev.get('state'), (storage.get('free') or 0) / 1048576.0,
                (storage.get('total') or 0) / 1048576.0, _percent(storage.get('free') or 0, storage.get('total') or 0),
                dev.get('bricks') or 0))
    for host, report in sorted(gluster.items()):
        if _answered(report, 'peers'):
            peers = report.get('peers') or []
            lines.append('GlusterFS %s on %s: %d/%d peers connected, op-version %s' % (
                report.get('version') or '?', host, len([p for p in peers if p.get('connected')]), len(peers),
                (report.get('op_version') or {}).get('current', '?')))
    for vol in volumes:
        bricks = vol.get('bricks') or []
        heal = vol.get('heal') or {}
        lines.append('  volume %-40s %-8s %-22s %d/%d bricks online, heal pending %s' % (
            vol['name'], vol.get('status'), vol.get('type'), len([b for b in bricks if b.get('online')]), len(bricks),
            heal.get('pending', '-')))
    return lines


def health_findings(heketi, gluster, min_free_percent=10, running_after=3600):
    """See DOCUMENTATION."""
    if not isinstance(heketi, dict) or not isinstance(gluster, dict):
        raise AnsibleFilterError('health_findings: expects the heketi_info result (a dict) and gluster= '
                                 '{host: glusterfs_health_info result}')
    found = _heketi_findings(heketi, int(min_free_percent), int(running_after))
    gluster_found, volumes = _gluster_findings(gluster)
    found.extend(gluster_found)
    return {'findings': [{'what': what, 'fix': fix} for what, fix in found],
            'table': _table(heketi, gluster, volumes)}


class FilterModule(object):

    def filters(self):
        return {'health_findings': health_findings}
