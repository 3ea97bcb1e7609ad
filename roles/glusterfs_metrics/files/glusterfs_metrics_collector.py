# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""GlusterFS health for node_exporter's textfile collector (installed by the glusterfs.heketi.glusterfs_metrics role).

Run by a systemd timer, never by a network request: it asks the local glusterd with read-only ``gluster --xml``
commands (peer status, volume info, volume status detail, heal info summary) and writes one .prom file atomically
(a temporary file renamed) into node_exporter's textfile folder. node_exporter serves it; nothing here listens.
Python 2.7 and 3.6+ (the storage nodes' platform Python), the standard library only.
"""
from __future__ import (absolute_import, division, print_function)

import argparse
import os
import subprocess
import sys
import time
import zlib
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _gluster_xml import HEALED_TYPES, parse_heal_bricks, parse_peers, parse_volumes, xml_int  # noqa: E402


class Metrics(object):
    """Samples by metric name, written in Prometheus' text format with HELP and TYPE."""

    def __init__(self):
        self.order = []
        self.meta = {}
        self.samples = {}

    def add(self, name, help_text, value, labels=None):
        if name not in self.meta:
            self.order.append(name)
            self.meta[name] = help_text
            self.samples[name] = []
        self.samples[name].append((sorted((labels or {}).items()), value))

    def text(self):
        lines = []
        for name in self.order:
            lines.append('# HELP %s %s' % (name, self.meta[name]))
            lines.append('# TYPE %s gauge' % name)
            for labels, value in self.samples[name]:
                label_text = ','.join('%s="%s"' % (k, escape(v)) for k, v in labels)
                lines.append('%s%s %s' % (name, '{%s}' % label_text if label_text else '', number(value)))
        return '\n'.join(lines) + '\n'


def escape(value):
    return ('%s' % value).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def number(value):
    if isinstance(value, bool):
        return '1' if value else '0'
    if isinstance(value, float):
        return repr(round(value, 6))
    return '%d' % value


class GlusterError(Exception):
    pass


def gluster_xml(gluster, *args):
    """The cliOutput root of one read-only ``gluster --xml`` command; GlusterError when glusterd does not answer."""
    proc = subprocess.Popen([gluster, '--mode=script', '--xml'] + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out, err = proc.communicate()
    return parse_answer(args, proc.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace'))


def parse_answer(args, returncode, out, err):
    """The cliOutput root of a gluster answer; GlusterError for no XML (glusterd down) or opRet not 0."""
    try:
        root = ET.fromstring(out)
    except ET.ParseError:
        raise GlusterError('gluster %s: exit %d: %s' % (' '.join(args), returncode, (err or out).strip()[:300]))
    if xml_int(root, 'opRet') != 0:
        raise GlusterError('gluster %s: %s' % (' '.join(args), root.findtext('opErrstr') or 'failed'))
    return root


def heals_here(volume, local_uuid):
    """Whether this node asks for the volume's self-heal backlog. ``heal info`` is the pool's answer and costs a
    process that connects to every brick (about 2 s a volume), so one server of the volume's online bricks asks: the
    one a hash of the volume's name picks among their uuids; a server down drops out of that list and another takes
    over. Without this node's uuid, every node asks."""
    if not local_uuid:
        return True
    servers = sorted(set(b['peerid'] for b in volume['bricks'] if b['online'] and b['peerid']))
    if not servers:
        return False
    return servers[zlib.crc32(volume['name'].encode('utf-8')) % len(servers)] == local_uuid


def read_local_uuid(path):
    """glusterd's uuid of this node (UUID= of glusterd.info); None when unreadable."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith('UUID='):
                    return line.split('=', 1)[1].strip() or None
    except (IOError, OSError):
        pass
    return None


def gluster_metrics(metrics, run, local_uuid=None):
    """Add the pool's health as this node's glusterd sees it; ``run(*args)`` answers one gluster command."""
    try:
        peers = parse_peers(run('peer', 'status'))
    except GlusterError as e:
        metrics.add('glusterfs_glusterd_up', 'glusterd on this node answers the gluster command (1) or not (0).', 0)
        sys.stderr.write('%s\n' % e)
        return
    metrics.add('glusterfs_glusterd_up', 'glusterd on this node answers the gluster command (1) or not (0).', 1)
    metrics.add('glusterfs_peers', 'Other servers of the trusted pool this node knows.', len(peers))
    for peer in peers:
        # the name it was probed by (Heketi's storage hostname) comes first; <hostname> may be a reverse-resolved one
        name = (peer['hostnames'] or [peer['hostname']])[0]
        metrics.add('glusterfs_peer_connected', 'A peer as this node sees it: connected (1) or not (0).',
                    peer['connected'], {'peer': name, 'state': peer['state'] or ''})
    try:
        info = run('volume', 'info', 'all')
        started = [v for v in info.iter('volume') if v.findtext('statusStr') == 'Started']
        # glusterd answers "No volumes present" (an error) when none is started
        status = run('volume', 'status', 'all', 'detail') if started else ET.fromstring('<cliOutput/>')
    except GlusterError as e:  # glusterd went away between two commands: the peers are written, no volume
        sys.stderr.write('%s\n' % e)
        return
    volumes = parse_volumes(info, status)
    metrics.add('glusterfs_volumes', 'Volumes of the trusted pool.', len(volumes))
    for vol in volumes:
        v = {'volume': vol['name']}
        metrics.add('glusterfs_volume_info', 'One per volume, with its type and status (Created, Started, Stopped).',
                    1, dict(v, type=vol['type'] or '', status=vol['status'] or ''))
        metrics.add('glusterfs_volume_started', 'Volume started (1) or not (0).', vol['status'] == 'Started', v)
        metrics.add('glusterfs_volume_bricks', 'Bricks of the volume.', len(vol['bricks']), v)
        metrics.add('glusterfs_volume_bricks_online', 'Bricks of the volume with a brick process serving them.',
                    sum(1 for b in vol['bricks'] if b['online']), v)
        for brick in vol['bricks']:
            b = dict(v, brick=brick['name'], host=brick['host'])
            metrics.add('glusterfs_brick_online', 'A brick process serves the brick (1) or not (0).', brick['online'], b)
            if brick['online']:
                metrics.add('glusterfs_brick_size_bytes', "Size of the brick's file system.", brick['size_total'], b)
                metrics.add('glusterfs_brick_free_bytes', "Free space of the brick's file system.", brick['size_free'], b)
        if vol['status'] != 'Started' or vol['type'] not in HEALED_TYPES or not heals_here(vol, local_uuid):
            continue
        try:
            heal = parse_heal_bricks(run('volume', 'heal', vol['name'], 'info', 'summary'))
        except GlusterError as e:
            sys.stderr.write('%s\n' % e)
            continue
        metrics.add('glusterfs_volume_heal_pending_entries', 'Entries waiting for self-heal, over all bricks.',
                    sum(h['pending'] for h in heal), v)
        metrics.add('glusterfs_volume_split_brain_entries', 'Entries in split-brain, over all bricks.',
                    sum(h['split_brain'] for h in heal), v)
        for h in heal:
            b = dict(v, brick=h['name'] or '')
            metrics.add('glusterfs_brick_heal_pending_entries', 'Entries of the brick waiting for self-heal.',
                        h['pending'], b)
            metrics.add('glusterfs_brick_split_brain_entries', 'Entries of the brick in split-brain.',
                        h['split_brain'], b)


def write_atomically(path, text):
    tmp = '%s.%d.tmp' % (path, os.getpid())
    with open(tmp, 'w') as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description="GlusterFS health for node_exporter's textfile collector "
                                                 "(read-only gluster --xml).")
    parser.add_argument('--output', required=True, help='the .prom file in node_exporter\'s textfile folder')
    parser.add_argument('--gluster', default='gluster', help='the gluster command')
    parser.add_argument('--glusterd-info', default='/var/lib/glusterd/glusterd.info',
                        help='glusterd.info of this node (its uuid: which volumes\' self-heal this node reads)')
    args = parser.parse_args(argv)
    started = time.time()
    metrics = Metrics()
    gluster_metrics(metrics, lambda *a: gluster_xml(args.gluster, *a), read_local_uuid(args.glusterd_info))
    metrics.add('glusterfs_collector_duration_seconds', 'Seconds this run of the collector took.',
                time.time() - started)
    metrics.add('glusterfs_collector_last_run_timestamp_seconds', 'When the collector last wrote this file.',
                time.time())
    write_atomically(args.output, metrics.text())
    return 0


if __name__ == '__main__':
    sys.exit(main())
