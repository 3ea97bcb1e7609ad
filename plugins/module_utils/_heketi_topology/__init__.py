# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The topology stage of glusterfs.heketi, split by job (private to the collection).

* ``schema``: the one validator of a topology (topology.json or the inventory), with
  messages naming the JSON path or the host and variable; no Heketi contact.
* ``plan``: compares the validated topology with what Heketi holds and returns the list
  of actions that both check mode (``predict``) and execution read.
* ``execute``: performs those actions, serialized per Heketi server on the host it runs on.
"""
