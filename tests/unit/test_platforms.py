# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every supported platform as data: what glusterfs_server and glusterfs_repository choose on each.

Only Debian can be converged on these machines, so EL7, EL8, EL9 and Ubuntu are checked here as data.
The variables are loaded the way the roles load them: defaults/main.yml, vars/main.yml, then the first
file of the candidate list written in the role's own tasks/preflight.yml (first_found) that exists,
rendered with Jinja2 against the platform's facts until no template is left. The assertions name the
packages, repositories, services and firewall backend each platform gets.
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import jinja2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "roles"
sys.path.insert(0, str(ROOT / "plugins" / "filter"))
from os_vars_files import os_vars_files  # noqa: E402  (the collection's one OS-vars rule, as the roles call it)

# distribution, os_family, major, release codename, architecture
PLATFORMS = {
    "el7": ("CentOS", "RedHat", "7", "Core", "x86_64"),
    "el8": ("Rocky", "RedHat", "8", "Green Obsidian", "x86_64"),
    "el9": ("AlmaLinux", "RedHat", "9", "Teal Serval", "x86_64"),
    "debian12": ("Debian", "Debian", "12", "bookworm", "x86_64"),
    "ubuntu2204": ("Ubuntu", "Debian", "22", "jammy", "x86_64"),
    "ubuntu2404": ("Ubuntu", "Debian", "24", "noble", "aarch64"),
}


def _facts(platform):
    distribution, os_family, major, release, arch = PLATFORMS[platform]
    return {
        "distribution": distribution,
        "os_family": os_family,
        "distribution_major_version": major,
        "distribution_version": major,
        "distribution_release": release,
        "architecture": arch,
        "service_mgr": "systemd",
    }


def _load(path):
    return yaml.safe_load(path.read_text()) or {}


def _candidates(role, facts):
    """The vars files the role's 'Load the OS-specific data' task looks for (the collection's os_vars_files rule)."""
    for tasks_file in ("preflight.yml", "main.yml"):
        for task in _load(ROLES / role / "tasks" / tasks_file):
            if task.get("name") == "Load the OS-specific data":
                spec = task["ansible.builtin.include_vars"]
                assert "glusterfs.heketi.os_vars_files" in (spec["file"] if isinstance(spec, dict) else spec), role
                return os_vars_files(facts)
    raise AssertionError(f"{role}: no 'Load the OS-specific data' task")


def _render(value, variables, env):
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return value
        try:
            with warnings.catch_warnings():
                # Ansible hands regex backslashes ('\S') to the filters as written; plain Jinja2 warns on them
                warnings.simplefilter("ignore", DeprecationWarning)
                return env.from_string(value).render(**variables)
        except jinja2.TemplateError:
            return value  # lazily, as Ansible: a later registered result or an Ansible-only filter stays unrendered
    if isinstance(value, list):
        return [_render(v, variables, env) for v in value]
    if isinstance(value, dict):
        return {k: _render(v, variables, env) for k, v in value.items()}
    return value


def load_role(role, platform, overrides=None):
    """Variables of ROLE on PLATFORM, plus the name of the OS file first_found picked."""
    facts = _facts(platform)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    variables = {"ansible_facts": facts, "role_path": str(ROLES / role)}
    variables.update(_load(ROLES / role / "defaults" / "main.yml"))
    variables.update(_load(ROLES / role / "vars" / "main.yml"))
    variables.update(overrides or {})
    chosen = None
    for name in _candidates(role, facts):
        if (ROLES / role / "vars" / name).is_file():
            chosen = name
            break
    assert chosen, f"{role}: no vars file for {platform}"
    variables.update(_load(ROLES / role / "vars" / chosen))
    variables.update(overrides or {})
    for _attempt in range(5):  # templates that name other templated variables
        rendered = {k: _render(v, variables, env) for k, v in variables.items() if k != "ansible_facts"}
        rendered["ansible_facts"] = facts
        if rendered == variables:
            break
        variables = rendered
    variables["__file"] = chosen
    return variables


def server(platform, **overrides):
    return load_role("glusterfs_server", platform, overrides)


def repository(platform, **overrides):
    return load_role("glusterfs_repository", platform, overrides)


def _supported(variables, prefix, platform):
    facts = _facts(platform)
    table = variables[f"__{prefix}_supported"]
    return facts["distribution_major_version"] in table.get(variables[f"__{prefix}_platform"].strip(), [])


# --- every platform is supported, by both roles, from its own file -----------------------------------

EXPECTED_FILE = {
    "el7": "RedHat_7.yml", "el8": "RedHat_8.yml", "el9": "RedHat_9.yml",
    "debian12": "Debian_12.yml", "ubuntu2204": "Ubuntu_22.yml", "ubuntu2404": "Ubuntu_24.yml",
}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
@pytest.mark.parametrize("role, prefix", [("glusterfs_server", "glusterfs_server"), ("glusterfs_repository", "glusterfs_repository")])
def test_platform_is_supported_with_its_own_file(platform, role, prefix):
    variables = load_role(role, platform)
    assert _supported(variables, prefix, platform)
    assert variables["__file"] == EXPECTED_FILE[platform]


def test_unsupported_platforms_are_refused():
    for facts_platform, major in (("debian12", "11"), ("ubuntu2204", "20"), ("el9", "6")):
        variables = server(facts_platform)
        table = variables["__glusterfs_server_supported"]
        assert major not in table[variables["__glusterfs_server_platform"].strip()]


# --- packages and package managers --------------------------------------------------------------------

@pytest.mark.parametrize("platform, pkg_mgr, os_packages", [
    ("el7", "yum", ["device-mapper-persistent-data"]),
    ("el8", "dnf", ["device-mapper-persistent-data"]),
    ("el9", "dnf", ["device-mapper-persistent-data"]),
    ("debian12", "apt", ["thin-provisioning-tools"]),
    ("ubuntu2204", "apt", ["thin-provisioning-tools"]),
    ("ubuntu2404", "apt", ["thin-provisioning-tools"]),
])
def test_server_packages(platform, pkg_mgr, os_packages):
    variables = server(platform)
    assert variables["__glusterfs_server_pkg_mgr"] == pkg_mgr
    assert repository(platform)["__glusterfs_repository_pkg_mgr"] == pkg_mgr
    packages = variables["__glusterfs_server_packages_common"] + variables["__glusterfs_server_packages_os"]
    for package in ["glusterfs-server", "lvm2", "xfsprogs", "openssh-server", "util-linux"] + os_packages:
        assert package in packages
    assert len(packages) == len(set(packages))


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_service_is_glusterd(platform):
    assert server(platform)["__glusterfs_server_service"] == "glusterd"


# --- firewall backend ---------------------------------------------------------------------------------

@pytest.mark.parametrize("platform, backends", [
    ("el7", ["firewalld"]), ("el8", ["firewalld"]), ("el9", ["firewalld"]),
    ("debian12", ["firewalld", "ufw"]), ("ubuntu2204", ["ufw"]), ("ubuntu2404", ["ufw"]),
])
def test_firewall_backend(platform, backends):
    assert server(platform)["__glusterfs_server_firewall_backends"] == backends


def test_firewall_task_looks_only_at_the_platform_backends():
    """configure.yml hands the platform's backends (vars/) to glusterfs.heketi.firewall_sources, which probes
    only those (tests/unit/plugins/modules/test_firewall_sources.py)."""
    task = next(t for t in _load(ROLES / "glusterfs_server" / "tasks" / "configure.yml")
                if t["name"] == "Open the GlusterFS ports in the active firewall")
    args = task["glusterfs.heketi.firewall_sources"]
    assert args["backends"] == "{{ __glusterfs_server_firewall_backends }}"
    assert args["ports"] == "{{ glusterfs_server_firewall_ports }}"


# --- repositories -------------------------------------------------------------------------------------

def test_el7_repositories_point_at_the_vault():
    variables = repository("el7")
    vault = variables["glusterfs_repository_el7_vault_url"]
    assert vault == "https://vault.centos.org/7.9.2009"
    assert variables["glusterfs_repository_el7_vault"] is True
    assert [r["name"] for r in variables["__glusterfs_repository_el7_os_repos"]] == ["base", "updates", "extras"]
    assert [r["path"] for r in variables["__glusterfs_repository_el7_os_repos"]] == ["os", "updates", "extras"]
    assert variables["__glusterfs_repository_el7_os_repo_file"] == "CentOS-Base"
    sig = variables["__glusterfs_repository_el7_sig_repo"]
    assert sig["name"] == "centos-gluster9"
    assert sig["file"] == "CentOS-Gluster-9"
    assert sig["path"] == "storage/$basearch/gluster-9"
    assert sig["gpgkey"].endswith("RPM-GPG-KEY-CentOS-SIG-Storage")
    assert variables["__glusterfs_repository_release_packages"] == ["centos-release-gluster9"]
    assert variables["__glusterfs_repository_crb_repo"] == ""
    # glusterfs_repository_version (EL8/9) does not move EL7 off the last stream built for it
    assert repository("el7", glusterfs_repository_version="11")["__glusterfs_repository_release_packages"] == ["centos-release-gluster9"]


def test_el7_vault_urls_as_the_tasks_build_them():
    variables = repository("el7")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    el_tasks = [t for t in _load(ROLES / "glusterfs_repository" / "tasks" / "repositories_el.yml")
                if "ansible.builtin.yum_repository" in t]
    os_task, sig_task = el_tasks
    urls = [env.from_string(os_task["ansible.builtin.yum_repository"]["baseurl"]).render(item=item, **variables)
            for item in variables["__glusterfs_repository_el7_os_repos"]]
    assert urls == [f"https://vault.centos.org/7.9.2009/{p}/$basearch/" for p in ("os", "updates", "extras")]
    sig_url = env.from_string(sig_task["ansible.builtin.yum_repository"]["baseurl"]).render(**variables)
    assert sig_url == "https://vault.centos.org/7.9.2009/storage/$basearch/gluster-9/"
    assert "mirror.centos.org" not in str(variables)


@pytest.mark.parametrize("platform, release, crb", [
    ("el8", "centos-release-gluster10", "powertools"),
    ("el9", "centos-release-gluster10", "crb"),
])
def test_el8_el9_storage_sig(platform, release, crb):
    variables = repository(platform)
    assert variables["__glusterfs_repository_release_packages"] == [release]
    assert variables["__glusterfs_repository_crb_repo"] == crb
    assert "__glusterfs_repository_el7_os_repos" not in variables
    # the pinned major follows the version the calling role passes
    assert repository(platform, glusterfs_repository_version="11")["__glusterfs_repository_release_packages"] == ["centos-release-gluster11"]


@pytest.mark.parametrize("platform, kind, prerequisites", [
    ("debian12", "download", ["ca-certificates", "python3-debian"]),
    ("ubuntu2204", "ppa", ["ca-certificates", "gnupg"]),
    ("ubuntu2404", "ppa", ["ca-certificates", "gnupg"]),
])
def test_debian_ubuntu_use_distribution_packages_by_default(platform, kind, prerequisites):
    variables = repository(platform)
    assert variables["glusterfs_repository_source"] == "distribution"
    assert variables["__glusterfs_repository_release_packages"] == []
    assert variables["__glusterfs_repository_crb_repo"] == ""
    assert variables["__glusterfs_repository_upstream_kind"] == kind
    assert variables["__glusterfs_repository_apt_prerequisites"] == prerequisites


def test_upstream_sources_as_the_tasks_build_them():
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    configure = _load(ROLES / "glusterfs_repository" / "tasks" / "repositories_upstream_apt.yml")
    deb822 = next(t for t in configure if "ansible.builtin.deb822_repository" in t)["ansible.builtin.deb822_repository"]
    ppa = next(t for t in configure if "ansible.builtin.apt_repository" in t)["ansible.builtin.apt_repository"]
    debian = repository("debian12", glusterfs_repository_source="upstream", glusterfs_repository_version="11")
    uris = env.from_string(deb822["uris"]).render(**debian).strip()
    assert uris == "https://download.gluster.org/pub/gluster/glusterfs/11/LATEST/Debian/12/amd64/apt"
    assert env.from_string(deb822["suites"]).render(**debian) == "bookworm"
    assert env.from_string(deb822["signed_by"]).render(**debian) == "https://download.gluster.org/pub/gluster/glusterfs/11/rsa.pub"
    noble = repository("ubuntu2404", glusterfs_repository_source="upstream")
    assert env.from_string(ppa["repo"]).render(**noble) == "ppa:gluster/glusterfs-10"
    assert env.from_string(ppa["codename"]).render(**noble) == "noble"


# --- the other roles' platform data (clients, Heketi) ----------------------------------------------

@pytest.mark.parametrize("platform, pkg_mgr, package", [
    ("el7", "yum", "glusterfs-fuse"), ("el8", "dnf", "glusterfs-fuse"), ("el9", "dnf", "glusterfs-fuse"),
    ("debian12", "apt", "glusterfs-client"), ("ubuntu2204", "apt", "glusterfs-client"), ("ubuntu2404", "apt", "glusterfs-client"),
])
def test_client_packages(platform, pkg_mgr, package):
    variables = load_role("glusterfs_client", platform, {"glusterfs_server_version": "10"})
    assert variables["__glusterfs_client_pkg_mgr"] == pkg_mgr
    assert package in variables["__glusterfs_client_packages_os"]


@pytest.mark.parametrize("platform, method", [
    ("el7", "package"), ("el8", "package"), ("el9", "package"),
    ("debian12", "archive"), ("ubuntu2204", "archive"), ("ubuntu2404", "archive"),
])
def test_heketi_install_method(platform, method):
    variables = load_role("heketi", platform)
    assert variables["__heketi_install_method_default"] == method
    if method == "package":
        assert {"heketi", "heketi-client"} <= set(variables["__heketi_packages"])
    else:
        # GitHub release archives exist up to v10.4.0; without a pinned checksum the role refuses to download
        assert "/v10.4.0/heketi-v10.4.0-release-10.linux.amd64.tar.gz" in variables["heketi_archive_url"]
        assert variables["heketi_archive_checksum"] == ""


# --- ansible-core lines and pins ----------------------------------------------------------------------

@pytest.mark.parametrize("platform, needs_216", [
    ("el7", True), ("el8", True), ("el9", False), ("debian12", False), ("ubuntu2204", False), ("ubuntu2404", False),
])
def test_ansible_core_line(platform, needs_216):
    variables = repository(platform)
    facts = _facts(platform)
    old = facts["os_family"] == "RedHat" and facts["distribution_major_version"] in variables["__glusterfs_repository_old_python_majors"]
    assert old == needs_216


def test_versions_are_pinned_once():
    """The GlusterFS major defaults of the roles that pass it on equal the repository role's pin."""
    pin = _load(ROLES / "glusterfs_repository" / "defaults" / "main.yml")["glusterfs_repository_version"]
    assert _load(ROLES / "glusterfs_server" / "defaults" / "main.yml")["glusterfs_server_version"] == pin
    client = _load(ROLES / "glusterfs_client" / "defaults" / "main.yml")["glusterfs_client_version"]
    assert client == pin or f"default('{pin}')" in client
    # no role hard-codes a release package name of its own for EL 8/9 besides the repository role
    for role in ("glusterfs_server", "glusterfs_client"):
        for path in [*(ROLES / role / "tasks").glob("*.yml"), *(ROLES / role / "vars").glob("*.yml")]:
            assert "centos-release-gluster" not in path.read_text(), path
        install = (ROLES / role / "tasks" / "install.yml").read_text()
        assert "name: glusterfs.heketi.glusterfs_repository" in install, role
    heketi_install = (ROLES / "heketi" / "tasks" / "install.yml").read_text()
    assert "name: glusterfs.heketi.glusterfs_repository" in heketi_install
    assert f"glusterfs_server_version | default('{pin}')" in heketi_install
    assert "centos-release-gluster" not in (ROLES / "heketi" / "vars" / "RedHat.yml").read_text()


def test_argument_specs_match_defaults():
    role = ROLES / "glusterfs_repository"
    options = _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = _load(role / "defaults" / "main.yml")
    assert set(options) == set(defaults)
    for name, spec in options.items():
        assert spec["default"] == defaults[name], name
