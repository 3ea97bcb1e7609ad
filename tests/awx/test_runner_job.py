# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""site.yml run the way AWX runs a job, on the container lab (4 storage nodes + 1 client, inventories/local).

AWX builds a private data directory and runs it with ansible-runner as a worker; this test does the same
without the AWX server (which cannot be installed here) and without an execution-environment container:

- project/     `git archive HEAD`: what a project sync checks out (no .cache, no venv, no tools/venv.sh run)
- inventory/   an executable script printing the inventory JSON with _meta.hostvars, as AWX writes it
               (from the project's inventories/local, as an SCM inventory source would import it)
- env/envvars  the job's environment: ANSIBLE_COLLECTIONS_PATH as AWX builds it, and the HEKETI_CLI_*
               variables the "Heketi API" credential injects (awx_rules.inject_credential, rendered the AWX way)
- env/extravars  the job template's extra variables (heketi_binaries_src: this lab's Heketi build;
               storageclass_render_dir: no Kubernetes here, the manifests are rendered)
- env/cmdline  `-e @<file>`: the credential's extra_vars file, as AWX passes it
- a file injector's file lands under env/ (0600), referenced by the path the worker sees

and runs `ansible-runner transmit | ansible-runner worker | ansible-runner process` twice on one lab.
Asserted from the runner's artifacts: status successful and rc 0 both times, changed=0 on every host the
second time, the credential's key is the key Heketi runs with, and the key appears nowhere in the output.

Not proven here: project sync from a git server (the collections/requirements.yml install needs Galaxy;
the dependency collections come from the `ansible` package, as they would from the execution environment),
inventory sync, RBAC, surveys in the UI, the execution-environment container.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import awx_rules  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LAB = os.environ.get("AWX_JOB_LAB", "awxjob%d" % (os.getpid() % 1000))
HEKETI_BIN = ROOT / ".cache" / "heketi" / "bin"


def run(cmd, **kwargs):
    kwargs.setdefault("timeout", 1800)
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)


@pytest.fixture(scope="module")
def lab():
    if not (HEKETI_BIN / "heketi").exists():
        proc = run([str(ROOT / "tools" / "build-heketi.sh")])
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    proc = run([str(ROOT / "tools" / "lab" / "lab"), "up", "--name", LAB, "--nodes", "4", "--client"])
    try:
        assert proc.returncode == 0, proc.stderr[-3000:]
        yield LAB
    finally:
        run([str(ROOT / "tools" / "lab" / "lab"), "down", "--name", LAB])


def container_ip(name):
    proc = run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name])
    assert proc.returncode == 0 and proc.stdout.strip(), proc.stderr
    return proc.stdout.strip()


def write_inventory_script(project: Path, inventory_dir: Path, env: dict):
    """The project's inventories/local as AWX imports an inventory source (ansible-inventory --list --export:
    group variables stay on their groups, so the implicit localhost gets those of `all`) and hands it to a
    job: a script printing that JSON."""
    proc = run([str(BIN / "ansible-inventory"), "-i", str(project / "inventories" / "local"), "--list", "--export"],
               cwd=project, env=env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    inventory_dir.mkdir()
    script = inventory_dir / "hosts"
    script.write_text("#!%s\nimport json\nprint(json.dumps(%s))\n" % (sys.executable, repr(data)))
    script.chmod(0o700)


@pytest.fixture(scope="module")
def job(lab):
    """A private data directory for site.yml; yields a function running it as one AWX job.

    Its own temporary folder, not pytest's tmp_path: pytest keeps only the newest three base folders, and
    another pytest session started meanwhile would remove this one under the running job."""
    base = Path(tempfile.mkdtemp(prefix="glusterfs-heketi-awxjob-"))
    pdd, worker = base / "pdd", base / "worker"
    project = pdd / "project"
    project.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(project)], input=archive, check=True)
    assert (project / "collections" / "ansible_collections" / "glusterfs" / "heketi").is_symlink()
    assert not (project / ".cache").exists()

    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "HEKETI_", "KUBECONFIG"))}
    base_env["PATH"] = "%s:%s" % (BIN, base_env.get("PATH", "/usr/bin:/bin"))
    # The lab's name and folder are read when the inventory is (inventories/local/lab.constructed.yml): AWX
    # passes them to the import as the inventory source's environment variables.
    write_inventory_script(project, pdd / "inventory",
                           dict(base_env, LAB_NAME=lab, LAB_DIR=str(ROOT / ".cache" / "lab" / lab)))

    data = yaml.safe_load((ROOT / "awx" / "controller.yml").read_text().replace("!unsafe ", ""))
    (ct,) = data["heketi_awx_credential_types"]
    key = secrets.token_urlsafe(24)
    inputs = {"url": "http://%s:8080" % container_ip("%s-node1" % lab), "user": "admin", "key": key, "ca_cert": ""}
    cred_env, cred_extra = awx_rules.inject_credential(ct, inputs, str(pdd), str(worker))

    # The job's inventory is a copy elsewhere: LAB_DIR names the lab's folder (its ssh key, known_hosts and
    # addresses), as a site's AWX machine credential would carry the key.
    env = dict(cred_env, LAB_NAME=lab, LAB_DIR=str(ROOT / ".cache" / "lab" / lab), KUBECONFIG="", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_COLLECTIONS_PATH=awx_rules.awx_collections_path(str(project), str(worker)))
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(env))
    # No Kubernetes here: the StorageClass stage renders its manifests, into a folder that outlives the
    # job's private data directory (as a site would point it at), so the second job finds them unchanged.
    # The credential reaches Heketi over http: this test proves AWX's job pipeline and the credential's
    # injection; TLS end to end (the lab inventory's heketi_tls) is proven by extensions/molecule/e2e and
    # tests/integration/test_heketi_role.py, where the CA the role creates is known before the client runs.
    extravars = {"heketi_binaries_src": str(HEKETI_BIN), "storageclass_render_dir": str(base / "rendered"),
                 "heketi_tls": False}
    (pdd / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    (pdd / "env" / "cmdline").write_text("-e @%s" % cred_extra)

    def run_job(ident):
        shutil.rmtree(worker, ignore_errors=True)
        runner = str(BIN / "ansible-runner")
        transmit = subprocess.Popen([runner, "transmit", str(pdd), "-p", "site.yml", "--ident", ident],
                                    stdout=subprocess.PIPE, env=base_env)
        with open(base / ("worker-%s.log" % ident), "w") as worker_log:
            work = subprocess.Popen([runner, "worker", "--private-data-dir", str(worker)], stdin=transmit.stdout,
                                    stdout=subprocess.PIPE, stderr=worker_log, env=base_env)
            transmit.stdout.close()
            process = subprocess.run([runner, "process", str(pdd), "--ident", ident], stdin=work.stdout,
                                     capture_output=True, text=True, env=base_env, timeout=2400, check=False)
            work.stdout.close()
            # The worker exits with the playbook's rc: judged from the artifacts below.
            assert transmit.wait(60) == 0
            work.wait(60)
        artifacts = pdd / "artifacts" / ident
        events = [json.loads(p.read_text()) for p in sorted((artifacts / "job_events").glob("*.json"))]
        stats = [e for e in events if e.get("event") == "playbook_on_stats"]
        return {"status": (artifacts / "status").read_text().strip(), "rc": (artifacts / "rc").read_text().strip(),
                "stdout": (artifacts / "stdout").read_text(), "events": events,
                "stats": stats[-1]["event_data"] if stats else {}, "process": process}

    run_job.key, run_job.url = key, inputs["url"]
    yield run_job
    if os.environ.get("AWX_JOB_KEEP"):
        print("kept the job's folders: %s" % base)
    else:
        shutil.rmtree(base, ignore_errors=True)


def summary(result):
    tail = result["stdout"][-4000:]
    return "status %s rc %s\n%s" % (result["status"], result["rc"], tail)


def test_site_yml_as_an_awx_job_twice(job, lab):
    first = job("first")
    assert first["status"] == "successful" and first["rc"] == "0", summary(first)
    ok = first["stats"]["ok"]
    assert set(ok) >= {"node1", "node2", "node3", "node4", "k8s-node01", "localhost"}, first["stats"]
    assert sum(first["stats"]["changed"].values()) > 0

    # The credential's key is the key Heketi runs with (the heketi role took it), and the topology was
    # loaded at the credential's URL (topology_heketi_url, from the job's side: topology_delegate_to).
    proc = run(["docker", "exec", "%s-node1" % lab, "cat", "/etc/heketi/heketi.json"])
    assert json.loads(proc.stdout)["jwt"]["admin"]["key"] == job.key
    assert "Heketi at %s: 1 cluster(s), 4 node(s), 8 device(s) (8 online)" % job.url in first["stdout"], summary(first)

    second = job("second")
    assert second["status"] == "successful" and second["rc"] == "0", summary(second)
    changed = {h: n for h, n in second["stats"]["changed"].items() if n}
    assert not changed, "second run changed something: %s\n%s" % (changed, summary(second))

    for result in (first, second):
        assert job.key not in result["stdout"]
        assert all(job.key not in json.dumps(e) for e in result["events"])
