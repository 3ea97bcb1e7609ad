# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Profile the collection's Heketi client in-process (no Ansible around it), against a fresh real server.

It runs the same work twice in separate processes: with the client as it is, and with one
experimental change applied in this process only (``--variant reuse-ssl-context``: one SSL context built
up front and handed to every ``ansible.module_utils.urls.Request``, instead of ``Request.open()`` calling
``make_context()`` -> ``ssl.create_default_context()`` -> ``load_default_certs()`` on every request,
plain http included). It prints CPU and wall seconds for 100 GETs, a fresh load and a reload of a
generated topology, and the top of a cProfile of the GETs.

    .venv/bin/python bench/client_profile.py --size 20x4
"""
from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / ".cache" / "collections"))
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))
sys.path.insert(0, str(REPO_ROOT / "bench"))


def measure(variant: str, nodes: int, devices: int, show_profile: bool) -> None:
    from heketi_server import HeketiServer
    from topology_load import make_topology
    from ansible_collections.glusterfs.heketi.plugins.module_utils import _heketi as H
    from ansible_collections.glusterfs.heketi.plugins.module_utils._heketi_topology import (
        execute, make_plan, validate_topology)

    if variant == "reuse-ssl-context":
        from ansible.module_utils.urls import Request, make_context
        H.Request = functools.partial(Request, context=make_context(validate_certs=True))

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
        print("%-18s 100 GETs            cpu %6.2f s  wall %6.2f s" % (
            variant, time.process_time() - cpu, time.monotonic() - wall))
        spec = validate_topology(make_topology(nodes, devices))
        cpu, wall = time.process_time(), time.monotonic()
        failures = execute(client, make_plan(spec, client.topology(include_volumes=False)), 8)
        print("%-18s fresh %dx%d load      cpu %6.2f s  wall %6.2f s  failures %d" % (
            variant, nodes, devices, time.process_time() - cpu, time.monotonic() - wall, len(failures)))
        cpu, wall = time.process_time(), time.monotonic()
        plan = make_plan(spec, client.topology(include_volumes=False))
        print("%-18s reload read+plan    cpu %6.2f s  wall %6.2f s  actions %d" % (
            variant, time.process_time() - cpu, time.monotonic() - wall, len(plan["actions"])))
        if show_profile:
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(10)
            print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:3000])
    finally:
        server.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="20x4")
    parser.add_argument("--variant", choices=["as-is", "reuse-ssl-context"])
    parser.add_argument("--profile", action="store_true", help="print the top of the cProfile of the GETs")
    args = parser.parse_args()
    nodes, devices = (int(x) for x in args.size.lower().split("x"))
    if args.variant:
        measure(args.variant, nodes, devices, args.profile)
        return 0
    for variant in ("as-is", "reuse-ssl-context"):
        cmd = [sys.executable, __file__, "--size", args.size, "--variant", variant]
        if args.profile or variant == "as-is":
            cmd.append("--profile")
        subprocess.run(cmd, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
