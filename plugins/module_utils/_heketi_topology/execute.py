# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Execution of a topology plan (the list of actions of ``plan.py``), private to glusterfs.heketi.

Clusters and nodes are written one after another; the devices of a node one after another once
the node exists, concurrently across nodes, with at most ``max_inflight`` operations in flight.

Every action ends ``done``, ``failed`` (Heketi answered with an error), ``unknown`` (sent, but the
answer never came: the server may have made the change), ``skipped`` (not sent: what it needs
failed, or the server was lost) or ``reverted``. Once the server cannot be reached, no further
write is issued; those in flight are waited for.
"""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
import threading
import time

from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi import HeketiError
from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology.plan import DEVICE_ACTIONS

try:
    from concurrent.futures import ThreadPoolExecutor
except ImportError:  # pragma: no cover
    ThreadPoolExecutor = None


# ------------------------------------------------------------------------------------- lock

# The lock lives in /run/lock, not in the run's temporary folder: two runs with different TMPDIRs (two AWX
# execution nodes or containers reaching the Heketi host over ssh) took separate locks and left duplicate devices.
LOCK_DIR = '/run/lock'
LOCK_NAME = 'glusterfs-heketi-topology.lock'


def lock_path(directory=None):
    """The topology lock of the host the module runs on: one for every Heketi URL (two spellings of one
    server's URL took two locks when it was keyed by URL). /run/lock, else the temporary folder where
    /run/lock cannot be written (a non-root controller)."""
    if directory is None:
        directory = LOCK_DIR if os.access(LOCK_DIR, os.W_OK) else tempfile.gettempdir()
    return os.path.join(directory, LOCK_NAME)


class ServerLock(object):
    """An exclusive fcntl lock of the host, held from the read of Heketi's topology to the last write.

    It serializes every load that runs on one host, whatever the URL spelling and the temporary folder: the
    topology role runs the module on the Heketi host, so every load the collection makes (from any controller or
    AWX execution node) takes the same lock. Loads run on two other hosts are not serialized (the module run on
    two controllers); what they duplicate is reported on every later run.
    """

    def __init__(self, timeout, directory=None, poll=0.1):
        self.path = lock_path(directory)
        self.timeout = timeout
        self.poll = poll
        self.fd = None
        self.waited = 0.0

    def __enter__(self):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        start = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() - start > self.timeout:
                    os.close(fd)
                    raise HeketiError('Another topology load is still running on this host (lock %s held for more '
                                      'than %ss); run again when it has finished' % (self.path, self.timeout))
                time.sleep(self.poll)
        self.waited = time.monotonic() - start
        self.fd = fd
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


# -------------------------------------------------------------------------------- execution

def _lost(error):
    """Whether an error means the server is out of reach (no HTTP answer)."""
    return error.status is None


def _not_sent(error):
    """A refused connection: the request never reached a server, so nothing was done."""
    return isinstance(error.__context__, ConnectionRefusedError)


class _Runner(object):
    def __init__(self, client, actions, max_inflight):
        self.client = client
        self.actions = actions
        self.slots = threading.BoundedSemaphore(max(1, max_inflight))
        self.failures = []
        self.lost = None
        self.lock = threading.Lock()

    def write(self, index, method, path, body, slot=True):
        """One write for actions[index]; returns the data, or None when it did not succeed."""
        action = self.actions[index]
        if self.lost is not None:
            return self.skip(index, 'not sent: the Heketi server could not be reached any more')
        try:
            if slot:
                with self.slots:
                    if self.lost is not None:
                        return self.skip(index, 'not sent: the Heketi server could not be reached any more')
                    data = self.client.request(method, path, body)[1]
            else:
                data = self.client.request(method, path, body)[1]
        except HeketiError as e:
            status = 'failed'
            if _lost(e):
                with self.lock:
                    if self.lost is None:
                        self.lost = e
                if not _not_sent(e):
                    status = 'unknown'
            if e.accepted:
                # Heketi accepted the write and following it failed: it may have made the change.
                status = 'unknown'
            action['status'] = status
            action['error'] = e.message
            with self.lock:
                self.failures.append({'path': action['path'], 'action': action['action'], 'status': e.status,
                                      'outcome': status, 'msg': e.body or e.message, 'error': e.message})
            return None
        action['status'] = 'done'
        return data if data is not None else {}

    def skip(self, index, why):
        self.actions[index]['status'] = 'skipped'
        self.actions[index]['error'] = why
        return None

    def devices(self, node_id, indexes):
        for i in indexes:
            a = self.actions[i]
            if a['action'] == 'add_device':
                body = {'name': a['name'], 'node': node_id, 'destroydata': bool(a['destroydata'])}
                if a['tags']:
                    body['tags'] = a['tags']
                self.write(i, 'POST', '/devices', body)
            else:
                self.write(i, 'POST', '/devices/%s/tags' % a['device'],
                           {'change_type': 'update', 'tags': a['tags']}, slot=False)


def _ids(actions, index):
    """The id a done action made (cluster or node), for the actions that need it."""
    a = actions[index]
    return a.get('cluster') if a['action'] == 'create_cluster' else a.get('node')


def execute(client, actions, max_inflight=8):
    """Run the actions of a plan in place (statuses and new ids). Returns the list of failures."""
    runner = _Runner(client, actions, max_inflight)
    batches = {}
    for i, a in enumerate(actions):
        if a['action'] in DEVICE_ACTIONS:
            key = a['_needs'] if a['_needs'] is not None else a['node']
            batches.setdefault(key, []).append(i)
    pool = None
    futures = []
    if ThreadPoolExecutor is not None and max_inflight > 1:
        pool = ThreadPoolExecutor(max_workers=max_inflight)

    def devices(node_id, key):
        indexes = batches.pop(key, [])
        if not indexes:
            return
        if pool is not None:
            futures.append(pool.submit(runner.devices, node_id, indexes))
        else:
            runner.devices(node_id, indexes)

    try:
        for i, a in enumerate(actions):
            kind = a['action']
            if kind in DEVICE_ACTIONS:
                if a['_needs'] is None:
                    devices(a['node'], a['node'])
                continue
            needs = a['_needs']
            if needs is not None and actions[needs]['status'] != 'done':
                runner.skip(i, 'not sent: %s %s was not done' % (actions[needs]['action'], actions[needs]['path']))
                continue
            if kind == 'create_cluster':
                data = runner.write(i, 'POST', '/clusters', {'file': a['file'], 'block': a['block']}, slot=False)
                if data is not None:
                    a['cluster'] = data.get('id')
            elif kind == 'set_cluster_flags':
                runner.write(i, 'POST', '/clusters/%s/flags' % a['cluster'], a['after'], slot=False)
            elif kind == 'add_node':
                cluster = a['cluster'] if needs is None else _ids(actions, needs)
                body = {'zone': a['zone'], 'hostnames': {'manage': a['manage'], 'storage': a['storage']},
                        'cluster': cluster}
                if a['tags']:
                    body['tags'] = a['tags']
                data = runner.write(i, 'POST', '/nodes', body)
                if data is not None:
                    a['cluster'] = cluster
                    a['node'] = data.get('id')
                    devices(a['node'], i)
            elif kind == 'set_node_tags':
                runner.write(i, 'POST', '/nodes/%s/tags' % a['node'], {'change_type': 'update', 'tags': a['tags']},
                             slot=False)
        for f in futures:
            f.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    for key, indexes in batches.items():  # the devices of nodes that were not added
        for i in indexes:
            runner.skip(i, 'not sent: %s %s was not done' % (actions[key]['action'], actions[key]['path']))
    _revert_empty_clusters(client, actions, runner)
    return runner.failures


def _revert_empty_clusters(client, actions, runner):
    """Never leave an empty cluster behind: a cluster created now that no node could join is deleted."""
    for i, a in enumerate(actions):
        if a['action'] != 'create_cluster' or a['status'] != 'done' or runner.lost is not None:
            continue
        if any(b['action'] == 'add_node' and b['_needs'] == i and b['status'] in ('done', 'unknown') for b in actions):
            continue
        try:
            client.request('DELETE', '/clusters/%s' % a['cluster'])
            a['status'] = 'reverted'
            a['error'] = 'no node could join it, so it was deleted again'
        except HeketiError as e:
            runner.failures.append({'path': a['path'], 'action': 'delete_empty_cluster', 'status': e.status,
                                    'outcome': 'failed', 'msg': e.body or e.message, 'error': e.message})
