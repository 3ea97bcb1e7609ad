# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The modules' one error path (plugins/module_utils/_runner.py, issue 14).

The source scan pins that no module or module_utils file but _runner.py calls fail_json or exit_json;
the play runs the real modules through ansible-playbook on localhost (no Heketi needed: every case
fails before a request, or needs none) and checks that each failure keeps its message and keys."""
from __future__ import annotations

import ast
import json
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[4] / "plugins"
SECRET = "not-the-key-0123456789"


def _calls(path, names):
    tree = ast.parse(path.read_text(), str(path))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names]


def test_only_the_runner_calls_fail_json_and_exit_json():
    files = sorted(p for p in (PLUGINS / "modules").glob("*.py")) + sorted((PLUGINS / "module_utils").rglob("*.py"))
    found = {str(p.relative_to(PLUGINS)): lines for p in files if (lines := _calls(p, {"fail_json", "exit_json"}))}
    assert set(found) == {"module_utils/_runner.py"}, found


def test_every_module_hands_its_work_to_run_module():
    for path in sorted((PLUGINS / "modules").glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
        called = [n.func.id for n in ast.walk(main) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
        assert "run_module" in called, path.name


def _play(cases, result_file):
    """A play (JSON is YAML) running each case's module with its arguments, the results written to result_file."""
    tasks = []
    for name, (module, args, _msg) in cases.items():
        tasks.append({"name": name, "glusterfs.heketi.%s" % module: args, "register": name, "ignore_errors": True,
                      "environment": {"HEKETI_CLI_SERVER": "", "HEKETI_CLI_KEY": ""}})
    tasks.append({"name": "Write the results", "ansible.builtin.copy": {
        "content": "{{ {%s} | to_json }}" % ", ".join("'%s': %s" % (name, name) for name in cases),
        "dest": result_file, "mode": "0600"}})
    return json.dumps([{"name": "The modules' failures", "hosts": "localhost", "connection": "local",
                        "gather_facts": False, "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                        "tasks": tasks}])


CASES = {
    # (module, arguments, the start of msg); checked before the client is built: the url is missing too,
    # yet the parameter is named
    "volume_user": ("heketi_volume", dict(name="v", user="bob", key=SECRET), "user: heketi_volume needs the admin user, got 'bob'"),
    "volume_size": ("heketi_volume", dict(name="v", size=0, key=SECRET), "size: must be an integer >= 1 (GiB), got 0"),
    "mode_wait": ("heketi_mode", dict(wait_idle=-1, key=SECRET), "wait_idle: must be 0 or more seconds, got -1"),
    "node_forget": ("heketi_node", dict(name="n", force_forget=True, key=SECRET),
                    "force_forget: only applies to state=absent, got state=online"),
    "device_name": ("heketi_device", dict(node="n", name="sdf", key=SECRET), "name: must be a device path such as /dev/sdf, got 'sdf'"),
    "backup_keep": ("heketi_backup", dict(dest="{{ tmp }}/empty", keep=0, key=SECRET), "keep: must be at least 1, got 0"),
    "topology_inflight": ("heketi_topology", dict(topology={"clusters": []}, max_inflight_operations=0, url="http://127.0.0.1:9",
                                                  key=SECRET),
                          "Invalid option: max_inflight_operations: must be an integer >= 1, got 0"),
    "device_info_wipe": ("storage_device_info", dict(devices=["/dev/loop-a"], wipe=["/dev/loop-b"]),
                         "wipe names paths that are not in devices: /dev/loop-b"),
    "device_info_pattern": ("storage_device_info", dict(devices=["/dev/loop-a"], owned_vg_pattern="("),
                            "owned_vg_pattern is not a valid regular expression: "),
    "firewall_port": ("firewall_sources", dict(ports=["8080"]), "ports[0] '8080' is not PORT/PROTO"),
    "firewall_comment": ("firewall_sources", dict(ports=["8080/tcp"], comment="it's"), "comment must not contain a single quote"),
    "certificate_renew": ("heketi_certificate", dict(path="{{ tmp }}/tls", common_name="h", subject_alt_names=["DNS:h"],
                                                     group="root", renew_days=825),
                          "renew_days: must be 0 or more and less than cert_days (825), got 825"),
}
ERRORS = {
    # errors the module names (HeketiError, BackupError): their text and their status (None: no HTTP answer)
    "info_url": ("heketi_info", dict(url="ftp://heketi.example:8080", key=SECRET), "url: must be an http:// or https:// URL"),
    "info_no_url": ("heketi_info", dict(key=SECRET), "url: the Heketi server URL is required"),
    "backup_corrupt": ("heketi_backup", dict(dest="{{ tmp }}/corrupt", backup=False),
                       "{{ tmp }}/corrupt/heketi-20260101T000000Z.db is not a bolt database (Heketi database)"),
}


def test_the_modules_fail_through_the_runner(run_playbook, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "heketi-20260101T000000Z.db").write_bytes(b"not a bolt database" * 4)
    cases = dict(CASES, **ERRORS)
    cases["backup_verify_only"] = ("heketi_backup", dict(dest="{{ tmp }}/empty", backup=False), None)

    def fill(value):
        return json.loads(json.dumps(value).replace("{{ tmp }}", str(tmp_path)))

    rc, out = run_playbook(_play(fill(cases), str(tmp_path / "out.json")))
    assert rc == 0, out
    assert SECRET not in out
    results = json.loads((tmp_path / "out.json").read_text())
    assert SECRET not in json.dumps(results)

    for name, (_module, _args, msg) in CASES.items():
        r = results[name]
        assert r["failed"] is True and r["msg"].startswith(msg), (name, r)
        assert "status" not in r, (name, r)
    assert results["topology_inflight"]["changed"] is False  # the partial result ModuleFailure carries

    for name, (_module, _args, msg) in ERRORS.items():
        r = results[name]
        assert r["failed"] is True and r["msg"].startswith(fill(msg)), (name, r)
        assert "status" in r and r["status"] is None, (name, r)

    # backup=false needs no url or key: the task reads dest only
    r = results["backup_verify_only"]
    assert not r.get("failed"), r
    assert r["changed"] is False and r["kept"] == [] and r["removed"] == []
