# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 22 on a container lab: a real Prometheus (Debian's, started here on loopback with the files the
glusterfs_metrics role rendered) scrapes the lab's real Heketi (TLS, ssh executor) and node_exporter with the
GlusterFS collector on three storage nodes; faults are made and the matching alert fires, then resolves.

- Lab (MONITORING_LAB_NAME, default ghmon<random>; MONITORING_KEEP_LAB=1 keeps it): node1..node3 with CAP_NET_ADMIN,
  ufw active on node1 (the Heketi host and a storage node); site.yml's glusterfs_servers, heketi and topology stages,
  then playbooks/monitoring.yml. Heketi's API sources are node2 only (a stand-in for the Kubernetes nodes), so the
  controller reaches Heketi's port only as the scraper (heketi_metrics_allowed_sources); node3 is refused.
- A replicated volume made directly in GlusterFS on tmpfs bricks (the lab has no device-mapper: Heketi cannot
  create volumes here).
- The device filled past the threshold is in a second, mock-executor Heketi's view (the real server, its mock
  executor; the lab cannot create volumes), scraped by the same Prometheus as another Heketi target.
- Short `for:` (glusterfs_metrics_alert_for 10s), scrape and evaluation every 2 s, the collector every 5 s: each
  alert must fire within for + collector interval + two scrape intervals + slack, and resolve once repaired. The
  times measured are printed (docs/benchmarks.md).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from daylab import DayLab, recap
from heketi_server import HeketiServer, free_port

NAME = os.environ.get("MONITORING_LAB_NAME", "ghmon" + uuid.uuid4().hex[:4])
TAGS = ("--tags", "glusterfs_servers,heketi,topology")
FOR, SCRAPE, COLLECTOR = 10, 2, 5
# fault -> firing: for + the collector's interval + two scrapes + an evaluation, and slack for a 2-core machine
FIRE_BOUND = FOR + COLLECTOR + 2 * SCRAPE + SCRAPE + 20
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
_PROBE = ("import socket,sys\n"
          "try:\n socket.create_connection((sys.argv[1], int(sys.argv[2])), 4).close(); print('open')\n"
          "except OSError as e:\n print(type(e).__name__)\n")
TIMES: dict[str, dict[str, float]] = {}


class Prometheus:
    def __init__(self, folder: Path, rendered: Path, extra_heketi: str):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        scrape = yaml.safe_load((rendered / "glusterfs-heketi-scrape.yml").read_text())["scrape_configs"]
        for job in scrape:
            job["scrape_interval"] = "%ds" % SCRAPE
            job["scrape_timeout"] = "%ds" % SCRAPE
        # the mock-executor Heketi: a job of its own (plain http), its series labelled as the heketi job's
        scrape.append({"job_name": "heketi-mock", "scrape_interval": "%ds" % SCRAPE, "scrape_timeout": "%ds" % SCRAPE,
                       "static_configs": [{"targets": [extra_heketi], "labels": {"job": "heketi", "heketi": "mock"}}]})
        config = {"global": {"scrape_interval": "%ds" % SCRAPE, "evaluation_interval": "%ds" % SCRAPE},
                  "rule_files": [str(rendered / "glusterfs-heketi.rules.yml")], "scrape_configs": scrape}
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = open(folder / "prometheus.log", "ab")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=%s" % (folder / "prometheus.yml"), "--storage.tsdb.path=%s" % (folder / "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait("prometheus ready", lambda: self._get("/-/ready") is not None, 60)

    def _get(self, path):
        try:
            with _OPENER.open(self.url + path, timeout=5) as resp:
                return resp.read().decode()
        except OSError:
            return None

    def query(self, expr: str) -> list:
        answer = self._get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        return json.loads(answer)["data"]["result"] if answer else []

    def firing(self) -> list[dict]:
        answer = self._get("/api/v1/alerts")
        alerts = json.loads(answer)["data"]["alerts"] if answer else []
        return [a for a in alerts if a["state"] == "firing"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def wait(what, predicate, seconds, step=0.5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    pytest.fail("%s: not within %d s" % (what, seconds))


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=600)


def reach(lab, source: int, target: int, port: int) -> str:
    return docker("exec", "%s-node%d" % (lab.name, source), "python3", "-c", _PROBE, lab.address(target),
                  str(port)).stdout.strip()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = DayLab(NAME, nodes=3, net_admin=True)
    prom = mock = None
    try:
        tmp = tmp_path_factory.mktemp("monitoring")
        lab.tmp = tmp
        lab.gateway = docker("network", "inspect", NAME, "-f", "{{(index .IPAM.Config 0).Gateway}}").stdout.strip()
        # ufw on the Heketi host, as the site runs it (ssh open).
        apt = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq %s >/dev/null"
        lab.sh(1, apt % "ufw" + " && ufw allow 22/tcp && ufw --force enable")
        lab.inv = lab.inventory(tmp / "inv", storage=[1, 2, 3], groups={"heketi": [1]})
        evars = tmp / "vars.json"
        evars.write_text(json.dumps({
            "heketi_api_allowed_sources": [lab.address(2)], "heketi_metrics_allowed_sources": [lab.gateway],
            "glusterfs_metrics_scrapers": [lab.gateway], "glusterfs_metrics_interval": COLLECTOR,
            "glusterfs_metrics_alert_for": "%ds" % FOR, "glusterfs_metrics_space_for": "%ds" % FOR,
            "glusterfs_metrics_prometheus_dir": str(tmp / "rendered"),
            "glusterfs_metrics_heketi_ca_file": str(tmp / "heketi-ca.crt")}))
        lab.evars = "@%s" % evars
        site = lab.play(lab.inv, "site.yml", *TAGS, "-e", lab.evars)
        assert site.returncode == 0, site.output[-5000:]
        # A replica-3 volume on tmpfs bricks, made directly in GlusterFS (the pool is Heketi's: it probed the peers).
        for node in (1, 2, 3):
            lab.sh(node, "mkdir -p /bricks && mount -t tmpfs -o size=64m tmpfs /bricks && mkdir /bricks/mon")
        lab.sh(1, "gluster --mode=script volume create mon replica 3 node1:/bricks/mon node2:/bricks/mon "
                  "node3:/bricks/mon force && gluster --mode=script volume start mon")
        docker("cp", "%s-node1:/etc/heketi/tls/ca.crt" % NAME, str(tmp / "heketi-ca.crt"))
        started = time.monotonic()
        mon = lab.play(lab.inv, "playbooks/monitoring.yml", "-e", lab.evars)
        lab.monitoring_seconds = time.monotonic() - started
        assert mon.returncode == 0, mon.output[-5000:]
        lab.monitoring = mon
        mock = HeketiServer(tmp / "mock-heketi").start()
        mock.load({"clusters": [{"nodes": [
            {"node": {"hostnames": {"manage": ["m%d" % i], "storage": ["192.0.2.%d" % (20 + i)]}, "zone": 1},
             "devices": ["/dev/sdf"]} for i in (1, 2, 3)]}]})
        lab.mock = mock
        prom = Prometheus(tmp, tmp / "rendered", "127.0.0.1:%d" % mock.port)
        lab.prom = prom
        yield lab
    finally:
        if prom is not None:
            prom.stop()
        if mock is not None:
            mock.stop()
        if TIMES:
            print("\nfault -> firing / repair -> resolved (s): %s" % json.dumps(TIMES, indent=1))
        if os.environ.get("MONITORING_KEEP_LAB") != "1":
            lab.down()


def alert(lab, name, **labels):
    return [a for a in lab.prom.firing() if a["labels"]["alertname"] == name
            and all(a["labels"].get(k) == v for k, v in labels.items())]


def fault(lab, name, labels, make, repair):
    """Make the fault, wait for the alert to fire, repair, wait for it to resolve; record both times."""
    assert not alert(lab, name, **labels), "%s firing before its fault" % name
    start = time.monotonic()
    make()
    wait("%s firing" % name, lambda: alert(lab, name, **labels), FIRE_BOUND)
    fired = time.monotonic() - start
    start = time.monotonic()
    repair()
    wait("%s resolved" % name, lambda: not alert(lab, name, **labels), 90)
    TIMES[name] = {"fire": round(fired, 1), "resolve": round(time.monotonic() - start, 1), "for": FOR}


def test_deployed_read_only_and_rerun_changes_nothing(lab):
    assert lab.sh(1, "systemctl is-active glusterfs-metrics.timer prometheus-node-exporter").stdout.split() == [
        "active", "active"]
    again = lab.play(lab.inv, "playbooks/monitoring.yml", "-e", lab.evars)
    assert again.returncode == 0, again.output[-4000:]
    assert all(r.get("changed") == 0 for r in recap(again).values()), again.output[-4000:]
    # nothing of the collector listens: node_exporter is the only new listener, and the .prom file is world-readable
    listeners = lab.sh(1, "ss -Hltnp").stdout
    assert "python" not in listeners and ":9100" in listeners
    assert lab.sh(1, "stat -c %a /var/lib/prometheus/node-exporter/glusterfs.prom").stdout.strip() == "644"


def test_scraper_allowed_and_another_source_refused(lab):
    rules = lab.sh(1, "ufw show added").stdout
    assert "ufw allow from %s to any port 8080 proto tcp" % lab.gateway in rules, rules
    assert "ufw allow from %s to any port 9100 proto tcp" % lab.gateway in rules, rules
    assert reach(lab, 3, 1, 8080) != "open"
    assert reach(lab, 3, 1, 9100) != "open"
    assert reach(lab, 2, 1, 8080) == "open"  # the API's own source
    # the controller, as the scraper: every target up (Heketi over TLS, verified with the role's CA)
    wait("every target up", lambda: len(lab.prom.query("up == 1")) == 5, 60)
    assert lab.prom.query("up == 0") == []


def test_every_dashboard_query_returns_data(lab):
    dashboard = json.loads((lab.tmp / "rendered" / "glusterfs-heketi-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    # the CSI driver does not run in this lab: its two panels are shown with data in the CSI tests' metrics
    lab_exprs = [e for e in exprs if "heketi_csi_" not in e]
    assert len(lab_exprs) == len(exprs) - 2
    wait("the collector's metrics", lambda: lab.prom.query("glusterfs_volume_heal_pending_entries"), 60)
    empty = [e for e in lab_exprs if not lab.prom.query(e)]
    assert empty == []
    # what the lab holds: three bricks online, peers connected in every node's view, Heketi's devices
    assert lab.prom.query('max(glusterfs_volume_bricks_online{volume="mon"})')[0]["value"][1] == "3"
    assert lab.prom.query("sum(glusterfs_peer_connected)")[0]["value"][1] == "6"
    assert lab.prom.query('count(heketi_device_size{heketi!="mock"})')[0]["value"][1] == "6"
    assert lab.prom.query('heketi_operations_total_count{heketi!="mock"}')[0]["value"][1] == "0"
    assert lab.prom.firing() == []


def test_heketi_stopped(lab):
    fault(lab, "HeketiDown", {"instance": "%s:8080" % lab.address(1)},
          lambda: lab.sh(1, "systemctl stop heketi"), lambda: lab.sh(1, "systemctl start heketi"))


def test_brick_killed(lab):
    status = lab.sh(1, "gluster --xml volume status mon node3:/bricks/mon").stdout
    pid = status.split("<pid>", 1)[1].split("<", 1)[0]
    fault(lab, "GlusterBrickOffline", {"volume": "mon", "brick": "node3:/bricks/mon"},
          lambda: lab.sh(3, "kill -9 %s" % pid),
          lambda: lab.sh(1, "gluster --mode=script volume start mon force"))


def test_glusterd_stopped(lab):
    instance = "%s:9100" % lab.address(3)
    fault(lab, "GlusterdDown", {"instance": instance},
          lambda: lab.sh(3, "systemctl stop glusterd"), lambda: lab.sh(3, "systemctl start glusterd"))
    # the other nodes saw node3 disconnected meanwhile; connected again now
    wait("peers connected again", lambda: lab.prom.query("sum(glusterfs_peer_connected)")[0]["value"][1] == "6", 90)


def test_device_filled_in_heketis_view(lab):
    mock = lab.mock
    device = mock.state()["clusters"][0]["nodes"][0]["devices"][0]
    size_kib = device["storage"]["total"]
    volume = {}

    def fill():
        # one brick (no durability) of 92 % of a device: 8 % free, below the 10 % threshold
        volume.update(mock.call("POST", "/volumes", {"size": int(size_kib * 0.92 / 1024 / 1024),
                                                     "durability": {"type": "none"}}))

    fault(lab, "HeketiDeviceLowFreeSpace", {"heketi": "mock"}, fill,
          lambda: mock.call("DELETE", "/volumes/" + volume["id"]))


def test_collector_cost_per_run(lab):
    """CPU seconds and peak RSS of one collector run (with its gluster children) on node1, as the timer runs it."""
    measure = ("python3 -c \"import resource,subprocess,sys; subprocess.run(sys.argv[1:], check=True); "
               "r=resource.getrusage(resource.RUSAGE_CHILDREN); print(r.ru_utime+r.ru_stime, r.ru_maxrss)\" "
               "python3 /usr/local/lib/glusterfs-metrics/glusterfs_metrics_collector.py --output /tmp/cost.prom")
    cpu, rss = lab.sh(1, measure).stdout.split()
    TIMES["collector, 1 volume"] = {"cpu_s": round(float(cpu), 3), "max_rss_kib": int(rss)}
    assert float(cpu) < 10
    assert shutil.which("promtool")
    text = lab.sh(1, "cat /tmp/cost.prom").stdout
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
