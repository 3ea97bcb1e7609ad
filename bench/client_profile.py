# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Profile the collection's Heketi client in-process (no Ansible around it), against a fresh real server.

It prints CPU and wall seconds for 100 GETs, a fresh load and a reload of a generated topology, and
(with --profile) the top of a cProfile of the GETs. It found the per-request SSL context of the first
client (see docs/benchmarks.md, "History").

    .venv/bin/python bench/client_profile.py --size 20x4
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / ".cache" / "collections"))
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))
sys.path.insert(0, str(REPO_ROOT / "bench"))


def measure(nodes: int, devices: int, show_profile: bool) -> None:
    from heketi_server import HeketiServer
    from topology_load import make_topology
    from ansible_collections.glusterfs.heketi.plugins.module_utils import _heketi as H
    from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology.execute import execute
    from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology.plan import make_plan
    from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology.schema import validate_topology

    server = HeketiServer(Path(tempfile.mkdtemp(prefix="m2-prof-")))
    server.start()
    try:
        client = H.HeketiClient(server.url, "admin", server.admin_key)
        cpu, wall = time.process_time(), time.monotonic()
        prof = cProfile.Profile()
        prof.enable()
        for dummy in range(100):
            client.get("/clusters")
        prof.disable()
        print("100 GETs            cpu %6.2f s  wall %6.2f s" % (time.process_time() - cpu, time.monotonic() - wall))
        spec = validate_topology(make_topology(nodes, devices))
        cpu, wall = time.process_time(), time.monotonic()
        failures = execute(client, make_plan(spec, client.topology(include_volumes=False))["actions"], 8)
        print("fresh %dx%d load      cpu %6.2f s  wall %6.2f s  failures %d" % (
            nodes, devices, time.process_time() - cpu, time.monotonic() - wall, len(failures)))
        cpu, wall = time.process_time(), time.monotonic()
        plan = make_plan(spec, client.topology(include_volumes=False))
        print("reload read+plan    cpu %6.2f s  wall %6.2f s  actions %d" % (
            time.process_time() - cpu, time.monotonic() - wall, len(plan["actions"])))
        if show_profile:
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(10)
            print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:3000])
    finally:
        server.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="20x4")
    parser.add_argument("--profile", action="store_true", help="print the top of the cProfile of the GETs")
    args = parser.parse_args()
    nodes, devices = (int(x) for x in args.size.lower().split("x"))
    measure(nodes, devices, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
