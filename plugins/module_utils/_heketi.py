# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private Heketi REST client shared by the glusterfs.heketi modules.

Standard library and ansible.module_utils only. Not a public API: names
starting with an underscore and this module itself may change without notice.

Protocol points (checked against a running Heketi 10.x server):

* every request carries its own HS256 JWT with ``iss``, ``iat``, ``exp`` and
  ``qsh`` = sha256 of ``METHOD&PATH`` (path only), polls and redirect targets
  included;
* asynchronous calls answer 202 with ``Location: /queue/<id>``; the queue
  answers 200 + ``X-Pending`` while running, 303 to the result (fetched with a
  newly signed GET, redirects are never followed automatically), 204 when done
  without data and 500 with the server's text on failure;
* 429 ("Server busy") is retried with a back-off, within ``timeout``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import select
import socket
import threading
import time
from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text

from ansible_collections.glusterfs.heketi.plugins.module_utils._runner import run_module as _run_module

# Not ansible.module_utils.urls: importing it costs about 0.12 s per module run (it pulls in
# cryptography), and its Request opens a new connection (and, unless given one, builds a new SSL
# context) for every request. The client below keeps HTTP/1.1 connections alive instead (Heketi
# is Go net/http, which keeps them open), imports ssl only for https:// URLs, and never follows
# redirects itself. Proxies from the environment (http_proxy, https_proxy) are not used: Heketi
# is reached directly.

# Errors that mean a kept-alive connection broke under a request. The request may have been read
# by the server before the connection broke, so only a GET is sent again (once, on a new connection);
# a POST or DELETE is never sent twice: the error says the change may have been made. A connection
# the server closed while it was idle is found before anything is sent on it (_dropped) and replaced.
_BROKEN = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)

# The largest answer read from Heketi (bytes). Heketi's largest answers (a cluster's volume list, a
# volume with its bricks) are kilobytes; a bigger body is refused instead of being held in memory.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
# The deepest nesting of a JSON answer accepted (Heketi's own answers nest less than 10 levels).
MAX_JSON_DEPTH = 64

USER_AGENT = 'glusterfs.heketi'


HEKETI_ARGUMENT_SPEC = dict(
    url=dict(type='str', aliases=['server'], fallback=(env_fallback, ['HEKETI_CLI_SERVER'])),
    user=dict(type='str', default='admin', fallback=(env_fallback, ['HEKETI_CLI_USER'])),
    key=dict(type='str', no_log=True, aliases=['secret'], fallback=(env_fallback, ['HEKETI_CLI_KEY'])),
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path', fallback=(env_fallback, ['HEKETI_CLI_CA_PATH'])),
    timeout=dict(type='int', default=600),
)

TOKEN_LIFETIME = 300
POLL_START = 0.02  # first poll after 20 ms, then x1.5 up to POLL_MAX
POLL_MAX = 2.0
POLL_FACTOR = 1.5
BUSY_START = 0.5
BUSY_MAX = 10.0
DEFAULT_WORKERS = 8


class HeketiError(Exception):
    """An error talking to Heketi.

    ``status`` is the HTTP status (None when the server was not reached or did
    not answer in time), ``message`` a readable text that includes the
    server's own words, ``url`` the full URL of the failing request.
    ``accepted`` is true when Heketi had accepted the write (202) and what
    failed was following it: the change may have been made, or be under way.
    """

    def __init__(self, message, status=None, url=None, method=None, path=None, body=None, accepted=False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.url = url
        self.method = method
        self.path = path
        self.body = body
        self.accepted = accepted

    def __str__(self):
        return self.message


def _b64url(data):
    return to_text(base64.urlsafe_b64encode(data).rstrip(b'='))


def qsh(method, path):
    """Heketi's query string hash: hex sha256 of ``METHOD&PATH`` (no query)."""
    return hashlib.sha256(to_bytes('%s&%s' % (method.upper(), path))).hexdigest()


def make_token(method, path, user, key, now=None, lifetime=TOKEN_LIFETIME):
    """Return a HS256 JWT for one request, as the Heketi server expects it."""
    if now is None:
        now = int(time.time())
    header = {'alg': 'HS256', 'typ': 'JWT'}
    claims = {'iss': user, 'iat': now, 'exp': now + lifetime, 'qsh': qsh(method, path)}
    signing_input = '%s.%s' % (
        _b64url(to_bytes(json.dumps(header, separators=(',', ':'), sort_keys=True))),
        _b64url(to_bytes(json.dumps(claims, separators=(',', ':'), sort_keys=True))),
    )
    signature = hmac.new(to_bytes(key or ''), to_bytes(signing_input), hashlib.sha256).digest()
    return '%s.%s' % (signing_input, _b64url(signature))


def _server_text(body):
    text = to_text(body or b'', errors='surrogate_or_replace').strip()
    return text


def _depth(value):
    """Nesting depth of a decoded JSON value (iterative: no recursion limit is reached)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > MAX_JSON_DEPTH:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _decode(body):
    """The JSON object of a 2xx answer (None when empty); ValueError saying why it is not one."""
    if not body or not body.strip():
        return None
    text = to_text(body, errors='surrogate_or_replace')
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError('its JSON is nested deeper than %d levels' % MAX_JSON_DEPTH)
    except ValueError as e:
        raise ValueError('it is not JSON (%s): %.200s' % (to_native(e), text.strip()))
    if not isinstance(data, dict):
        raise ValueError('it is JSON but not an object (a %s): %.200s' % (type(data).__name__, text.strip()))
    if _depth(data) > MAX_JSON_DEPTH:
        raise ValueError('its JSON is nested deeper than %d levels' % MAX_JSON_DEPTH)
    return data


def _dropped(conn):
    """Whether an idle kept-alive connection is closed (or has unexpected data waiting)."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, dummy, dummy = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class _Deadline(Exception):
    """The watchdog ended an exchange at its deadline."""


class _Watchdog(object):
    """Shuts a connection's socket down at ``deadline``, so a read that keeps getting a byte now and then
    still ends; ``fired`` says whether it did."""

    def __init__(self, conn, deadline):
        self.conn = conn
        self.fired = False
        self._timer = threading.Timer(max(0.0, deadline - time.time()), self._fire)
        self._timer.daemon = True

    def _fire(self):
        self.fired = True
        sock = self.conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()
        return False


class _TooLarge(Exception):
    pass


def _read_body(resp):
    """The body of ``resp``, at most MAX_RESPONSE_BYTES; _TooLarge beyond."""
    length = resp.getheader('Content-Length')
    if length and length.strip().isdigit() and int(length) > MAX_RESPONSE_BYTES:
        raise _TooLarge(int(length))
    raw = resp.read(MAX_RESPONSE_BYTES + 1)
    if len(raw) > MAX_RESPONSE_BYTES:
        raise _TooLarge(None)
    return raw


class HeketiClient(object):
    """A small Heketi REST client, safe to share between threads."""

    def __init__(self, url, user, key, validate_certs=True, ca_path=None, timeout=600, request_timeout=30):
        if not url:
            raise HeketiError('url: the Heketi server URL is required (option url or environment HEKETI_CLI_SERVER)')
        url = to_text(url).strip()
        parts = urlsplit(url)
        if '@' in parts.netloc:
            # Checked first and never echoed: the URL holds a password.
            raise HeketiError('url: must not carry a user name or password (user:password@host); '
                              'give the user and key with the options user and key instead')
        if parts.scheme not in ('http', 'https') or not parts.netloc:
            raise HeketiError('url: must be an http:// or https:// URL such as http://heketi.example.com:8080, got %r' % url)
        if parts.query or parts.fragment:
            raise HeketiError('url: must not carry a query string or fragment, got %r' % url)
        try:
            port = parts.port
        except ValueError as e:
            raise HeketiError('url: %s in %r' % (to_native(e), url))
        if not parts.hostname:
            raise HeketiError('url: must name a host, got %r' % url)
        if not key:
            raise HeketiError('key: no key was given for user %r (option key, or environment HEKETI_CLI_KEY); '
                              'Heketi refuses every request without it' % (user or 'admin'))
        self.url = url.rstrip('/')
        self._prefix = parts.path.rstrip('/')
        self._https = parts.scheme == 'https'
        self._host = parts.hostname
        self._port = port
        self.user = user or 'admin'
        self.key = key
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.request_timeout = request_timeout
        self._lock = threading.Lock()
        self._context = None
        self._idle = []  # kept-alive connections not in use, shared by the worker threads
        self.counts = {'requests': 0, 'writes': 0, 'polls': 0, 'busy': 0}

    @classmethod
    def from_module(cls, module, request_timeout=30):
        p = module.params
        try:
            userinfo = urlsplit(to_text(p.get('url') or '')).netloc.rpartition('@')[0]
        except ValueError:
            userinfo = ''
        if userinfo:
            # The URL is refused below; its credentials are masked in the module's result too.
            module.no_log_values.update(part for part in (userinfo, userinfo.partition(':')[2]) if part)
        return cls(p.get('url'), p.get('user'), p.get('key'),
                   validate_certs=p.get('validate_certs', True),
                   ca_path=p.get('ca_path'),
                   timeout=p.get('timeout') or 600,
                   request_timeout=request_timeout)

    # ------------------------------------------------------------------ low level
    def _ssl_context(self):
        """The SSL context of this client, built once (https:// only).

        validate_certs: the server certificate must chain to ca_path (only that file when given,
        otherwise the system's default trust store) and name the host of the URL. Without
        validate_certs neither is checked.
        """
        if self._context is None:
            with self._lock:
                if self._context is None:
                    import ssl
                    try:
                        if self.validate_certs:
                            context = ssl.create_default_context(cafile=self.ca_path)
                        else:
                            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                            context.check_hostname = False
                            context.verify_mode = ssl.CERT_NONE
                            if self.ca_path:
                                context.load_verify_locations(cafile=self.ca_path)
                    except Exception as e:  # ssl.SSLError, OSError for an unreadable ca_path
                        raise HeketiError('ca_path: cannot load the CA certificates from %s: %s'
                                          % (self.ca_path, to_native(e)))
                    self._context = context
        return self._context

    def _connection(self):
        """An idle kept-alive connection, or a new one; second value: whether it was used before.

        An idle connection the server has closed (or that has unexpected data waiting) is dropped
        before anything is sent on it, so a request is never written to a dead connection.
        """
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not _dropped(conn):
                    return conn, True
                conn.close()
        return self._connection_new()

    def close(self):
        """Close the kept-alive connections (they are also closed when the process ends)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _exchange(self, method, full_path, data, headers, deadline):
        """Send one request on a kept-alive connection; returns (status, headers, raw body).

        Redirects are returned as they are, never followed. When a kept-alive connection breaks
        under a GET, the GET is sent once more on a new connection; a POST or DELETE is never sent
        twice (the server may have read it): the HeketiError says so.

        ``deadline`` (time.time()) bounds the whole exchange: the socket timeout bounds each read, but
        a server that sends one byte now and then would never trip it, so a watchdog shuts the socket
        down at the deadline and the exchange ends with _Deadline.
        """
        conn, reused = self._connection()
        while True:
            watchdog = _Watchdog(conn, deadline)
            try:
                with watchdog:
                    conn.request(method, full_path, body=data, headers=headers)
                    resp = conn.getresponse()
                    raw = _read_body(resp)
            except _BROKEN as e:
                conn.close()
                if watchdog.fired:
                    raise _Deadline()
                if method not in ('GET', 'HEAD'):
                    raise HeketiError(
                        'The connection to the Heketi server at %s broke after %s %s was sent (%s); it is not '
                        'sent again, since Heketi may have received it and made the change: check the state '
                        '(for example with glusterfs.heketi.heketi_info) and run again'
                        % (self.url, method, full_path[len(self._prefix):], to_native(e) or type(e).__name__),
                        url=self.url + full_path[len(self._prefix):], method=method, path=full_path[len(self._prefix):])
                if not reused:
                    raise
                conn, reused = self._connection_new()
                continue
            except BaseException:
                conn.close()
                if watchdog.fired:
                    raise _Deadline()
                raise
            if watchdog.fired:  # the body ended where the watchdog cut it: not the server's answer
                conn.close()
                raise _Deadline()
            break
        if resp.will_close:
            conn.close()
        else:
            with self._lock:
                self._idle.append(conn)
        return resp.status, resp.msg, raw

    def _connection_new(self):
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.request_timeout,
                                               context=self._ssl_context()), False
        return http.client.HTTPConnection(self._host, self._port, timeout=self.request_timeout), False

    def _count(self, name):
        with self._lock:
            self.counts[name] += 1

    def _raw(self, method, path, body=None, deadline=None):
        """One HTTP exchange, never following redirects, ended at ``deadline`` (default: now + timeout).

        Returns (status, headers, raw body). Raises HeketiError when the server
        cannot be reached or does not finish its answer by the deadline.
        """
        if deadline is None:
            deadline = time.time() + self.timeout
        full_path = self._prefix + path
        url = self.url + path
        headers = {
            'Authorization': 'bearer ' + make_token(method, full_path, self.user, self.key),
            'Accept': 'application/json',
        }
        data = None
        if body is not None:
            data = to_bytes(json.dumps(body))
            headers['Content-Type'] = 'application/json'
        self._count('requests')
        if method != 'GET':
            self._count('writes')
        headers['User-Agent'] = USER_AGENT
        try:
            return self._exchange(method, full_path, data, headers, deadline)
        except HeketiError:
            raise
        except _Deadline:
            raise HeketiError('Heketi at %s did not finish answering %s %s within the timeout of %ss'
                              % (self.url, method, path, self.timeout), url=url, method=method, path=path)
        except _TooLarge:
            raise HeketiError('Heketi at %s answered %s %s with more than %d bytes; refused (the bound is '
                              'MAX_RESPONSE_BYTES of the client)' % (self.url, method, path, MAX_RESPONSE_BYTES),
                              url=url, method=method, path=path)
        except OSError as e:  # refused, timed out, TLS (certificate) errors, reset
            raise HeketiError('Cannot reach the Heketi server at %s (%s %s): %s'
                              % (self.url, method, path, to_native(e) or type(e).__name__),
                              url=url, method=method, path=path)
        except Exception as e:  # http.client errors (a malformed answer)
            raise HeketiError('Cannot talk to the Heketi server at %s (%s %s): %s'
                              % (self.url, method, path, to_native(e) or type(e).__name__),
                              url=url, method=method, path=path)

    def _error(self, method, path, status, raw):
        text = _server_text(raw)
        url = self.url + path
        if status == 401:
            if 'Administrator access required' in text:
                msg = ('Heketi at %s refused %s %s for user %r: %s. This operation needs the admin user and '
                       'its key (jwt.admin.key)' % (self.url, method, path, self.user, text))
            else:
                msg = ('Heketi at %s rejected the key of user %r (HTTP 401 on %s %s): %s'
                       % (self.url, self.user, method, path, text or 'no reason given'))
        else:
            msg = 'Heketi at %s answered HTTP %s to %s %s: %s' % (
                self.url, status, method, path, text or 'no message')
        return HeketiError(msg, status=status, url=url, method=method, path=path, body=text)

    def _json(self, method, path, status, raw):
        """The JSON object of a 2xx answer, or a HeketiError naming the request."""
        try:
            return _decode(raw)
        except ValueError as e:
            raise HeketiError('Heketi at %s answered %s %s with HTTP %s, but %s'
                              % (self.url, method, path, status, to_native(e)),
                              status=status, url=self.url + path, method=method, path=path)

    def _location_path(self, location):
        """Turn a Location header (relative or absolute) into a path below the base URL."""
        loc = to_text(location)
        parts = urlsplit(loc)
        path = parts.path if (parts.scheme or parts.netloc) else loc
        if self._prefix and path.startswith(self._prefix + '/'):
            path = path[len(self._prefix):]
        return path

    # ------------------------------------------------------------------ protocol
    def request(self, method, path, body=None):
        """Perform one API call; asynchronous ones are followed to the end.

        Returns ``(status, data)`` where ``data`` is the decoded JSON (or None).
        Raises HeketiError on any error, with the server's text.
        """
        method = method.upper()
        deadline = time.time() + self.timeout
        busy_delay = BUSY_START
        while True:
            status, headers, raw = self._raw(method, path, body, deadline)
            if status == 429:
                self._count('busy')
                if time.time() + busy_delay > deadline:
                    raise HeketiError('Heketi at %s stayed busy (HTTP 429) for %s %s until the timeout of %ss: %s'
                                      % (self.url, method, path, self.timeout, _server_text(raw)),
                                      status=429, url=self.url + path, method=method, path=path,
                                      body=_server_text(raw))
                time.sleep(busy_delay)
                busy_delay = min(busy_delay * 2, BUSY_MAX)
                continue
            break
        if status in (202, 303) and method != 'GET':
            # Heketi accepted the write: whatever fails from here on (following it to its end), the change
            # may have been made or still be under way. Only Heketi's own "failed" (500 from the queue) is sure.
            # (A 202 without Location, answered at once, is followed by nothing: it cannot fail here.)
            try:
                return self._accepted(method, path, status, headers, raw, deadline)
            except HeketiError as e:
                e.accepted = not getattr(e, 'operation_failed', False)
                if e.accepted:
                    e.message += (' (Heketi had accepted %s %s: the change may have been made or still be under way; '
                                  'check the state, for example with glusterfs.heketi.heketi_info, and run again)'
                                  % (method, path))
                raise
        if status in (202, 303):
            return self._accepted(method, path, status, headers, raw, deadline)
        if 200 <= status < 300:
            return status, self._json(method, path, status, raw)
        raise self._error(method, path, status, raw)

    def _accepted(self, method, path, status, headers, raw, deadline):
        """Follow a 202 (queue) or 303 (result) answer to the end."""
        if status == 202:
            location = headers.get('Location') if headers is not None else None
            if not location:
                return status, self._json(method, path, status, raw)
            return self._wait(method, path, self._location_path(location), deadline)
        return self._follow(self._location_path(headers.get('Location')), deadline)

    def _follow(self, path, deadline=None):
        status, headers, raw = self._raw('GET', path, deadline=deadline)
        if 200 <= status < 300:
            return status, self._json('GET', path, status, raw)
        raise self._error('GET', path, status, raw)

    def _wait(self, method, path, queue_path, deadline):
        delay = POLL_START
        while True:
            status, headers, raw = self._raw('GET', queue_path, deadline=deadline)
            self._count('polls')
            if status == 200 and headers.get('X-Pending'):
                if time.time() + delay > deadline:
                    raise HeketiError('Timed out after %ss waiting for Heketi at %s to finish %s %s (%s)'
                                      % (self.timeout, self.url, method, path, queue_path),
                                      url=self.url + queue_path, method=method, path=path)
                time.sleep(delay)
                delay = min(delay * POLL_FACTOR, POLL_MAX)
                continue
            if status == 303:
                return self._follow(self._location_path(headers.get('Location')), deadline)
            if status == 204:
                return status, None
            if status == 200:
                return status, self._json('GET', queue_path, status, raw)
            if status == 500:
                text = _server_text(raw)
                error = HeketiError('Heketi at %s failed %s %s: %s' % (self.url, method, path, text or 'no message'),
                                    status=500, url=self.url + path, method=method, path=path, body=text)
                error.operation_failed = True  # Heketi's own verdict: the operation ended, without the change
                raise error
            if status == 404:
                text = _server_text(raw)
                raise HeketiError('Heketi at %s lost track of %s %s (%s answered 404: %s); the server may have '
                                  'restarted, check the result and run again' % (self.url, method, path, queue_path, text),
                                  status=404, url=self.url + queue_path, method=method, path=path, body=text)
            raise self._error('GET', queue_path, status, raw)

    # ------------------------------------------------------------------ helpers
    def get(self, path):
        return self.request('GET', path)[1]

    def post(self, path, body=None):
        return self.request('POST', path, body if body is not None else {})[1]

    def delete(self, path, body=None):
        return self.request('DELETE', path, body)[1]

    def hello(self):
        """GET /hello (no auth); raises HeketiError when unreachable."""
        status, headers, raw = self._raw('GET', '/hello')
        if status != 200:
            raise self._error('GET', '/hello', status, raw)
        return _server_text(raw)

    def map(self, func, items, workers=DEFAULT_WORKERS):
        """Run ``func`` over ``items`` with at most ``workers`` threads; keeps order.

        Returns a list of (result, exception) pairs.
        """
        items = list(items)

        def _one(item):
            try:
                return func(item), None
            except Exception as e:  # collected by the caller
                return None, e

        if workers <= 1 or len(items) <= 1:
            return [_one(i) for i in items]
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
            return list(pool.map(_one, items))

    def topology(self, include_volumes=True, workers=DEFAULT_WORKERS):
        """Assemble the topology as ``heketi-cli topology info --json`` does.

        ``{"clusters": [{"id", "file", "block", "nodes": [NodeInfo with devices],
        "volumes": [VolumeInfo]}]}``. With ``include_volumes=False`` the
        ``volumes`` lists hold volume ids only (one request per volume saved).
        """
        cluster_ids = (self.get('/clusters') or {}).get('clusters') or []
        clusters = []
        for res, err in self.map(lambda cid: self.get('/clusters/' + cid), cluster_ids, workers):
            if err:
                raise err
            clusters.append(res)
        node_ids = [nid for c in clusters for nid in (c.get('nodes') or [])]
        nodes = {}
        for nid, (res, err) in zip(node_ids, self.map(lambda nid: self.get('/nodes/' + nid), node_ids, workers)):
            if err:
                raise err
            nodes[nid] = res
        volumes = {}
        if include_volumes:
            vol_ids = [vid for c in clusters for vid in (c.get('volumes') or [])]
            for vid, (res, err) in zip(vol_ids, self.map(lambda vid: self.get('/volumes/' + vid), vol_ids, workers)):
                if err:
                    raise err
                volumes[vid] = res
        result = []
        for c in clusters:
            result.append({
                'id': c.get('id'),
                'file': bool(c.get('file')),
                'block': bool(c.get('block')),
                'nodes': [nodes[n] for n in (c.get('nodes') or [])],
                'volumes': [volumes[v] for v in (c.get('volumes') or [])] if include_volumes else list(c.get('volumes') or []),
            })
        return {'clusters': result}


def run_module(module, run, check=None):
    """The Heketi modules' runner, on the modules' one error path (_runner.run_module).

    check(module), when given, checks the parameters alone before the client is built; then
    run(module, client) returns the result the task exits with. A ModuleFailure anywhere fails the
    task with its message and partial result, a HeketiError with Heketi's answer and its HTTP status.
    """
    def _run(module):
        if check is not None:
            check(module)
        return run(module, HeketiClient.from_module(module))
    _run_module(module, _run, errors=(HeketiError,))
