# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""csi-sanity (kubernetes-csi/csi-test v5.6.0, the CSI conformance suite) against the driver's
controller with the REAL Heketi server (mock executor) behind it.

Every Identity and Controller test runs and must pass. The Node Service tests are skipped: they
publish the volumes CreateVolume made, and the mock executor's volumes exist only in Heketi's
database (no glusterd serves them, and this kernel has no device-mapper for real thin LVs); the
node service is proven by the real mount test on the lab (test_csi_mount.py).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from csi_driver import CSITOPOLOGY, DriverProcess, csi_tool, secrets_for

GiB = 1 << 30


@pytest.fixture
def sanity_setup(heketi_server, tmp_path):
    heketi_server.load(CSITOPOLOGY)
    # No URL flag: the URL, user and key come from the secrets csi-sanity passes with each call.
    ctrl = DriverProcess(tmp_path / "driver", "controller").start()
    # csi-sanity's clean-up asks the node service (NodeGetCapabilities, NodeUnpublishVolume of
    # targets never published): the driver's node mode serves it on its own socket.
    node = DriverProcess(tmp_path / "driver", "node", ["--mounter=container"]).start()
    yield heketi_server, ctrl, node, tmp_path
    node.stop()
    ctrl.stop()


def test_csi_sanity_controller(sanity_setup):
    server, ctrl, node, tmp = sanity_setup
    secret = secrets_for(server)
    secrets = tmp / "secrets.yaml"
    # JSON is YAML; csi-sanity reads one secret map per call.
    secrets.write_text(json.dumps({name: secret for name in (
        "CreateVolumeSecret", "DeleteVolumeSecret", "ControllerExpandVolumeSecret",
        "ControllerValidateVolumeCapabilitiesSecret")}))
    os.chmod(secrets, 0o600)
    params = tmp / "params.yaml"
    params.write_text(json.dumps({"volumetype": "replicate:3", "volumenameprefix": "sanity"}))
    junit = tmp / "junit.xml"
    proc = subprocess.run(
        [str(csi_tool("csi-sanity")), "--csi.endpoint", node.endpoint, "--csi.controllerendpoint", ctrl.endpoint,
         "--csi.secrets", str(secrets), "--csi.testvolumeparameters", str(params),
         "--csi.testvolumesize", str(GiB), "--csi.testvolumeexpandsize", str(2 * GiB),
         "--csi.mountdir", str(tmp / "mnt"), "--csi.stagingdir", str(tmp / "staging"),
         "--csi.junitfile", str(junit), "--ginkgo.skip", "Node Service", "--ginkgo.no-color"],
        capture_output=True, text=True, timeout=900, check=False)
    out = proc.stdout + proc.stderr
    summary = re.search(r"Ran (\d+) of (\d+) Specs.*?\n.*?(\d+) Passed \| (\d+) Failed \| (\d+) Pending \| (\d+) Skipped",
                        out, re.S)
    assert summary, out[-6000:]
    ran, total, passed, failed, _pending, skipped = map(int, summary.groups())
    print("csi-sanity: ran %d of %d specs: %d passed, %d failed, %d skipped" % (ran, total, passed, failed, skipped))
    assert proc.returncode == 0 and failed == 0, out[-8000:] + "\n--- driver log:\n" + ctrl.log_text()[-4000:]
    assert passed == ran and ran >= 20, out[-4000:]
    # Every controller spec ran, except those of capabilities the driver does not offer.
    not_offered = re.compile(r"Snapshot|ListVolumes|GetCapacity|ControllerPublish|ControllerUnpublish|volume lifecycle|"
                             r"ModifyVolume|VolumeHealth|GroupController|source (snapshot|volume)|volume attribute class")
    cases = [(tc.get("name"), "skipped" if tc.find("skipped") is not None else
              "failed" if tc.find("failure") is not None or tc.find("error") is not None else "passed")
             for tc in ET.parse(junit).iter("testcase")]
    wrongly_skipped = [n for n, st in cases if st == "skipped" and "Node Service" not in n and not not_offered.search(n)]
    assert not wrongly_skipped, wrongly_skipped
    passed_names = {n for n, st in cases if st == "passed"}
    for needed in ("CreateVolume should not fail when requesting to create a volume with already existing name and same",
                   "CreateVolume should fail when requesting to create a volume with already existing name and different",
                   "CreateVolume should not fail when creating volume with maximum-length name",
                   "DeleteVolume should succeed when an invalid volume id is used",
                   "ValidateVolumeCapabilities should fail when the requested volume does not exist",
                   "ExpandVolume [Controller Server] should work", "Probe should return appropriate information"):
        assert any(needed in n for n in passed_names), needed
    # csi-sanity cleans up after itself: nothing left in Heketi.
    assert server.get("/volumes")["volumes"] == [], server.get("/volumes")
    # The key never reached the driver's log.
    assert server.admin_key not in ctrl.log_text()
