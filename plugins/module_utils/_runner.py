# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one error path of the glusterfs.heketi modules. PRIVATE.

Every module hands its work to run_module and raises instead of failing the task itself:
ModuleFailure for a bad parameter or a failure it reports with what it already did, or one of
the errors it names (HeketiError, an OSError, ...). This is the only place that calls fail_json
and exit_json. The Heketi modules use _heketi.run_module, which builds the client on top of this.

Runs on the storage nodes too (firewall_sources, storage_device_info; EL 7: Python 2.7): no
Python 3-only syntax.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import traceback


class ModuleFailure(Exception):
    """A failure a module reports with what it already did: run_module fails the task with ``msg`` and
    the partial ``result`` (for example what was added before a write failed)."""

    def __init__(self, msg, **result):
        super().__init__(msg)
        self.msg = msg
        self.result = result


def run_module(module, run, errors=()):
    """run(module) returns the result the task exits with (exit_json).

    A ModuleFailure fails the task with its message and partial result. An exception of one of the
    classes in ``errors`` fails it with its text, its traceback and its ``status`` (the HTTP status of
    a HeketiError; None for an error without one); when it says the server had ``accepted`` the write,
    also with ``changed`` true and ``outcome: unknown``. Any other exception is a bug and is left to Ansible.
    """
    try:
        result = run(module)
    except ModuleFailure as e:
        module.fail_json(msg=e.msg, **e.result)
    except tuple(errors) as e:
        extra = {}
        if getattr(e, 'accepted', False):
            # The server accepted a write and following it failed: report a possible change, not none.
            extra = dict(changed=True, outcome='unknown')
        module.fail_json(msg=str(e), status=getattr(e, 'status', None), exception=traceback.format_exc(), **extra)
    module.exit_json(**result)
