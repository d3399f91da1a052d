"""Whole runs on lab hosts: check mode touches nothing, hosts in parallel, failures isolated, host keys strict."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from tests.e2e.conftest import ADMIN, H1, H2, H3
from tests.e2e.helpers import STATE_DUMP, PlanRole, apply, apply_one, invoke, lab_host, sh, summary
from vpskit.inventory.model import Var
from tests.e2e.paths import PROJECT_ROOT
from vpskit.report import Reporter
from vpskit.resources import CronJob, Directory, File, Packages, Service, Sysctl, User
from vpskit.runner import RunOptions, run_roles


def small_plan(tag: str) -> list:
    return [
        Packages(["tree"]),
        Directory(f"/srv/{tag}"),
        File(f"/srv/{tag}/hello.txt", content=f"hello from {tag}\n"),
        File("/etc/systemd/system/runs-e2e.service",
             content="[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n"),
        Service("runs-e2e.service"),
        User("runsuser", groups=["sudo"]),
        Sysctl({"net.ipv4.conf.all.send_redirects": 0}, path="/etc/sysctl.d/91-runs.conf"),
        CronJob("runs", "@hourly", "/bin/true"),
    ]


def test_check_mode_leaves_the_host_byte_for_byte_unchanged(lab):
    host = lab_host(lab, H2)
    before = sh(lab, H2, STATE_DUMP).stdout
    result = apply_one(host, small_plan("check"), check=True)
    after = sh(lab, H2, STATE_DUMP).stdout
    assert result.error is None
    assert summary(result)["changed"] == len(small_plan("check"))
    assert before == after
    assert result.commands == 1  # nothing but the fact batch


def test_hosts_run_in_parallel_and_converge(lab):
    hosts = [lab_host(lab, n) for n in (H1, H2, H3)]
    first = apply(hosts, small_plan("par"))
    assert [r.error for r in first] == [None, None, None]
    # everything but the package (test1 may have it from other tests) is new on every host
    assert all(s.status == "changed" for r in first for s in r.steps if not s.title.startswith("packages"))
    second = apply(hosts, small_plan("par"))
    assert all(summary(r)["changed"] == 0 and r.commands == 1 for r in second)


def test_an_unreachable_host_fails_alone(lab):
    hosts = [lab_host(lab, n) for n in (H1, H3)]
    ghost = lab_host(lab, H2, vpskit_connect_timeout=2, vpskit_connect_retries=0)
    ghost.name = "ghost"
    ghost.vars["vpskit_host"] = Var(f"{lab.subnet_prefix}.250", "test")  # on the lab bridge, nobody home
    results = {r.name: r for r in apply([hosts[0], ghost, hosts[1]], [File("/srv/alone.txt", content="x\n")])}
    assert results["ghost"].unreachable and "cannot connect" in results["ghost"].error
    assert results[H1].error is None and results[H3].error is None
    assert sh(lab, H3, "cat /srv/alone.txt").stdout == "x\n"


def test_unknown_host_key_is_refused_unless_trusted(lab, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("")
    host = lab_host(lab, H3, vpskit_known_hosts=str(known))
    refused = apply_one(host, [File("/srv/trust.txt", content="t\n")])
    assert refused.unreachable and "not in known_hosts" in refused.error and "--trust-new-hosts" in refused.error
    assert sh(lab, H3, "test -e /srv/trust.txt; echo $?").stdout.strip() == "1"
    trusted = run_roles([host], [PlanRole("t", [File("/srv/trust.txt", content="t\n")])],
                        RunOptions(trust_new_hosts=True), Reporter(stream=io.StringIO()))[0]
    assert trusted.error is None
    assert lab.load_state().hosts[H3].address in known.read_text()
    assert apply_one(host, [File("/srv/trust.txt", content="t\n")]).error is None  # now known, no flag needed


def test_a_changed_host_key_is_refused(lab, tmp_path):
    other_key = (lab.state_dir / f"{H1}.hostkey").read_text().split(" ", 1)[1]
    address = lab.load_state().hosts[H3].address
    known = tmp_path / "known_hosts"
    known.write_text(f"{address} {other_key}")
    result = apply_one(lab_host(lab, H3, vpskit_known_hosts=str(known)), [File("/srv/k.txt", content="k\n")])
    assert result.unreachable and "does not match known_hosts" in result.error


def test_cli_bootstrap_check_drift_and_json(lab, lab_inventory, tmp_path):
    inv = str(lab_inventory)
    first = invoke("bootstrap", "-i", inv, "--limit", H1)
    assert first.returncode == 0, first.stdout + first.stderr
    report = tmp_path / "r.json"
    second = invoke("bootstrap", "-i", inv, "--limit", H1, "--json", str(report))
    assert second.returncode == 0, second.stdout + second.stderr
    data = json.loads(report.read_text())
    test1 = data["hosts"][H1]
    assert test1["summary"]["changed"] == 0 and test1["commands"] == 1 and test1["fact_batches"] == 1
    assert invoke("check", "-i", inv, "--limit", H1).returncode == 0
    sh(lab, H1, "rm /etc/timezone", ADMIN)  # bootstrap turned root login off
    drift = invoke("check", "-i", inv, "--limit", H1)
    assert drift.returncode == 2 and "would change" in drift.stdout
    assert sh(lab, H1, "test -e /etc/timezone; echo $?", ADMIN).stdout.strip() == "1"  # check changed nothing
    assert invoke("bootstrap", "-i", inv, "--limit", H1).returncode == 0
    assert invoke("check", "-i", inv, "--limit", H1).returncode == 0


def test_cli_masks_secrets_in_diffs_and_inventory(lab, lab_inventory, tmp_path, monkeypatch):
    secret = "s3cr3t-value-for-e2e"
    env = {"VPSKIT_E2E_SECRET": secret}
    inv_dir = tmp_path / "inv"
    inv_dir.mkdir()
    (inv_dir / "hosts.yml").write_text(lab_inventory.read_text().replace(
        "vpskit_user: root", "vpskit_user: root\n        backup_password: !env VPSKIT_E2E_SECRET"))
    shown = subprocess.run([sys.executable, "-m", "invoke", "inventory", "-i", str(inv_dir / "hosts.yml")],
                           cwd=PROJECT_ROOT, capture_output=True, text=True, env={**os.environ, **env})
    assert shown.returncode == 0, shown.stderr
    assert "backup_password" in shown.stdout and secret not in shown.stdout


def test_bad_inventory_changes_nothing(lab, tmp_path):
    bad = tmp_path / "hosts.yml"
    bad.write_text("all:\n  hosts:\n    test1:\n      base_timezon: Europe/Paris\n")
    result = invoke("bootstrap", "-i", str(bad))
    assert result.returncode == 1
    assert "hosts.yml:4: unknown variable 'base_timezon'; did you mean 'base_timezone'?" in result.stderr


def test_facts_task_prints_host_facts_in_one_round_trip(lab, lab_inventory):
    shown = invoke("facts", H2, "-i", str(lab_inventory))
    assert shown.returncode == 0, shown.stderr
    facts = json.loads(shown.stdout)
    assert facts["codename"] == "bookworm" and facts["container"] is True and facts["openssh_version"][0] >= 9


def test_a_service_that_writes_a_file_as_it_starts_is_seen_by_the_next_step(lab):
    host = lab_host(lab, H3)
    unit = ("[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'echo started > /run/fresh-e2e'\n"
            "[Install]\nWantedBy=multi-user.target\n")
    plan = [File("/etc/systemd/system/fresh-e2e.service", content=unit), Service("fresh-e2e.service"),
            File("/run/fresh-e2e", content="started\n")]
    steps = {s.title: s.status for s in apply_one(host, plan).steps}
    # the facts gathered before the start said the file was absent; the start made them stale
    assert steps["service fresh-e2e.service"] == "changed" and steps["file /run/fresh-e2e"] == "ok", steps


def test_a_run_shows_its_plays_and_json_lists_them(lab, lab_inventory, tmp_path):
    report = tmp_path / "plays.json"
    run = invoke("base", "-i", str(lab_inventory), "--limit", H3, "--check", "--json", str(report))
    assert run.returncode in (0, 2), run.stdout[-2000:] + run.stderr
    assert "PLAY harden" in run.stdout
    data = json.loads(report.read_text())
    assert data["plays"][0]["name"] == "harden" and data["plays"][0]["hosts"] == [H3]
    assert {s["play"] for s in data["hosts"][H3]["steps"]} == {"harden"}
