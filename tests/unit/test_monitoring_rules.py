# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The alert rules, scrape jobs and dashboard the glusterfs_metrics role renders (tasks_from prometheus_config), checked
by Prometheus' own promtool: `promtool check rules`, and `promtool test rules` with tests/unit/monitoring/*.test.yml,
in which every alert is shown firing after its fault lasted `for:` and not on its near misses."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests" / "unit" / "monitoring" / "glusterfs-heketi.rules.test.yml"
INVENTORY = """\
all:
  children:
    heketi:
      hosts:
        node1: {ansible_host: 192.0.2.11, heketi_port: 8443, heketi_tls: true}
    glusterfs_servers:
      hosts:
        node1: {ansible_host: 192.0.2.11}
        node2: {ansible_host: "2001:db8::12"}
  hosts:
    localhost: {ansible_connection: local, ansible_python_interpreter: "{{ ansible_playbook_python }}"}
"""
RENDER = """\
- name: Render Prometheus' files
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Render
      ansible.builtin.include_role:
        name: glusterfs.heketi.glusterfs_metrics
        tasks_from: prometheus_config.yml
"""


def promtool():
    exe = shutil.which("promtool")
    if exe is None:
        pytest.fail("promtool is missing: Debian's prometheus package (tools/install-system.sh installs it)")
    return exe


@pytest.fixture
def render(run_playbook, tmp_path):
    def run(**extra):
        out = tmp_path / "out"
        inv = tmp_path / "hosts.yml"
        inv.write_text(INVENTORY)
        rc, log = run_playbook(RENDER, extra_vars=dict({"glusterfs_metrics_prometheus_dir": str(out)}, **extra),
                               inventory=str(inv))
        assert rc == 0, log
        return out
    return run


def test_rules_pass_promtool_check_and_unit_tests(render):
    out = render(glusterfs_metrics_runbook_base="R")
    check = subprocess.run([promtool(), "check", "rules", str(out / "glusterfs-heketi.rules.yml")],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    shutil.copy(TESTS, out / TESTS.name)
    test = subprocess.run([promtool(), "test", "rules", TESTS.name], cwd=out, capture_output=True, text=True,
                          check=False)
    assert test.returncode == 0, test.stdout + test.stderr


def test_every_alert_has_summary_runbook_and_a_firing_test(render):
    out = render()
    rules = yaml.safe_load((out / "glusterfs-heketi.rules.yml").read_text())["groups"][0]["rules"]
    tested = {case["alertname"] for test in yaml.safe_load(TESTS.read_text())["tests"]
              for case in test["alert_rule_test"] if case["exp_alerts"]}
    names = [r["alert"] for r in rules]
    assert len(names) == len(set(names))
    assert set(names) == tested, set(names) ^ tested
    for rule in rules:
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["runbook"].startswith(
            "https://github.com/glusterfs/heketi-ansible/blob/main/README.md#monitoring: "), rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
    # the list of alerts
    for name in ("HeketiDown", "HeketiOperationsStale", "HeketiDeviceLowFreeSpace", "HeketiClusterLowFreeSpace",
                 "GlusterPeerDisconnected", "GlusterBrickOffline", "GlusterSelfHealBacklog", "GlusterdDown",
                 "HeketiCSICallsFailing"):
        assert name in names


def test_thresholds_and_windows_are_the_variables(render):
    """A site's thresholds reach the expressions; promtool still accepts the file, and the unit tests (written for
    the defaults) then fail where they should: the device at 5 % free no longer alerts with a 4 % threshold."""
    out = render(glusterfs_metrics_device_min_free_percent=4, glusterfs_metrics_cluster_min_free_percent=25,
                 glusterfs_metrics_alert_for="30s", glusterfs_metrics_heal_window="2h", glusterfs_metrics_runbook_base="R")
    rules = {r["alert"]: r for r in yaml.safe_load((out / "glusterfs-heketi.rules.yml").read_text())["groups"][0]["rules"]}
    assert rules["HeketiDeviceLowFreeSpace"]["expr"].endswith("< 4")
    assert rules["HeketiClusterLowFreeSpace"]["expr"].endswith("< 25")
    assert rules["GlusterdDown"]["for"] == "30s"
    assert rules["GlusterSelfHealBacklog"]["for"] == "2h" and "[2h]" in rules["GlusterSelfHealBacklog"]["expr"]
    shutil.copy(TESTS, out / TESTS.name)
    test = subprocess.run([promtool(), "test", "rules", TESTS.name], cwd=out, capture_output=True, text=True,
                          check=False)
    assert test.returncode != 0 and "HeketiDeviceLowFreeSpace" in test.stdout + test.stderr


def test_scrape_jobs_from_the_inventory(render):
    out = render(glusterfs_metrics_csi_targets=["192.0.2.21:9808"],
                 glusterfs_metrics_heketi_ca_file="/etc/prometheus/heketi-ca.crt")
    scrape = yaml.safe_load((out / "glusterfs-heketi-scrape.yml").read_text())["scrape_configs"]
    jobs = {j["job_name"]: j for j in scrape}
    assert jobs["heketi"]["static_configs"] == [{"targets": ["192.0.2.11:8443"]}]
    assert jobs["heketi"]["scheme"] == "https"  # heketi_tls of the Heketi host
    assert jobs["heketi"]["tls_config"] == {"ca_file": "/etc/prometheus/heketi-ca.crt"}
    assert jobs["glusterfs"]["static_configs"] == [{"targets": ["192.0.2.11:9100", "[2001:db8::12]:9100"]}]
    assert jobs["heketi-csi"]["static_configs"] == [{"targets": ["192.0.2.21:9808"]}]
    dashboard = json.loads((out / "glusterfs-heketi-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert exprs and all(e for e in exprs)


def test_bad_thresholds_are_refused_before_anything_is_written(render, run_playbook, tmp_path):
    inv = tmp_path / "hosts.yml"
    inv.write_text(INVENTORY)
    rc, log = run_playbook(RENDER, extra_vars={"glusterfs_metrics_prometheus_dir": str(tmp_path / "never"),
                                               "glusterfs_metrics_alert_for": "2 minutes",
                                               "glusterfs_metrics_device_min_free_percent": "ten"}, inventory=str(inv))
    assert rc != 0
    assert "glusterfs_metrics_alert_for: not a Prometheus duration" in log, log
    assert "glusterfs_metrics_device_min_free_percent: not a percentage" in log, log
    assert not (tmp_path / "never").exists()


def test_metric_names_exist_where_they_come_from(render):
    """Every CSI metric the rules and the dashboard use is one the driver documents (csi/README.md, Metrics), every
    glusterfs_* one is written by the collector."""
    import re
    out = render()
    rules = yaml.safe_load((out / "glusterfs-heketi.rules.yml").read_text())["groups"][0]["rules"]
    dashboard = json.loads((out / "glusterfs-heketi-dashboard.json").read_text())
    text = "\n".join([r["expr"] for r in rules] + [t["expr"] for p in dashboard["panels"] for t in p["targets"]])
    csi_doc = (ROOT / "csi" / "README.md").read_text()
    collector = (ROOT / "roles" / "glusterfs_metrics" / "files" / "glusterfs_metrics_collector.py").read_text()
    csi = {re.sub(r"_(count|sum|bucket)$", "", m) for m in re.findall(r"\bheketi_csi_\w+", text)}
    gluster = set(re.findall(r"\bglusterfs_[a-z_]+\b", text))
    assert csi and gluster
    assert [m for m in csi if "`%s`" % m not in csi_doc] == []
    assert [m for m in gluster if "'%s'" % m not in collector] == []
