"""The audit's parsers, judges, scoring and reports on probe output captured from lab hosts; lab.break's guard.

Each captured output is read by its fact's own parser (the class the roles read), as the audit reads it."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from vpskit.audit import items_host
from vpskit.audit.checklist import audit_defaults, checklist, probes_of
from vpskit.audit.model import Finding, HostAudit, ItemResult, Probes
from vpskit.audit.report import as_data, markdown, score, text
from vpskit.audit.run import judge_all
from vpskit.builtin_roles.backups.audit import metric_values
from vpskit.builtin_roles.firewall.audit import public_listeners
from vpskit.builtin_roles.k3s.audit import k3s_minor
from vpskit.builtin_roles.backups import audit as backups_audit
from vpskit.builtin_roles.certs import audit as certs_audit
from vpskit.builtin_roles.firewall import audit as firewall_audit
from vpskit.builtin_roles.k3s import audit as k3s_audit
from vpskit.builtin_roles.monitoring import audit as monitoring_audit
from vpskit.builtin_roles.ssh import audit as ssh_audit
from vpskit.errors import VpskitError
from vpskit.facts.system import CommandOutputFact
from vpskit.facts.ufw import UfwFact, sources_allowed
from vpskit.inventory.model import Host, Var
from vpskit.lab.breaks import all_breaks, find, refuse_non_lab
from vpskit.roleloader import RoleLibrary, all_defaults

ROLES = RoleLibrary().all()
# the audit thresholds an inventory gets: the engine's and those the roles own (roles/<role>/defaults.yml)
DEFAULTS = {k: v.value for k, v in {**all_defaults(ROLES), **audit_defaults()}.items()}
# every fact the whole checklist reads, by probe name
FACTS = probes_of(checklist({**DEFAULTS, "audit_expected_fqdn": "example.test", "audit_postgres": True}, ROLES))

# UfwFact's output on a lab host: 22 and 80 from anywhere, the API from one server
UFW = """installed=yes
DEFAULT_INPUT_POLICY="DROP"
DEFAULT_OUTPUT_POLICY="ACCEPT"
DEFAULT_FORWARD_POLICY="DROP"
ENABLED=yes
LOGLEVEL=low
IPV6=yes
@@filev4
### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=7670736b69743a20737368
### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### allow tcp 6443 0.0.0.0/0 any 10.213.1.12 in
-A ufw-user-input -p tcp --dport 22 -j ACCEPT
-A ufw-user-input -p tcp --dport 80 -j ACCEPT
-A ufw-user-input -p tcp --dport 6443 -s 10.213.1.12 -j ACCEPT
@@filev6
### tuple ### allow tcp 22 ::/0 any ::/0 in comment=7670736b69743a20737368
-A ufw6-user-input -p tcp --dport 22 -j ACCEPT
@@livev4
3
@@livev6
1
"""
# the same files with ufw stopped (`ufw disable`: no ufw-user-input chain in the kernel)
UFW_OFF = UFW.split("@@livev4")[0] + "@@livev4\n@@livev6\n"
SS = """tcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*
tcp   LISTEN 0      4096       127.0.0.1:6444      0.0.0.0:*
tcp   LISTEN 0      128             [::]:22           [::]:*
tcp   LISTEN 0      4096               *:6443            *:*
udp   UNCONN 0      0      127.0.0.53%lo:53        0.0.0.0:*
tcp   LISTEN 0      4096               *:8080            *:*
"""
RESOURCES = "2\n0.52 0.61 0.70 1/180 4242\nMemTotal:       24000000 kB\nMemAvailable:   20000000 kB\n" \
            "Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/vda 264000000 26000000 " \
            "238000000 10% /\n"


def probes(**outputs) -> Probes:
    """Captured output (or (status, output)) of each probe, read by its fact's own parser."""
    results = {}
    for name, value in outputs.items():
        rc, output = value if isinstance(value, tuple) else (0, value)
        fact = FACTS.get(name)
        results[name] = (rc, output) if fact is None or isinstance(fact, CommandOutputFact) else fact.parse(output, rc)
    return Probes(results)


def sshd_t(settings: str, rc: int = 0) -> str:
    """What SshdEffectiveFact(None) reads on a host whose `sshd -T` prints `settings`."""
    return f"@@context \n{settings}@@rc {rc}\n"


def test_parsers_read_real_output():
    rules = UfwFact().parse(UFW, 0)["rules"]
    assert [sources_allowed(rules, port) for port in (22, 80, 6443, 8080)] == [["any"], ["any"], ["10.213.1.12"], []]
    assert public_listeners(SS) == [("tcp", 22, "0.0.0.0"), ("tcp", 22, "::"), ("tcp", 6443, "*"), ("tcp", 8080, "*")]
    metrics = 'vpskit_backup_last_success_timestamp_seconds{set="pg"} 1.7e9\n# HELP x\nother 1\n'
    assert metric_values(metrics, "vpskit_backup_last_success_timestamp_seconds") == {'{set="pg"}': 1.7e9}
    assert k3s_minor("k3s version v1.36.4+k3s1 (abc)\ngo version go1.24") == "1.36"


def test_listeners_beyond_the_firewall_warn_and_name_the_ports():
    found = firewall_audit.listeners(probes(ufw=UFW, listening=SS), DEFAULTS)
    assert found.status == "warn" and "tcp/8080" in found.evidence and "6443" not in found.evidence


def test_firewall_off_with_public_listeners_fails():
    found = firewall_audit.listeners(probes(ufw=UFW_OFF, listening=SS), DEFAULTS)
    assert found.status == "fail"
    assert firewall_audit.firewall(probes(ufw=UFW_OFF), DEFAULTS) == Finding.fail("ufw is not active")
    assert firewall_audit.firewall(probes(ufw="installed=no\n"), DEFAULTS) == Finding.fail("ufw is not active")
    allowing = UFW.replace('DEFAULT_INPUT_POLICY="DROP"', 'DEFAULT_INPUT_POLICY="ACCEPT"')
    assert "does not deny incoming" in firewall_audit.firewall(probes(ufw=allowing), DEFAULTS).evidence
    assert firewall_audit.firewall(probes(ufw=UFW), DEFAULTS).status == "pass"


@pytest.mark.parametrize("sshd, status", [("passwordauthentication no\nkbdinteractiveauthentication no\n", "pass"),
                                          ("passwordauthentication yes\nkbdinteractiveauthentication no\n", "fail"),
                                          ("", "fail")])
def test_key_only(sshd, status):
    assert ssh_audit.key_only(probes(sshd=sshd_t(sshd)), DEFAULTS).status == status


def test_an_sshd_that_cannot_read_its_config_fails_key_only_with_its_error():
    broken = sshd_t("/etc/ssh/sshd_config line 3: Bad configuration option: PasswordAuth\n", rc=255)
    found = ssh_audit.key_only(probes(sshd=broken), DEFAULTS)
    assert found.status == "fail" and "Bad configuration option" in found.evidence
    assert ssh_audit.root_login(probes(sshd=broken), DEFAULTS) == Finding.fail("effective: permitrootlogin unknown")


@pytest.mark.parametrize("value, status", [("no", "pass"), ("prohibit-password", "warn"), ("yes", "fail")])
def test_root_login(value, status):
    assert ssh_audit.root_login(probes(sshd=sshd_t(f"permitrootlogin {value}\n")), DEFAULTS).status == status


@pytest.mark.parametrize("used, status", [("10%", "pass"), ("85%", "warn"), ("95%", "fail")])
def test_disk_thresholds(used, status):
    assert items_host.disk(probes(resources=RESOURCES.replace("10%", used)), DEFAULTS).status == status


def test_backup_age_and_restore_test_from_textfile_metrics():
    now = time.time()
    fresh = f'vpskit_backup_last_success_timestamp_seconds{{set="pg"}} {now - 3600}\n' \
            f'vpskit_backup_restore_test_success{{set="pg"}} 1\n'
    stale = f'vpskit_backup_last_success_timestamp_seconds{{set="pg"}} {now - 3 * 86400}\n' \
            f'vpskit_backup_restore_test_success{{set="pg"}} 0\n'
    assert backups_audit.backup_age(probes(textfile=fresh), DEFAULTS).status == "pass"
    assert backups_audit.backup_age(probes(textfile=stale), DEFAULTS).status == "fail"
    assert backups_audit.restore_test(probes(textfile=fresh), DEFAULTS).status == "pass"
    assert backups_audit.restore_test(probes(textfile=stale), DEFAULTS).status == "fail"
    assert "no backup has succeeded" in backups_audit.backup_age(probes(textfile=(1, "")), DEFAULTS).evidence


def test_cluster_items_are_not_applicable_without_k3s_and_server_items_on_agents():
    assert k3s_audit.nodes_ready(probes(cluster_node=(1, "")), DEFAULTS) == Finding.na("no cluster is installed here")
    assert k3s_audit.nodes_ready(probes(cluster_node="agent\n"), DEFAULTS).evidence == "checked on the servers"


def test_k3s_support_window():
    version = "k3s version v1.36.4+k3s1 (2a4d8f4e)\n"
    assert k3s_audit.version(probes(cluster_node="server", k3s_version=version), DEFAULTS).status == "pass"
    old = {**DEFAULTS, "audit_k3s_support": {"1.36": "2020-01-01"}}
    assert k3s_audit.version(probes(cluster_node="server", k3s_version=version), old).status == "fail"
    unknown = k3s_audit.version(probes(cluster_node="server", k3s_version="k3s version v1.99.0+k3s1"), DEFAULTS)
    assert unknown.status == "warn" and "not in audit_k3s_support" in unknown.evidence


def test_nodes_and_workloads_from_kubectl_json():
    nodes = {"items": [{"metadata": {"name": "a"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
                       {"metadata": {"name": "b"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}}]}
    found = k3s_audit.nodes_ready(probes(cluster_node="server", nodes=json.dumps(nodes)), DEFAULTS)
    assert found.status == "fail" and "b" in found.evidence
    workloads = {"items": [{"kind": "Deployment", "metadata": {"namespace": "monitoring", "name": "grafana"},
                            "spec": {"replicas": 1}, "status": {"readyReplicas": 1}},
                           {"kind": "DaemonSet", "metadata": {"namespace": "logging", "name": "alloy"},
                            "status": {"desiredNumberScheduled": 2, "numberReady": 1}}]}
    p = probes(cluster_node="server", workloads=json.dumps(workloads))
    assert k3s_audit.component("grafana", "Grafana")(p, DEFAULTS).status == "pass"
    assert k3s_audit.component("alloy", "Alloy")(p, DEFAULTS).status == "fail"
    assert k3s_audit.component("loki", "Loki")(p, DEFAULTS).evidence == "no Loki workload"


def test_cordoned_nodes_warn_naming_them_and_the_uncordon():
    nodes = {"items": [{"metadata": {"name": "a"}, "spec": {"unschedulable": True}},
                       {"metadata": {"name": "b"}, "spec": {}}]}
    found = k3s_audit.nodes_cordoned(probes(cluster_node="server", nodes=json.dumps(nodes)), DEFAULTS)
    assert found == Finding.warn("cordoned (no new pods scheduled there): a; k3s kubectl uncordon a")
    nodes["items"][0]["spec"] = {}
    assert k3s_audit.nodes_cordoned(probes(cluster_node="server", nodes=json.dumps(nodes)), DEFAULTS).status == "pass"
    assert k3s_audit.nodes_cordoned(probes(cluster_node="server", nodes=(1, "")), DEFAULTS).status == "fail"
    assert k3s_audit.nodes_cordoned(probes(cluster_node="agent"), DEFAULTS).status == "n/a"


def test_a_pending_reboot_warns_with_the_packages_and_fails_after_days():
    now = 1_800_000_000
    pending = f"required {now - 3 * 86400}\npkg libc6\nrunning 6.1.0-28-amd64\nboot_id x\nnow {now}\n"
    found = items_host.reboot_required(probes(reboot=pending), DEFAULTS)
    assert found.status == "warn" and found.evidence.startswith("reboot required for 3 day(s): /var/run/reboot-required")
    assert "asked by libc6" in found.evidence
    late = items_host.reboot_required(probes(reboot=pending), {**DEFAULTS, "audit_max_reboot_pending_days": 2})
    assert late.status == "fail"
    kernel = "running 6.1.0-26-amd64\ninstalled 6.1.0-28-amd64\nnow 1\n"
    assert items_host.reboot_required(probes(reboot=kernel), DEFAULTS) == \
        Finding.warn("kernel 6.1.0-28-amd64 installed, 6.1.0-26-amd64 running")
    assert items_host.reboot_required(probes(reboot="running 6.1\nnow 1\n"), DEFAULTS).status == "pass"


def test_certificates_expiring_soon_fail():
    certs = {"items": [{"metadata": {"namespace": "web", "name": "site"}, "status": {"notAfter": "2000-01-01T00:00:00Z"}}]}
    found = certs_audit.certificates(probes(cluster_node="server", certificates=json.dumps(certs)), DEFAULTS)
    assert found.status == "fail" and "web/site" in found.evidence


def test_a_judge_that_cannot_read_its_probe_fails_that_item_alone():
    items = [i for i in checklist(DEFAULTS, ROLES) if i.id in ("infra.cpu", "ops.on-call")]
    results = judge_all(items, probes(resources="garbage"), DEFAULTS)
    assert results[0].finding.status == "fail" and "could not read" in results[0].finding.evidence
    assert results[1].finding.status == "manual"


def test_every_item_has_a_fix_and_probes_are_shared_consistently():
    items = checklist({**DEFAULTS, "audit_expected_fqdn": "example.test"}, ROLES)
    assert len({i.id for i in items}) == len(items)
    assert all(i.fix for i in items)
    assert "sshd" in probes_of(items)


def _audit() -> HostAudit:
    items = {i.id: i for i in checklist(DEFAULTS, ROLES)}
    return HostAudit("web1", [ItemResult(items["infra.disk"], Finding.ok("/ 90% free")),
                              ItemResult(items["net.fail2ban"], Finding.warn("slow")),
                              ItemResult(items["net.firewall"], Finding.fail("ufw is not active")),
                              ItemResult(items["net.dns"], Finding.na("not set")),
                              ItemResult(items["ops.on-call"], Finding("manual", "who is paged?"))])


def test_scores_reports_and_fail_on():
    audit = _audit()
    assert score(audit.results) == 50  # pass 1 + warn ½ + fail 0 over 3 checked items
    assert [r.item.id for r in audit.failing("critical")] == ["net.firewall"]
    data = as_data([audit], "critical")
    assert data["schema"] == 1 and data["hosts"]["web1"]["sections"] == {"infrastructure": 100, "network": 25,
                                                                        "operations": None}
    assert {"id", "section", "severity", "title", "status", "evidence", "fix"} <= set(data["hosts"]["web1"]["items"][0])
    report = markdown([audit])
    assert "## web1" in report and "ufw is not active" in report and "vpskit" in report
    assert "FAIL" in text([audit]) and "invoke firewall" in text([audit])


def test_lab_break_refuses_hosts_no_lab_booted():
    host = Host("web1", vars={"vpskit_host": Var("203.0.113.10", "hosts.yml:3")})
    with pytest.raises(VpskitError, match="only breaks lab hosts"):
        refuse_non_lab([host], {"10.213.1.11"})
    refuse_non_lab([Host("lab1", vars={"vpskit_host": Var("10.213.1.11", "x")})], {"10.213.1.11"})


def test_every_break_says_what_finds_and_repairs_it():
    assert all(b.found_by and b.repaired_by for b in all_breaks())
    with pytest.raises(VpskitError, match="no lab.break scenario"):
        find("nope", all_breaks())


def test_check_reports_drift_per_host_and_role():
    from vpskit.report import drift_text
    from vpskit.results import HostResult, StepResult, drift_summary
    web = HostResult("web1", [StepResult("ssh", "file a", "ok", ""), StepResult("ssh", "file b", "changed", "x"),
                              StepResult("firewall", "ufw", "ok", ""), StepResult("sysctl", "k", "skipped", "ro")])
    summary = drift_summary([web, HostResult("web2", [StepResult("ssh", "file a", "ok", "")])])
    assert summary["hosts"]["web1"]["ssh"] == {"in_place": 1, "drifted": 1, "percent": 50.0}
    assert (summary["drifted"], summary["checked"], summary["percent"]) == (1, 4, 25.0)
    assert "web1: ssh 1/2 in place (1 drifted), firewall 1/1 in place" in drift_text(summary)


GOLDEN = Path(__file__).parent / "golden" / "audit"
WHEN = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("name", ["report.json", "report.md"])
def test_reports_match_their_golden_files(name):
    audit = _audit()
    audit.connections, audit.commands = 1, 1
    made = json.dumps(as_data([audit], "critical", WHEN), indent=2, sort_keys=True) + "\n" if name.endswith(".json") \
        else markdown([audit], WHEN) + "\n"
    made = made.replace(__import__("vpskit").__version__, "VERSION")
    assert made == (GOLDEN / name).read_text()


@pytest.mark.parametrize("probe, written, other", [("receivers", "full-monitoring.yaml", "defaults-monitoring.yaml"),
                                                   ("redirect", "full-certs.yaml", "defaults-certs-issuers.yaml")])
def test_stack_probes_read_the_manifests_the_roles_write(probe, written, other):
    import re
    import subprocess
    golden = Path(__file__).parent / "stack" / "golden"

    def status(name: str) -> int:
        command = re.sub(r"/var/lib/rancher/k3s/server/manifests/vpskit-\w+\.yaml", str(golden / name), FACTS[probe].args[0])
        return subprocess.run(["sh", "-c", command], capture_output=True).returncode

    assert status(written) == 0 and status(other) != 0


def test_every_critical_alert_names_a_runbook():
    def rule(alert, severity, **annotations):
        return {"alert": alert, "labels": {"severity": severity}, "annotations": annotations}
    listed = {"items": [{"spec": {"groups": [{"rules": [
        rule("NodeDown", "critical", runbook="runbooks/NodeDown.md"),
        rule("KubeletDown", "critical", runbook_url="https://runbooks.prometheus-operator.dev/kubeletdown"),
        rule("CPUThrottlingHigh", "info"), {"record": "job:up:sum", "expr": "sum(up)"}]}]}}]}
    p = probes(cluster_node="server", alert_rules=json.dumps(listed))
    assert monitoring_audit.runbooks(p, DEFAULTS) == Finding.ok("all 2 critical alerts name a runbook")
    listed["items"][0]["spec"]["groups"][0]["rules"].append(rule("MyAppDown", "critical", summary="x"))
    found = monitoring_audit.runbooks(probes(cluster_node="server", alert_rules=json.dumps(listed)), DEFAULTS)
    assert found.status == "fail" and "MyAppDown" in found.evidence and "NodeDown" not in found.evidence
    assert monitoring_audit.runbooks(probes(cluster_node="server", alert_rules=(1, "")), DEFAULTS).status == "fail"


def test_with_no_role_running_a_cluster_the_workload_items_read_nothing_and_are_not_applicable():
    from vpskit.audit import items_workloads
    without = items_workloads.items(DEFAULTS, None)
    assert {name for item in without for name in item.probes} == {"cluster_node"}
    assert all(item.judge(Probes({"cluster_node": (1, "")}), DEFAULTS).status == "n/a" for item in without)
    # with the k3s role, they read through its kubectl
    assert "k3s kubectl get nodes -o json" in probes_of(checklist(DEFAULTS, ROLES))["nodes"].command()
