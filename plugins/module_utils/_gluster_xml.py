# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The answers of read-only ``gluster --xml`` commands, parsed. PRIVATE.

Plain Python (2.7 and 3.6+, the standard library only, no Ansible import): the ``glusterfs_health_info`` module
uses it, and the ``glusterfs_metrics`` role copies this file beside its textfile collector on the storage nodes.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

# Volume types whose bricks the self-heal daemon heals.
HEALED_TYPES = ('Replicate', 'Distributed-Replicate', 'Disperse', 'Distributed-Disperse')


def xml_int(node, tag, default=0):
    """The integer text of ``tag`` under ``node``; ``default`` when missing or not a number."""
    text = node.findtext(tag)
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def parse_peers(root):
    """The peers of ``gluster peer status``."""
    peers = []
    for peer in root.iter('peer'):
        peers.append({'hostname': peer.findtext('hostname'),
                      'hostnames': [h.text for h in peer.findall('hostnames/hostname')],
                      'uuid': peer.findtext('uuid'), 'connected': peer.findtext('connected') == '1',
                      'state': peer.findtext('stateStr')})
    return peers


def parse_volumes(info_root, status_root):
    """Volumes from ``volume info all``, brick status from ``volume status all detail`` (started volumes only)."""
    status = {}
    for vol in status_root.iter('volume'):
        for node in vol.findall('node'):
            status[(vol.findtext('volName'), '%s:%s' % (node.findtext('hostname'), node.findtext('path')))] = node
    volumes = []
    for vol in info_root.iter('volume'):
        name = vol.findtext('name')
        if name is None or vol.find('bricks') is None:
            continue
        bricks = []
        for brick in vol.findall('bricks/brick'):
            brick_name = brick.findtext('name') or (brick.text or '').strip()
            node = status.get((name, brick_name))
            online = node is not None and node.findtext('status') == '1'
            bricks.append({'name': brick_name, 'host': brick_name.rsplit(':', 1)[0], 'online': online,
                           'peerid': node.findtext('peerid') if node is not None else None,
                           'pid': xml_int(node, 'pid', None) if node is not None else None,
                           'size_total': xml_int(node, 'sizeTotal') if online else 0,
                           'size_free': xml_int(node, 'sizeFree') if online else 0})
        volumes.append({'name': name, 'status': vol.findtext('statusStr'), 'type': vol.findtext('typeStr'),
                        'replica': xml_int(vol, 'replicaCount', 1), 'bricks': bricks, 'heal': None})
    return volumes


def parse_heal_bricks(root):
    """Per brick of ``volume heal VOLUME info summary``: entries waiting for self-heal and in split-brain."""
    bricks = []
    for brick in root.iter('brick'):
        bricks.append({'name': brick.findtext('name'), 'connected': brick.findtext('status') == 'Connected',
                       'pending': xml_int(brick, 'numberOfEntriesInHealPending')
                       + xml_int(brick, 'numberOfEntriesPossiblyHealing'),
                       'split_brain': xml_int(brick, 'numberOfEntriesInSplitBrain')})
    return bricks


def parse_heal(root):
    """The self-heal backlog of a volume, over all its bricks."""
    bricks = parse_heal_bricks(root)
    return {'pending': sum(b['pending'] for b in bricks), 'split_brain': sum(b['split_brain'] for b in bricks)}
