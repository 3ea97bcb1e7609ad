# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX configuration as code (awx/controller.yml, applied by awx/configure.yml) against what AWX and the
awx.awx modules accept, so a typo fails here and not in front of a controller:

- every entry validated with the argument spec of the awx.awx module its task feeds (taken from the
  module itself), the workflow nodes also against that module's documented suboptions;
- every key of an entry is one the task passes on (nothing silently dropped), every parameter the task
  passes is one the module has;
- the credential type by AWX's rules (tests/awx/awx_rules.py), its injectors rendered as AWX renders them;
- the surveys by AWX's survey rules; the workflow chain and the stages' tags against site.yml.
"""
from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import awx_rules  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SITE = {"heketi_awx_heketi_url": "http://192.0.2.10:8080", "heketi_awx_heketi_key": "k" * 32,
        "heketi_awx_heketi_ca_cert": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}
# data section -> (awx.awx module, the configure.yml task's loop variable)
SECTIONS = {
    "heketi_awx_credential_types": "credential_type",
    "heketi_awx_credentials": "credential",
    "heketi_awx_execution_environments": "execution_environment",
    "heketi_awx_projects": "project",
    "heketi_awx_inventories": "inventory",
    "heketi_awx_inventory_sources": "inventory_source",
    "heketi_awx_job_templates": "job_template",
    "heketi_awx_workflows": "workflow_job_template",
}
STAGES = ["glusterfs_servers", "heketi", "topology", "glusterfs_clients", "storageclass"]


def load_data(overrides: dict | None = None) -> dict:
    """awx/controller.yml templated the way the playbook sees it (vars_files + -e site values)."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    loader = DataLoader()
    data = loader.load_from_file(str(ROOT / "awx" / "controller.yml"), trusted_as_template=True)
    variables = dict(data, **SITE, **(overrides or {}))
    templar = Templar(loader=loader, variables=variables)
    out = {k: awx_rules._plain(templar.template(v)) for k, v in variables.items()}
    out["heketi_awx_job_templates"] = [dict(copy.deepcopy(out["heketi_awx_job_template_defaults"]), **jt)
                                       for jt in out["heketi_awx_job_templates"]]
    return out


@pytest.fixture(scope="module")
def data():
    return load_data()


def configure_tasks() -> dict:
    """awx.awx module name -> the parameter names its configure.yml task passes."""
    plays = yaml.safe_load((ROOT / "awx" / "configure.yml").read_text())
    tasks = {}
    for task in plays[0]["tasks"]:
        for key, args in task.items():
            if key.startswith("awx.awx."):
                tasks[key.split(".", 2)[2]] = set(args)
    return tasks


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_entries_pass_the_awx_awx_argument_spec(data, section):
    module = SECTIONS[section]
    assert data[section], "%s is empty" % section
    for entry in data[section]:
        errors = awx_rules.validate_module_args(module, entry)
        assert not errors, "%s %r: awx.awx.%s rejects it: %s" % (section, entry.get("name"), module, errors)


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_configure_passes_every_key_and_only_module_parameters(data, section):
    module = SECTIONS[section]
    passed = configure_tasks()[module]
    spec, _kwargs, _doc = awx_rules.argspec(module)
    assert passed <= set(spec), "configure.yml passes %s to awx.awx.%s, which has no such parameter" % (
        sorted(passed - set(spec)), module)
    for entry in data[section]:
        dropped = set(entry) - passed
        assert not dropped, "%s %r: keys %s are not passed on by configure.yml" % (section, entry["name"], sorted(dropped))


def test_a_typo_is_caught():
    """The checks above can fail: a misspelt option, a bad choice, a wrong type."""
    assert awx_rules.validate_module_args("job_template", {"name": "x", "ask_diff_on_launch": True})
    assert awx_rules.validate_module_args("job_template", {"name": "x", "job_type": "dry-run"})
    assert awx_rules.validate_module_args("workflow_job_template", {"name": "x", "workflow_nodes": "servers"})
    assert awx_rules.validate_module_args("credential_type", {"name": "x", "kind": "cloud", "injector": {}})


def test_workflow_nodes_match_the_documented_suboptions(data):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    _spec, _kwargs, doc = awx_rules.argspec("workflow_job_template")
    node_spec = awx_rules.doc_suboptions_spec(doc["options"]["workflow_nodes"]["suboptions"])
    for wf in data["heketi_awx_workflows"]:
        for node in wf["workflow_nodes"]:
            errors = ArgumentSpecValidator(node_spec).validate(node).error_messages
            assert not errors, "workflow %r node %r: %s" % (wf["name"], node.get("identifier"), errors)


def test_the_workflow_chains_the_stages_in_order(data):
    (wf,) = data["heketi_awx_workflows"]
    nodes = {n["identifier"]: n for n in wf["workflow_nodes"]}
    templates = {jt["name"]: jt for jt in data["heketi_awx_job_templates"]}
    chain, ident = [], "servers"
    while ident:
        node = nodes[ident]
        jt = templates[node["unified_job_template"]["name"]]
        assert node["unified_job_template"]["type"] == "job_template"
        chain.append(jt["job_tags"])
        nxt = node.get("related", {}).get("success_nodes", [])
        assert len(nxt) <= 1
        ident = nxt[0]["identifier"] if nxt else None
    assert chain == STAGES
    assert len(chain) == len(nodes), "workflow nodes outside the chain"


DAY2_PLAYBOOKS = ("backup", "upgrade", "replace_device", "remove_node", "restore", "uninstall", "check",
                  "cleanup_operations", "grow_device", "failover")
# Survey answers no role reads: the confirmation a destructive day-2 template asks for before it runs.
SURVEY_ONLY = {"heketi_awx_confirm"}


DESTRUCTIVE = ("replace_device", "remove_node", "restore", "uninstall", "cleanup_operations", "failover")


def _day2_templates(data):
    defaults = data["heketi_awx_job_template_defaults"]
    return {Path(jt["playbook"]).stem: dict(defaults, **jt) for jt in data["heketi_awx_job_templates"]
            if jt.get("playbook", "site.yml") != "site.yml"}


def test_destructive_day2_templates_ask_for_a_confirmation(data):
    templates = _day2_templates(data)
    for name in DESTRUCTIVE:
        jt = templates[name]
        confirm = [q for q in jt["survey_spec"]["spec"] if q["variable"] == "heketi_awx_confirm"]
        assert jt["survey_enabled"] and confirm and confirm[0]["required"], jt["name"]
        # AWX fills an unanswered question with its default: a default would confirm on the operator's behalf
        assert confirm[0].get("default", "") == "", jt["name"]


@pytest.mark.parametrize("name", DESTRUCTIVE)
def test_a_destructive_template_does_not_launch_without_the_confirmation(data, name):
    """A launch as AWX takes it (the survey's answers, its defaults, its refusals): each destructive day-2 template
    refuses a launch without the confirmation, and accepts the same launch with it."""
    jt = _day2_templates(data)[name]
    answers = {q["variable"]: (q["choices"][0] if q["type"] == "multiplechoice" else "node2")
               for q in jt["survey_spec"]["spec"] if q["required"] and q["variable"] != "heketi_awx_confirm"}
    with pytest.raises(awx_rules.AWXRejected, match="'heketi_awx_confirm' value missing"):
        awx_rules.survey_launch(jt, answers)
    with pytest.raises(awx_rules.AWXRejected, match="expected to be one of"):
        awx_rules.survey_launch(jt, dict(answers, heketi_awx_confirm="yes"))
    (choice,) = next(q for q in jt["survey_spec"]["spec"] if q["variable"] == "heketi_awx_confirm")["choices"]
    launched = awx_rules.survey_launch(jt, dict(answers, heketi_awx_confirm=choice))
    assert launched["heketi_awx_confirm"] == choice


def test_no_day2_template_can_wipe_disks_or_take_other_variables(data):
    """Disks are wiped only from the command line (uninstall.yml's wipe switch and per-device confirmation): no
    template sets or asks for them, and none takes variables beyond its survey on launch."""
    for name, jt in _day2_templates(data).items():
        assert not jt.get("ask_variables_on_launch"), jt["name"]
        asked = {q["variable"] for q in (jt.get("survey_spec") or {}).get("spec", [])}
        assert not asked & {"heketi_maintenance_wipe_devices", "heketi_maintenance_wipe_confirm"}, jt["name"]
        assert "wipe" not in str(jt.get("extra_vars", "")), jt["name"]
        with pytest.raises(awx_rules.AWXRejected, match="not asked for on launch"):
            awx_rules.survey_launch(jt, {"heketi_maintenance_wipe_devices": True})


def test_survey_launch_rules_can_pass_and_fail():
    jt = {"survey_enabled": True, "survey_spec": {"name": "n", "description": "", "spec": [
        {"question_name": "q", "variable": "v", "type": "multiplechoice", "choices": ["a", "b"], "default": "a",
         "required": True}]}}
    assert awx_rules.survey_launch(jt, {}) == {"v": "a"}  # the default fills the unanswered question
    assert awx_rules.survey_launch(dict(jt, ask_variables_on_launch=True), {"w": 1}) == {"v": "a", "w": 1}
    with pytest.raises(awx_rules.AWXRejected):
        awx_rules.survey_launch(jt, {"v": "c"})


def test_one_template_per_stage_plus_site(data):
    site = (ROOT / "playbooks" / "site.yml").read_text()
    tags = set(re.findall(r"^#\s+([a-z_]+)\s{2,}", site, re.M)) - {"preflight"}
    templates = data["heketi_awx_job_templates"]
    assert sorted(jt["job_tags"] for jt in templates if "job_tags" in jt) == sorted(STAGES) == sorted(tags)
    assert [jt["name"] for jt in templates if "job_tags" not in jt and jt["playbook"] == "site.yml"] == ["GlusterFS / site"]
    # The day-2 templates run their own playbooks (roles/heketi_maintenance), one each.
    day2 = sorted(jt["playbook"] for jt in templates if jt["playbook"] != "site.yml")
    assert day2 == sorted("playbooks/%s.yml" % p for p in DAY2_PLAYBOOKS)
    for jt in templates:
        assert (ROOT / jt["playbook"]).is_file()
        assert jt["ask_job_type_on_launch"] and jt["ask_diff_mode_on_launch"], "%s: check/diff not asked" % jt["name"]


def test_surveys_pass_awx_rules_and_offer_the_role_choices(data):
    role_options = {}
    for role in ("storageclass", "csi_driver", "heketi_maintenance"):
        argspec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
        for entry in argspec["argument_specs"].values():
            role_options.update(entry.get("options") or {})
    items = data["heketi_awx_job_templates"] + data["heketi_awx_workflows"]
    surveyed = [i for i in items if i.get("survey_enabled")]
    assert {i["name"] for i in surveyed} >= {"GlusterFS / site", "GlusterFS / storageclass", "GlusterFS / deploy"}
    for item in surveyed:
        awx_rules.validate_survey(item["survey_spec"])
        for q in item["survey_spec"]["spec"]:
            if q["variable"] in SURVEY_ONLY:
                continue
            # A day-2 playbook's own switches (uninstall.yml's) are read by the playbook, not by a role.
            if item.get("playbook", "site.yml") != "site.yml" and q["variable"] in (ROOT / item["playbook"]).read_text():
                continue
            assert q["variable"] in role_options, "%s: survey variable %s is no role option" % (item["name"], q["variable"])
            choices = role_options[q["variable"]].get("choices")
            if choices:
                assert set(q["choices"]) <= set(choices), "%s: %s offers choices the role refuses" % (item["name"], q["variable"])


def test_survey_rules_can_fail():
    good = {"name": "n", "description": "", "spec": [
        {"question_name": "q", "variable": "v", "type": "multiplechoice", "choices": ["a"], "default": "a", "required": True}]}
    awx_rules.validate_survey(good)
    for breaks in ({"type": "dropdown"}, {"default": "b"}, {"required": "yes"}):
        bad = copy.deepcopy(good)
        bad["spec"][0].update(breaks)
        with pytest.raises(awx_rules.AWXRejected):
            awx_rules.validate_survey(bad)


def test_credential_type_is_valid_by_awx_rules(data):
    (ct,) = data["heketi_awx_credential_types"]
    assert ct["name"] == "Heketi API"
    awx_rules.validate_credential_type(ct)


@pytest.mark.parametrize("breaks, message", [
    ({"env": {"ANSIBLE_HOST_KEY_CHECKING": "{{ url }}"}}, "ANSIBLE_HOST_KEY_CHECKING"),
    ({"env": {"PATH": "{{ url }}"}}, "PATH"),
    ({"env": {"HEKETI_CLI_SERVER": "{{ server }}"}}, "undefined"),
    ({"extra_vars": {"topology_heketi_ca_path": "{{ tower.filename }}"}}, "tower.filename"),
    ({"file": {"ca": "{{ ca_cert }}"}}, "file.ca"),
    ({"env": {"X": "{{ ''.__class__.__mro__ }}"}}, "unsafe"),
])
def test_credential_type_rules_can_fail(data, breaks, message):
    ct = copy.deepcopy(data["heketi_awx_credential_types"][0])
    for kind, value in breaks.items():
        ct["injectors"].setdefault(kind, {}).update(value)
    with pytest.raises(awx_rules.AWXRejected, match=re.escape(message)):
        awx_rules.validate_credential_type(ct)
    ct = copy.deepcopy(data["heketi_awx_credential_types"][0])
    ct["inputs"]["fields"].append({"id": "tower", "label": "x"})
    with pytest.raises(awx_rules.AWXRejected, match="reserved"):
        awx_rules.validate_credential_type(ct)


def test_injection_with_and_without_the_ca(data, tmp_path):
    """At job start: the env the modules read, the role variables, the CA as a 0600 file only when given."""
    (ct,) = data["heketi_awx_credential_types"]
    (cred,) = data["heketi_awx_credentials"]
    env, extra = awx_rules.inject_credential(ct, cred["inputs"], str(tmp_path), "/runner")
    assert env == {"HEKETI_CLI_SERVER": SITE["heketi_awx_heketi_url"], "HEKETI_CLI_USER": "admin",
                   "HEKETI_CLI_KEY": SITE["heketi_awx_heketi_key"]}
    files = sorted((tmp_path / "env").iterdir())
    assert all(f.stat().st_mode & 0o077 == 0 for f in files)
    extra_file = tmp_path / Path(extra).relative_to("/runner")
    ev = yaml.safe_load(extra_file.read_text())
    ca_file = tmp_path / Path(ev["topology_heketi_ca_path"]).relative_to("/runner")
    assert ca_file.read_text() == SITE["heketi_awx_heketi_ca_cert"]
    assert ev["heketi_admin_key"] == ev["topology_heketi_key"] == ev["storageclass_heketi_admin_key"] == SITE["heketi_awx_heketi_key"]
    assert ev["topology_heketi_url"] == SITE["heketi_awx_heketi_url"] and ev["topology_delegate_to"] == "localhost"

    # No CA (AWX drops empty inputs): the role gets an empty CA path, not a path to an empty file.
    inputs = dict(cred["inputs"], ca_cert="", user="")
    env, extra = awx_rules.inject_credential(ct, inputs, str(tmp_path / "noca"))
    ev = yaml.safe_load(Path(extra).read_text())
    assert ev["topology_heketi_ca_path"] == "" and env["HEKETI_CLI_USER"] == "admin"


def test_injected_variables_are_role_options(data):
    (ct,) = data["heketi_awx_credential_types"]
    options = {}
    for role in ("heketi", "topology", "storageclass"):
        spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
        options.update(spec["argument_specs"]["main"]["options"])
    unknown = set(ct["injectors"]["extra_vars"]) - set(options)
    assert not unknown, "the credential injects %s, which no role takes" % sorted(unknown)


def test_no_template_or_workflow_runs_twice_at_once(data):
    """Two topology loads at once could add a node or device twice: AWX queues a second launch of a template
    (the module's lock on the Heketi host covers the rest, tests/integration/test_heketi_topology.py)."""
    entries = data["heketi_awx_job_templates"] + data["heketi_awx_workflows"]
    assert entries and all(entry.get("allow_simultaneous") is False for entry in entries), \
        [entry["name"] for entry in entries if entry.get("allow_simultaneous") is not False]
