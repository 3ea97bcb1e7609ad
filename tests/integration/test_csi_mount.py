# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The driver's node plugin on a REAL GlusterFS volume: csi/test/lab/mount_test.go (go test -tags lab) starts 3
storage containers (glusterd, a replica-3 volume on tmpfs bricks), a node container (systemd, the FUSE client)
and the driver's image in a container sharing the node's PID namespace and network (--mounter=host). Over gRPC,
with the kubelet's paths: the volume staged once, published to pods' targets (one read-only), a file shared; a
writer through a target sees no error while the plugin is killed, started again and replaced by a rebuilt image
(the FUSE client lives in a systemd scope and a cgroup of the node, never in the plugin's); a FUSE client killed
from outside is mounted again by the next publish; twelve targets share one FUSE client; unstaged, nothing is left.

Volumes made by CreateVolume cannot be mounted here: Heketi's ssh executor creates thin LVs, and this
kernel has no device-mapper ("Required device-mapper target(s) not detected"); the mock executor's
volumes exist only in Heketi's database.
"""
from __future__ import annotations

import subprocess

from csi_driver import CSI_DIR, REPO_ROOT, go_env


def test_node_publish_mounts_a_real_glusterfs_volume():
    image = subprocess.run(["make", "-s", "csi-image"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert image.returncode == 0, image.stdout[-3000:] + image.stderr[-3000:]
    proc = subprocess.run(["go", "test", "-tags", "lab", "-count=1", "-v", "-timeout", "15m", "./test/lab/"],
                          cwd=CSI_DIR, env=go_env(), capture_output=True, text=True, check=False, timeout=1200)
    print(proc.stdout[-2000:])
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "real mount:" in proc.stdout
