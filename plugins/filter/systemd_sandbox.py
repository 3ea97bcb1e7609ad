# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: systemd_sandbox
short_description: The systemd sandbox of the collection's services, as unit-file lines
version_added: 1.1.0
description:
  - One list of systemd directives for every service the collection installs (Heketi, the backup timer's command),
    so that they run under the same sandbox.
  - The whole file system is read-only for the service but the folders given; no device, capability, kernel
    interface, namespace or address family beyond IP and local sockets (ssh, HTTP); the C(@system-service) system
    calls; files created 0600 unless the service sets the mode.
positional: _input
options:
  _input:
    description: The folders the service may write (absolute paths, without spaces).
    type: list
    elements: str
    required: true
  runtime_directory:
    description: A folder under C(/run) systemd creates for the service (mode 0700) and removes when it stops.
    type: str
'''

EXAMPLES = r'''
# In a unit template (templates/heketi.service.j2):
#   [Service]
#   {{ [heketi_data_dir] | glusterfs.heketi.systemd_sandbox }}
- name: Show the sandbox of a service writing /var/lib/heketi
  ansible.builtin.debug:
    msg: "{{ ['/var/lib/heketi'] | glusterfs.heketi.systemd_sandbox }}"
'''

RETURN = r'''
_value:
  description: The directives, one a line, starting with C(NoNewPrivileges=true).
  type: str
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

_SANDBOX = (
    'NoNewPrivileges=true',
    'ProtectSystem=strict',
    'ReadWritePaths={paths}',
    'ProtectHome=true',
    'PrivateTmp=true',
    'PrivateDevices=true',
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
    'ProtectKernelTunables=true',
    'ProtectKernelModules=true',
    'ProtectKernelLogs=true',
    'ProtectControlGroups=true',
    'ProtectClock=true',
    'ProtectHostname=true',
    'RestrictNamespaces=true',
    'RestrictRealtime=true',
    'RestrictSUIDSGID=true',
    'LockPersonality=true',
    'MemoryDenyWriteExecute=true',
    'SystemCallArchitectures=native',
    'SystemCallFilter=@system-service',
    'SystemCallErrorNumber=EPERM',
    'UMask=0077',
)


def systemd_sandbox(paths, runtime_directory=None):
    """See DOCUMENTATION."""
    if isinstance(paths, (str, bytes)) or not isinstance(paths, (list, tuple)):
        raise AnsibleFilterError('systemd_sandbox: expects a list of folders, got %s' % type(paths).__name__)
    folders = []
    for path in (to_text(p) for p in paths):
        if not path.startswith('/') or any(c.isspace() for c in path):
            raise AnsibleFilterError('systemd_sandbox: %r is not an absolute path without spaces' % path)
        if path not in folders:
            folders.append(path)
    if not folders:
        raise AnsibleFilterError('systemd_sandbox: name at least one folder the service may write')
    lines = [line.replace('{paths}', ' '.join(folders)) for line in _SANDBOX]
    if runtime_directory:
        if not all(c.isalnum() or c in '-_.' for c in to_text(runtime_directory)):
            raise AnsibleFilterError('systemd_sandbox: runtime_directory %r is not a plain folder name' % runtime_directory)
        lines[3:3] = ['RuntimeDirectory=%s' % runtime_directory, 'RuntimeDirectoryMode=0700']
    return '\n'.join(lines)


class FilterModule(object):

    def filters(self):
        return {'systemd_sandbox': systemd_sandbox}
