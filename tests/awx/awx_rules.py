# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AWX's rules for custom credential types, job-template surveys and job runs, restated for the tests.

No AWX server can be installed here (it installs only through awx-operator on Kubernetes), so what AWX
does with this repository's data is restated from AWX's sources (awx/main/fields.py:
CredentialTypeInputField and CredentialTypeInjectorField; awx/main/models/credential.py:
CredentialType.inject_credential; awx/api/views: the survey-spec validation; awx/main/tasks/jobs.py:
the collection path of a job) and applied to it:

- validate_credential_type(): what AWX refuses when the credential type is saved, including the
  injector templates rendered in Jinja's immutable sandbox with undefined variables an error, with every
  field set (AWX renders 'EXAMPLE' for each) and tower.filename as the file injectors define it.
- inject_credential(): what AWX does at job start: empty inputs dropped, missing booleans false, each
  file injector rendered into a 0600 file under <private data dir>/env, referenced by the path the job
  sees, env injectors rendered into the job's environment, extra_vars rendered into a file passed as
  `-e @file`.
- validate_survey(): what the survey_spec endpoint refuses.
- survey_launch(): what AWX does with a launch's answers (awx/main/models/mixins.py, SurveyJobTemplateMixin:
  _update_unified_job_kwargs and _survey_element_validation): a default fills an unanswered question, a
  required question left without an answer or default refuses the launch, a multiple-choice answer must be
  one of the choices; extra variables beyond the survey pass only with ask_variables_on_launch.
- awx_collections_path(): ANSIBLE_COLLECTIONS_PATH as AWX builds it for a job.
- argspec()/validate_module_args(): an awx.awx module's own argument spec, taken from the module by
  calling its main() with the module class stubbed, and ansible's ArgumentSpecValidator over it.
"""
from __future__ import annotations

import importlib
import os
import re
import stat
import tempfile
from unittest import mock

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

NAME_RE = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
FILE_KEY_RE = re.compile(r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$")
EXTRA_VAR_KEY_RE = re.compile(r"^[a-zA-Z_{}]+[a-zA-Z0-9_{}]*$")
FIELD_KEYS = {"id", "label", "type", "format", "choices", "help_text", "multiline", "secret", "ask_at_runtime", "default"}
STRING_ONLY_KEYS = ("choices", "multiline", "format", "secret")
# awx/main/constants.py ENV_BLOCKLIST, plus every ANSIBLE_* name.
ENV_BLOCKLIST = frozenset((
    "VIRTUAL_ENV", "PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID", "INVENTORY_UPDATE_ID",
    "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN", "MAX_EVENT_RES", "CALLBACK_QUEUE", "CALLBACK_CONNECTION",
    "CACHE", "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS", "AWX_HOST", "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH",
))
SURVEY_TYPES = {"text": str, "textarea": str, "password": str, "multiplechoice": str, "multiselect": str,
                "integer": int, "float": (float, int)}


class AWXRejected(ValueError):
    """What AWX would answer with a 400 / a ValidationError."""


def _plain(value):
    """Ansible-loaded data (tagged strings, unsafe text) as plain Python values."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


# --- credential types ---------------------------------------------------------------------------------
def validate_credential_type(ct: dict) -> None:
    """Raise AWXRejected naming the offending field when AWX would refuse this custom credential type."""
    ct = _plain(ct)
    if ct.get("kind") not in ("cloud", "net"):
        raise AWXRejected("kind: custom credential types must be 'cloud' or 'net', not %r" % ct.get("kind"))
    inputs, injectors = ct.get("inputs") or {}, ct.get("injectors") or {}
    _validate_inputs(inputs)
    _validate_injectors(inputs, injectors)


def _validate_inputs(inputs: dict) -> None:
    if not isinstance(inputs, dict) or set(inputs) - {"fields", "required"}:
        raise AWXRejected("inputs: only 'fields' and 'required' are allowed (custom types have no 'dependencies')")
    required = inputs.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise AWXRejected("inputs.required: must be a list of strings")
    ids = []
    for i, field in enumerate(inputs.get("fields", [])):
        where = "inputs.fields[%d]" % i
        if not isinstance(field, dict):
            raise AWXRejected("%s: must be an object" % where)
        unknown = set(field) - FIELD_KEYS
        if unknown:
            raise AWXRejected("%s: unknown keys %s" % (where, sorted(unknown)))
        for key in ("id", "label"):
            if not isinstance(field.get(key), str):
                raise AWXRejected("%s.%s: required, a string" % (where, key))
        fid = field["id"]
        if not NAME_RE.match(fid):
            raise AWXRejected("%s.id: %s is an invalid variable name" % (where, fid))
        if fid == "tower":
            raise AWXRejected('%s.id: "tower" is a reserved field name' % where)
        if fid in ids:
            raise AWXRejected("%s.id: field IDs must be unique (%s)" % (where, fid))
        ids.append(fid)
        ftype = field.get("type", "string")
        if ftype not in ("string", "boolean"):
            raise AWXRejected("%s.type: must be string or boolean, not %r" % (where, ftype))
        for key in STRING_ONLY_KEYS:
            if key in field and ftype != "string":
                raise AWXRejected("%s.%s: not allowed for %s type (%s)" % (where, key, ftype, fid))
        if "format" in field and field["format"] not in ("ssh_private_key", "url"):
            raise AWXRejected("%s.format: must be ssh_private_key or url" % where)
        for key in ("multiline", "secret", "ask_at_runtime"):
            if key in field and not isinstance(field[key], bool):
                raise AWXRejected("%s.%s: must be a boolean" % (where, key))
        if "choices" in field:
            choices = field["choices"]
            if (not isinstance(choices, list) or not choices or not all(isinstance(c, str) for c in choices)
                    or len(set(choices)) != len(choices)):
                raise AWXRejected("%s.choices: a non-empty list of unique strings" % where)
        if "default" in field and not isinstance(field["default"], {"string": str, "boolean": bool}[ftype]):
            raise AWXRejected("%s.default: %r is not a %s" % (where, field["default"], ftype))
    # Not an AWX check, but a credential that can never be complete is a typo.
    missing = [r for r in required if r not in ids]
    if missing:
        raise AWXRejected("inputs.required: %s are not field ids" % missing)


class _Exploding:
    def __str__(self):
        raise UndefinedError("Must define unnamed file injector in order to reference `tower.filename`.")


class _TowerNamespace:
    def __init__(self):
        self.filename = _Exploding()

    def __str__(self):
        raise UndefinedError("Cannot directly reference reserved `tower` namespace container.")


def _validate_injectors(inputs: dict, injectors: dict) -> None:
    if not isinstance(injectors, dict) or set(injectors) - {"file", "env", "extra_vars"}:
        raise AWXRejected("injectors: only 'file', 'env' and 'extra_vars' are allowed")
    for key, tmpl in injectors.get("file", {}).items():
        if not FILE_KEY_RE.match(key) or not isinstance(tmpl, str):
            raise AWXRejected("injectors.file.%s: keys are template or template.<name>, values strings" % key)
    for key, tmpl in injectors.get("env", {}).items():
        if not NAME_RE.match(key) or not isinstance(tmpl, str) or not tmpl.isascii():
            raise AWXRejected("injectors.env.%s: an environment variable name with an ASCII string value" % key)
        if key.startswith("ANSIBLE_"):
            raise AWXRejected("injectors.env.%s: may affect Ansible configuration, not allowed in credentials" % key)
        if key in ENV_BLOCKLIST:
            raise AWXRejected("injectors.env.%s: not allowed to be used in credentials" % key)

    namespace = {f["id"]: "EXAMPLE" for f in inputs.get("fields", [])}
    tower = _TowerNamespace()
    names = [k for k in injectors.get("file", {}) if k.startswith("template")]
    if "template" in names:
        if len(names) > 1:
            raise AWXRejected("injectors.file: must use multi-file syntax when injecting multiple files")
        tower.filename = "EXAMPLE_FILENAME"
    elif names:
        # AWX sets the names on the exploding namespace: tower.filename alone still fails.
        for name in names:
            setattr(tower.filename, name.split(".", 1)[1], "EXAMPLE_FILENAME")
    namespace["tower"] = tower
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)

    def check(where, tmpl):
        try:
            env.from_string(tmpl).render(namespace)
        except UndefinedError as err:
            raise AWXRejected("injectors.%s uses an undefined field (%s)" % (where, err)) from err
        except SecurityError as err:
            raise AWXRejected("injectors.%s: unsafe code execution: %s" % (where, err)) from err
        except TemplateSyntaxError as err:
            raise AWXRejected("injectors.%s: template syntax error (%s)" % (where, err)) from err

    def walk(where, node):
        if isinstance(node, dict):
            for k, v in node.items():
                if not isinstance(k, str) or not EXTRA_VAR_KEY_RE.match(k):
                    raise AWXRejected("injectors.%s: %r is not a valid variable name" % (where, k))
                check("%s (a key)" % where, k)
                walk("%s.%s" % (where, k), v)
        elif isinstance(node, list):
            for i, x in enumerate(node):
                walk("%s[%d]" % (where, i), x)
        elif isinstance(node, str):
            check(where, node)
        else:
            raise AWXRejected("injectors.%s: extra_vars values are strings, lists or objects" % where)

    for kind in ("file", "env"):
        for key, tmpl in injectors.get(kind, {}).items():
            check("%s.%s" % (kind, key), tmpl)
    walk("extra_vars", injectors.get("extra_vars", {}))


def inject_credential(ct: dict, inputs: dict, private_data_dir: str, job_data_dir: str | None = None):
    """Do at job start what AWX does with a credential of this type.

    Files go into <private_data_dir>/env (0600), referenced by the path the job sees: job_data_dir is the
    private data directory as the job runs it (AWX: /runner in the execution environment; here the worker's
    directory). Returns (env, extra_vars_path or None); extra_vars_path is the job's view of the file.
    """
    ct, inputs = _plain(ct), _plain(inputs)
    job_data_dir = job_data_dir or private_data_dir
    fields = ct["inputs"].get("fields", [])
    namespace: dict = {}
    for name, value in inputs.items():
        if isinstance(value, bool):
            namespace[name] = value
        elif len(value):
            namespace[name] = value
    for field in fields:
        if field.get("type", "string") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
        if field.get("format") == "ssh_private_key" and field["id"] in namespace and not namespace[field["id"]].endswith("\n"):
            namespace[field["id"]] += "\n"
    tower = type("TowerNamespace", (), {})()
    namespace["tower"] = tower
    sandbox = ImmutableSandboxedEnvironment()
    envdir = os.path.join(private_data_dir, "env")
    os.makedirs(envdir, exist_ok=True)

    def job_path(path):
        return os.path.join(job_data_dir, os.path.relpath(path, private_data_dir))

    for label, tmpl in ct["injectors"].get("file", {}).items():
        data = sandbox.from_string(tmpl).render(**namespace)
        fd, path = tempfile.mkstemp(dir=envdir)
        with os.fdopen(fd, "w") as handle:
            handle.write(data)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." not in label:
            tower.filename = job_path(path)
        else:
            if not hasattr(tower, "filename"):
                tower.filename = type("TowerNamespace", (), {})()
            setattr(tower.filename, label.split(".", 1)[1], job_path(path))
    env = {}
    for name, tmpl in ct["injectors"].get("env", {}).items():
        if name.startswith("ANSIBLE_") or name in ENV_BLOCKLIST:
            continue  # AWX logs and ignores it
        env[name] = sandbox.from_string(tmpl).render(**namespace)

    def build(node):
        if isinstance(node, dict):
            return {build(k): build(v) for k, v in node.items()}
        if isinstance(node, list):
            return [build(x) for x in node]
        return sandbox.from_string(node).render(**namespace)

    extra_vars = build(ct["injectors"].get("extra_vars", {}))
    extra_path = None
    if extra_vars:
        fd, path = tempfile.mkstemp(dir=envdir)
        with os.fdopen(fd, "w") as handle:
            handle.write(yaml.safe_dump(extra_vars))
        os.chmod(path, stat.S_IRUSR)
        extra_path = job_path(path)
    return env, extra_path


# --- surveys ----------------------------------------------------------------------------------------
def validate_survey(spec: dict) -> None:
    """Raise AWXRejected where AWX's survey_spec endpoint answers 400."""
    spec = _plain(spec)
    for key, kind in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(spec.get(key), kind):
            raise AWXRejected("survey_spec.%s: required, a %s" % (key, kind.__name__))
    if not spec["spec"]:
        raise AWXRejected("survey_spec.spec: doesn't contain any items")
    seen = set()
    for i, q in enumerate(spec["spec"]):
        where = "survey_spec.spec[%d]" % i
        if not isinstance(q, dict):
            raise AWXRejected("%s: not an object" % where)
        for key in ("type", "question_name", "variable", "required"):
            if key not in q:
                raise AWXRejected("%s.%s: missing" % (where, key))
            if not isinstance(q[key], bool if key == "required" else str):
                raise AWXRejected("%s.%s: wrong type" % (where, key))
        if q["variable"] in seen:
            raise AWXRejected("%s.variable: %s duplicated" % (where, q["variable"]))
        seen.add(q["variable"])
        if q["type"] not in SURVEY_TYPES:
            raise AWXRejected("%s.type: %r is not one of %s" % (where, q["type"], ", ".join(SURVEY_TYPES)))
        if q.get("default", "") != "" and not isinstance(q["default"], SURVEY_TYPES[q["type"]]):
            raise AWXRejected("%s.default: %r is not a %s" % (where, q["default"], q["type"]))
        for key in ("min", "max"):
            if q.get(key) is not None and not isinstance(q[key], int):
                raise AWXRejected("%s.%s: expected an integer" % (where, key))
        if q["type"] in ("multiplechoice", "multiselect"):
            if "choices" not in q:
                raise AWXRejected("%s.choices: a %s question must list its choices" % (where, q["type"]))
            choices = q["choices"].splitlines() if isinstance(q["choices"], str) else q["choices"]
            defaults = q.get("default", "")
            defaults = [d for d in defaults.split("\n") if d] if q["type"] == "multiselect" else [defaults]
            bad = [d for d in defaults if d and d not in choices]
            if bad:
                raise AWXRejected("%s.default: %s not among the choices %s" % (where, bad, choices))


# --- job environment ---------------------------------------------------------------------------------
def survey_launch(template: dict, answers: dict) -> dict:
    """The extra variables a job of ``template`` gets for a launch with ``answers``; AWXRejected where AWX refuses."""
    template = _plain(template)
    spec = template.get("survey_spec", {}).get("spec", []) if template.get("survey_enabled") else []
    asked = {q["variable"] for q in spec}
    extra = sorted(set(answers) - asked)
    if extra and not template.get("ask_variables_on_launch"):
        raise AWXRejected("variables %s were not asked for on launch (ask_variables_on_launch is off)" % extra)
    values = dict(answers)
    errors = []
    for q in spec:
        var = q["variable"]
        if var not in values and q.get("default", "") != "":
            values[var] = q["default"]
        if var not in values or values[var] in ("", None):
            if q["required"]:
                errors.append("'%s' value missing" % var)
            continue
        if q["type"] == "multiplechoice":
            choices = q["choices"].splitlines() if isinstance(q["choices"], str) else q["choices"]
            if values[var] not in choices:
                errors.append("Value %s for '%s' expected to be one of %s." % (values[var], var, choices))
    if errors:
        raise AWXRejected("; ".join(errors))
    return values


def awx_collections_path(project_dir: str, job_data_dir: str) -> str:
    """ANSIBLE_COLLECTIONS_PATH as AWX sets it for a job: the project-sync folder first, then the project's
    ansible.cfg collections_path (as written there, relative to the project), then Ansible's defaults."""
    import configparser

    paths = ["~/.ansible/collections", "/usr/share/ansible/collections"]
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(project_dir, "ansible.cfg"))
    value = cfg.get("defaults", "collections_path", fallback=None) or cfg.get("defaults", "collections_paths", fallback=None)
    if value:
        paths = [value] + [p for p in paths if p != value]
    return os.pathsep.join([os.path.join(job_data_dir, "requirements_collections")] + paths)


# --- awx.awx module argument specs --------------------------------------------------------------------
class _Captured(Exception):
    pass


def argspec(module_name: str):
    """(argument_spec, constructor kwargs) of awx.awx.<module_name>, as the module builds them."""
    mod = importlib.import_module("ansible_collections.awx.awx.plugins.modules.%s" % module_name)
    api = importlib.import_module("ansible_collections.awx.awx.plugins.module_utils.controller_api")
    captured = {}

    def fake_init(self, argument_spec=None, **kwargs):
        captured["spec"], captured["kwargs"] = argument_spec, kwargs
        raise _Captured()

    with mock.patch.object(api.ControllerAPIModule, "__init__", fake_init):
        try:
            mod.main()
        except _Captured:
            pass
    if "spec" not in captured:
        raise RuntimeError("awx.awx.%s did not build a ControllerAPIModule" % module_name)
    spec = dict(api.ControllerModule.AUTH_ARGSPEC)
    spec.update(captured["spec"])
    return spec, captured["kwargs"], yaml.safe_load(mod.DOCUMENTATION)


def validate_module_args(module_name: str, params: dict) -> list:
    """Error messages of awx.awx.<module_name>'s own argument validation for these parameters."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    spec, kwargs, _doc = argspec(module_name)
    validator = ArgumentSpecValidator(spec, **{k: v for k, v in kwargs.items() if k in (
        "mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")})
    return list(validator.validate(_plain(params)).error_messages)


def doc_suboptions_spec(options: dict) -> dict:
    """An argument spec from a module's documented suboptions (for values the code types only as dict)."""
    spec = {}
    for name, opt in options.items():
        entry = {k: opt[k] for k in ("type", "elements", "choices", "required", "aliases") if k in opt}
        if "suboptions" in opt:
            entry["options"] = doc_suboptions_spec(opt["suboptions"])
        spec[name] = entry
    return spec
