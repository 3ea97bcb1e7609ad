# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make ``ansible_collections.glusterfs.heketi`` importable when pytest runs from the checkout.

collections/ansible_collections/glusterfs/heketi is a committed link to the checkout;
ansible-test units puts the collection on the path itself, then this does nothing.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

try:
    FOUND = importlib.util.find_spec("ansible_collections.glusterfs.heketi.plugins") is not None
except ImportError:
    FOUND = False
if not FOUND:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "collections"))
