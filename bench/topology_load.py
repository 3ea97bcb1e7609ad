# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: glusterfs.heketi.heketi_topology vs `heketi-cli topology load`, each as an Ansible task.

For every size (nodes x devices per node) and each tool, a fresh real Heketi server (mock executor,
loopback, fresh database) is started; the tool loads the topology in one `ansible-playbook` run
("fresh"), then loads it again in a second run ("reload"). Wall times are those of the whole
ansible-playbook process. After each run the server's state is checked (all nodes and devices, no
duplicate device) and the requests it logged are counted.

A script, not a test: it prints a markdown table with the ratios (heketi-cli time / module time).
Bounded: every ansible-playbook run has a timeout (--run-timeout) and the whole script a budget
(--budget); sizes that do not fit in what is left are skipped and reported as such.

    .venv/bin/python bench/topology_load.py                      # 4x2, 50x4, 100x10
    .venv/bin/python bench/topology_load.py --sizes 4x2 --repeat 3
"""
from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))

from heketi_server import HeketiServer, ensure_built  # noqa: E402

PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
PLAYBOOK_BIN = REPO_ROOT / ".venv" / "bin" / "ansible-playbook"

TARGETS = {  # (nodes, devices) -> {phase: minimum ratio cli/module}
    (4, 2): {"fresh": 1.0, "reload": 1.0},
    (100, 10): {"fresh": 3.0, "reload": 2.0},
}


def make_topology(nodes: int, devices: int) -> dict:
    """One cluster; zones 1..3 round robin; node and device tags like a real inventory might carry."""
    return {"clusters": [{"nodes": [
        {"node": {"hostnames": {"manage": ["gluster%03d.bench.example" % i], "storage": ["10.%d.%d.%d" % (
            1 + i // 65536, (i // 256) % 256, i % 256)]}, "zone": 1 + i % 3, "tags": {"rack": "r%d" % (i % 7)}},
         "devices": ["/dev/vd%s" % chr(ord("b") + d) if d < 24 else "/dev/disk/by-id/bench-%d" % d
                     for d in range(devices)]}
        for i in range(1, nodes + 1)
    ]}]}


def module_play(server: HeketiServer, topo: Path) -> list:
    return [{"name": "heketi_topology module", "hosts": "localhost", "gather_facts": False, "tasks": [{
        "name": "Load the topology",
        "glusterfs.heketi.heketi_topology": {"src": str(topo)},
        "environment": {"HEKETI_CLI_SERVER": server.url, "HEKETI_CLI_USER": "admin",
                        "HEKETI_CLI_KEY": server.admin_key},
    }]}]


def cli_play(server: HeketiServer, topo: Path, heketi_cli: Path) -> list:
    return [{"name": "heketi-cli topology load", "hosts": "localhost", "gather_facts": False, "tasks": [{
        "name": "Load the topology",
        "ansible.builtin.command": {"argv": [str(heketi_cli), "topology", "load", "--json=%s" % topo]},
        "environment": {"HEKETI_CLI_SERVER": server.url, "HEKETI_CLI_USER": "admin",
                        "HEKETI_CLI_KEY": server.admin_key},
        "register": "load",
        # heketi-cli exits 0 when nodes or devices fail; its output says "Unable".
        "failed_when": "load.rc != 0 or 'Unable' in load.stdout",
        "changed_when": "'Creating' in load.stdout or 'Adding' in load.stdout",
    }]}]


def task_seconds(stdout: str) -> float:
    """Duration of the play's only task, from the json callback (the run minus Ansible's start-up)."""
    try:
        task = json.loads(stdout)["plays"][0]["tasks"][0]["task"]["duration"]
        start, end = (datetime.datetime.fromisoformat(task[k].replace("Z", "+00:00")) for k in ("start", "end"))
        return (end - start).total_seconds()
    except (ValueError, KeyError, IndexError):
        return float("nan")


def run_playbook(play: list, workdir: Path, label: str, timeout: float) -> tuple[float, subprocess.CompletedProcess]:
    path = workdir / ("%s.json" % label)
    path.write_text(json.dumps(play))
    os.chmod(path, 0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEKETI_")}
    env.update(ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), NO_PROXY="127.0.0.1,localhost",
               no_proxy="127.0.0.1,localhost", ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    cmd = [str(PLAYBOOK_BIN), "-i", "localhost,", "-c", "local",
           "-e", json.dumps({"ansible_python_interpreter": str(PYTHON)}), str(path)]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    elapsed = time.monotonic() - start
    (workdir / ("%s.out" % label)).write_text(proc.stdout + proc.stderr)
    return elapsed, proc


def check_state(server: HeketiServer, nodes: int, devices: int) -> str:
    state = server.state()
    all_nodes = [n for c in state["clusters"] for n in c["nodes"]]
    dups = sum(len(n["devices"]) - len({d["name"] for d in n["devices"]}) for n in all_nodes)
    got = (len(state["clusters"]), len(all_nodes), sum(len(n["devices"]) for n in all_nodes))
    if got != (1, nodes, nodes * devices) or dups:
        return "WRONG STATE clusters/nodes/devices=%s duplicates=%d" % (got, dups)
    return ""


def one_tool(tool: str, nodes: int, devices: int, base: Path, heketi_cli: Path, timeout: float) -> dict:
    workdir = base / ("%dx%d-%s" % (nodes, devices, tool))
    server = HeketiServer(workdir)
    topo = workdir / "topology.json"
    topo.write_text(json.dumps(make_topology(nodes, devices), indent=1))
    out = {}
    try:
        server.start()
        for phase in ("fresh", "reload"):
            play = module_play(server, topo) if tool == "module" else cli_play(server, topo, heketi_cli)
            mark = server.mark()
            elapsed, proc = run_playbook(play, workdir, phase, timeout)
            reqs = server.requests_since(mark)
            error = "" if proc.returncode == 0 else "ansible-playbook rc=%d (see %s)" % (
                proc.returncode, workdir / ("%s.out" % phase))
            error = error or check_state(server, nodes, devices)
            out[phase] = {
                "seconds": elapsed,
                "task_seconds": task_seconds(proc.stdout),
                "requests": len(reqs),
                "writes": sum(1 for r in reqs if r[0] != "GET"),
                "polls": sum(1 for r in reqs if r[1].startswith("/queue/")),
                "busy": sum(1 for r in reqs if r[2] == 429),
                "error": error,
            }
    finally:
        server.kill()
    return out


def fmt_ratio(cli: float, module: float) -> str:
    return "%.2f×" % (cli / module) if module > 0 else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="4x2,50x4,100x10", help="comma-separated NODESxDEVICES (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size and tool; the median is reported")
    parser.add_argument("--repeat-large", type=int, default=1,
                        help="runs per tool for sizes above 500 devices (default %(default)s)")
    parser.add_argument("--run-timeout", type=float, default=1200, help="seconds per ansible-playbook run")
    parser.add_argument("--budget", type=float, default=3600, help="seconds for the whole benchmark")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, playbooks, DBs)")
    parser.add_argument("--json", dest="json_out", help="also write the raw figures to this file")
    args = parser.parse_args()

    heketi_cli = ensure_built()[1]
    sizes = [tuple(int(x) for x in s.lower().split("x")) for s in args.sizes.split(",") if s]
    base = Path(tempfile.mkdtemp(prefix="m2-bench-"))
    started = time.monotonic()
    results: dict = collections.OrderedDict()
    skipped = []
    try:
        for nodes, devices in sizes:
            if time.monotonic() - started > args.budget:
                skipped.append("%dx%d" % (nodes, devices))
                continue
            runs = {"module": [], "cli": []}
            for rep in range(args.repeat if nodes * devices <= 500 else args.repeat_large):
                for tool in ("module", "cli"):
                    print("# %dx%d %s run %d ..." % (nodes, devices, tool, rep + 1), file=sys.stderr, flush=True)
                    runs[tool].append(one_tool(tool, nodes, devices, base / ("r%d" % rep), heketi_cli,
                                               args.run_timeout))
            results["%dx%d" % (nodes, devices)] = runs
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print("# work folder kept: %s" % base, file=sys.stderr)

    heketi_version = subprocess.run([str(heketi_cli), "--version"], capture_output=True, text=True,
                                    check=False).stdout.strip()
    print("Heketi: %s (mock executor, default max_inflight_operations 8), one ansible-playbook run per cell, "
          "median of %d run(s) (%d above 500 devices); host: %s, %d CPU, load average at the end: %s"
          % (heketi_version, args.repeat, args.repeat_large, platform.platform(), os.cpu_count(),
             " ".join("%.1f" % x for x in os.getloadavg())))
    print("Run = wall time of the whole ansible-playbook process; task = the task alone (json callback), "
          "i.e. without Ansible's own start-up. Ratio = heketi-cli / module (> 1: the module is faster).")
    print()
    print("| nodes × devices | load | run: module (s) | run: heketi-cli (s) | run ratio | target | met |"
          " task: module (s) | task: heketi-cli (s) | task ratio | requests module / cli |"
          " writes module / cli | queue polls module / cli |")
    print("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    failures = []
    for size, runs in results.items():
        nodes, devices = (int(x) for x in size.split("x"))
        for phase in ("fresh", "reload"):
            m = [r[phase] for r in runs["module"] if phase in r]
            c = [r[phase] for r in runs["cli"] if phase in r]
            if not m or not c:
                continue
            ms, cs = statistics.median(x["seconds"] for x in m), statistics.median(x["seconds"] for x in c)
            target = TARGETS.get((nodes, devices), {}).get(phase)
            met = "" if target is None else ("yes" if cs / ms >= target else "NO")
            mt = statistics.median(x["task_seconds"] for x in m)
            ct = statistics.median(x["task_seconds"] for x in c)
            errs = [x["error"] for x in m + c if x["error"]]
            failures.extend("%s %s: %s" % (size, phase, e) for e in errs)
            print("| %d × %d | %s | %.2f | %.2f | %s | %s | %s | %.2f | %.2f | %s | %d / %d | %d / %d | %d / %d |" % (
                nodes, devices, phase, ms, cs, fmt_ratio(cs, ms),
                "≥ %.0f×" % target if target and target > 1 else ("no slower" if target else "–"), met,
                mt, ct, fmt_ratio(ct, mt),
                m[0]["requests"], c[0]["requests"], m[0]["writes"], c[0]["writes"], m[0]["polls"], c[0]["polls"]))
    for size in skipped:
        print("| %s | – | skipped: budget of %ss spent | | | | | | | | | | |" % (size, args.budget))
    if failures:
        print()
        for f in failures:
            print("- FAILED: %s" % f)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
