"""The monitoring role on a lab host with the fake K3s: manifests written to the auto-deploy folder, the chart
waited for, a second run that changes nothing, a deleted manifest seen by `check` and restored, secrets never
printed, and the stack switched off again."""

from __future__ import annotations

import base64
import json
import os

import pytest
import yaml

from tests.e2e.helpers import invoke, sh
from tests.e2e.test_k3s import SINGLE, inventory, mirror  # noqa: F401 (mirror: the fixture, shared)
from tests.unit.audit.test_fake_objects import as_written
from tests.unit.audit.workloads import listed

PASSWORD = "grafana-e2e-Secret-7311"
HOOK_URL = "http://10.0.0.9:9000/hook-token-e2e-5521"
MANIFESTS = "/var/lib/rancher/k3s/server/manifests"
ROLES = "k3s,monitoring"  # the k3s first-server play holds both; hardening is tested elsewhere


@pytest.fixture(scope="module")
def stack(lab, mirror, tmp_path_factory):  # noqa: F811
    folder = tmp_path_factory.mktemp("stack")
    path = inventory(lab, folder, mirror, {"k3s_servers": [SINGLE]}, k3s_kubeconfig_path=str(folder / "kubeconfig"),
                     monitoring_enabled=True, monitoring_wait_timeout=120)
    text = open(path).read().replace("  vars:\n", "  vars:\n"
                                     "    monitoring_grafana_admin_password: !env VPSKIT_E2E_GRAFANA\n"
                                     "    monitoring_receivers:\n"
                                     "      - {type: webhook, url: !env VPSKIT_E2E_HOOK}\n", 1)
    open(path, "w").write(text)
    os.environ.update(VPSKIT_E2E_GRAFANA=PASSWORD, VPSKIT_E2E_HOOK=HOOK_URL)
    # the base role installs curl on a bootstrapped host; here only the k3s play runs
    apt = "timeout 300 apt-get -o Acquire::Retries=3 -o Acquire::http::Timeout=30"
    ready = sh(lab, SINGLE, f"command -v curl || ({apt} update -qq && {apt} install -y -qq curl >/dev/null); "
                            "rm -f /var/lib/rancher/k3s/fake-helm.yaml /var/lib/rancher/k3s/fake-deleted.log")
    assert ready.ok, ready.stderr[-1000:]
    first = invoke("role", ROLES, "-i", path)
    yield {"inventory": path, "first": first, "folder": folder}
    os.environ.pop("VPSKIT_E2E_GRAFANA", None)
    os.environ.pop("VPSKIT_E2E_HOOK", None)


def test_the_first_run_writes_the_manifests_and_waits_for_the_chart(lab, stack):
    first = stack["first"]
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert "wait chart kube-prometheus-stack installed (job helm-install-kube-prometheus-stack complete)" in first.stdout
    listing = sh(lab, SINGLE, f"stat -c '%a %U %n' {MANIFESTS}/vpskit-monitoring*.yaml").stdout.split("\n")
    assert listing[:2] == [f"600 root {MANIFESTS}/vpskit-monitoring-rules.yaml",
                           f"600 root {MANIFESTS}/vpskit-monitoring.yaml"]
    written = sh(lab, SINGLE, f"cat {MANIFESTS}/vpskit-monitoring.yaml").stdout
    assert PASSWORD in written and HOOK_URL in written  # in the Secrets, on the server only


def test_secrets_never_reach_the_reports(stack, tmp_path):
    report = tmp_path / "check.json"
    check = invoke("role", ROLES, "-i", stack["inventory"], "--check", "--diff", "--set", "monitoring_retention=20d",
                   "--json", str(report))
    assert check.returncode == 2 and "(diff hidden: secret content)" in check.stdout, check.stdout[-3000:]
    for text in (stack["first"].stdout, stack["first"].stderr, check.stdout, check.stderr, report.read_text()):
        assert PASSWORD not in text and HOOK_URL not in text


def test_a_second_run_changes_nothing_in_at_most_two_commands(stack, tmp_path):
    report = tmp_path / "again.json"
    again = invoke("role", ROLES, "-i", stack["inventory"], "--quiet", "--json", str(report))
    assert again.returncode == 0, again.stdout[-3000:]
    host = json.loads(report.read_text())["hosts"][SINGLE]
    assert host["summary"]["changed"] == 0, [s for s in host["steps"] if s["status"] == "changed"]
    assert host["connections"] == 1 and host["commands"] <= 2, host["commands"]


def test_a_deleted_manifest_is_seen_by_check_and_restored(lab, stack):
    assert invoke("role", ROLES, "-i", stack["inventory"], "--check").returncode == 0
    sh(lab, SINGLE, f"rm {MANIFESTS}/vpskit-monitoring-rules.yaml")
    check = invoke("role", ROLES, "-i", stack["inventory"], "--check")
    assert check.returncode == 2 and f"{MANIFESTS}/vpskit-monitoring-rules.yaml" in check.stdout, check.stdout[-3000:]
    again = invoke("role", ROLES, "-i", stack["inventory"], "--quiet")
    assert again.returncode == 0, again.stdout[-3000:]
    assert sh(lab, SINGLE, f"test -f {MANIFESTS}/vpskit-monitoring-rules.yaml").ok


APP_ITEMS = ["app.replicas", "app.pdb", "app.probes", "app.resources", "sec.non-root", "sec.read-only-root",
             "sec.capabilities", "sec.privilege-escalation", "sec.seccomp", "sec.service-account",
             "sec.images-pinned", "sec.inline-secrets", "sec.network-policy", "sec.pod-security"]


def test_the_audit_reads_the_applications_through_the_real_probe(lab, stack, tmp_path):
    """The recorded applications (tests/fixtures/workloads) applied by the deploy controller: the good one passes
    the application items, the first draft fails them, the stack's own namespace is left out."""
    good = [as_written(o) for o in listed("good")["items"] if o["metadata"]["name"] != "kube-system"]
    bad = [as_written(o) for o in listed("bad")["items"]]
    report = tmp_path / "audit.json"
    found = {}
    for name, objects in (("good", good), ("bad", bad)):
        text = base64.b64encode(yaml.safe_dump_all(objects).encode()).decode()
        assert sh(lab, SINGLE, f"echo {text} | base64 -d > {MANIFESTS}/e2e-app-{name}.yaml").ok
        run = invoke("audit", "-i", stack["inventory"], "--limit", SINGLE, "--json", str(report))
        items = json.loads(report.read_text())["hosts"][SINGLE]["items"]
        found[name] = {i["id"]: (i["status"], i["evidence"]) for i in items}
        assert (json.loads(report.read_text())["hosts"][SINGLE]["commands"]) == 1, run.stdout[-2000:]
    sh(lab, SINGLE, f"rm -f {MANIFESTS}/e2e-app-*.yaml")
    assert {i: found["good"][i][0] for i in APP_ITEMS} == {i: "pass" for i in APP_ITEMS}, found["good"]
    assert found["good"]["obs.scraped"][0] == "fail" and "serves no ServiceMonitor" in found["good"]["obs.scraped"][1]
    assert {i: found["bad"][i][0] for i in APP_ITEMS} == {i: "fail" for i in APP_ITEMS}, found["bad"]
    assert "legacy/deployment/backend" in found["bad"]["app.replicas"][1]
    assert "hunter2" not in json.dumps(found["bad"])
    # the stack's own namespace (monitoring_namespace) is the platform's, not an application's
    assert "monitoring/" not in json.dumps({i: found["bad"][i] for i in APP_ITEMS})


def test_k3s_hardening_restarts_k3s_with_the_guides_files_and_the_audit_confirms_them(lab, stack, tmp_path):
    """k3s_hardening on a container: the fake K3s starts on the files (it refuses them missing or wrong, as the
    API server does), protect-kernel-defaults is skipped saying why, a second run changes nothing."""
    on = invoke("role", ROLES, "-i", stack["inventory"], "--set", "k3s_hardening=true")
    assert on.returncode == 0, on.stdout[-4000:] + on.stderr[-2000:]
    assert "restart k3s" in on.stdout and "a container cannot set kernel.* sysctls" in on.stdout, on.stdout[-3000:]
    report = tmp_path / "hardened.json"
    again = invoke("role", ROLES, "-i", stack["inventory"], "--set", "k3s_hardening=true", "--quiet",
                   "--json", str(report))
    assert again.returncode == 0 and json.loads(report.read_text())["hosts"][SINGLE]["summary"]["changed"] == 0
    invoke("audit", "-i", stack["inventory"], "--limit", SINGLE, "--json", str(report))
    found = {i["id"]: i["status"] for i in json.loads(report.read_text())["hosts"][SINGLE]["items"]}
    assert {i: found[i] for i in ("hard.k3s-admission", "hard.k3s-audit-log", "hard.k3s-component-args",
                                  "hard.k3s-kernel-defaults")} == {
        "hard.k3s-admission": "pass", "hard.k3s-audit-log": "pass", "hard.k3s-component-args": "pass",
        "hard.k3s-kernel-defaults": "fail"}  # a container's kernel: the one part the host cannot take


def test_switched_off_the_manifests_go_and_the_chart_is_deleted(lab, stack, tmp_path):
    off = invoke("role", ROLES, "-i", stack["inventory"], "--set", "monitoring_enabled=false")
    assert off.returncode == 0, off.stdout[-3000:]
    assert "handler uninstall monitoring" in off.stdout
    assert sh(lab, SINGLE, f"ls {MANIFESTS}/vpskit-monitoring*.yaml").stdout.strip() == ""
    deleted = sh(lab, SINGLE, "cat /var/lib/rancher/k3s/fake-deleted.log").stdout.split("\n")
    assert "kube-system helmchart.helm.cattle.io/kube-prometheus-stack" in deleted
    report = tmp_path / "off.json"
    again = invoke("role", ROLES, "-i", stack["inventory"], "--set", "monitoring_enabled=false", "--quiet",
                   "--json", str(report))
    assert again.returncode == 0 and json.loads(report.read_text())["hosts"][SINGLE]["summary"]["changed"] == 0
