"""`invoke audit` against the hardened lab hosts, and lab.break scenarios found by audit and check, then
repaired by bootstrap (the hosts are left converged for the tests after these)."""

from __future__ import annotations

import json
import re

from tests.e2e.conftest import HARDEN_HOSTS
from tests.e2e.helpers import invoke

HARDENING_ITEMS = ["infra.ssh-key-only", "infra.root-login", "net.firewall", "net.listening", "net.fail2ban",
                   "hard.unattended-upgrades", "hard.sysctl", "hard.core-dumps", "infra.disk", "infra.memory"]
# scenario → the audit item that must fail while it is in place
BREAKS = {"ufw-disabled": "net.firewall", "fail2ban-stopped": "net.fail2ban", "redirects-accepted": "hard.sysctl",
          "updates-off": "hard.unattended-upgrades", "password-login": "infra.ssh-key-only"}


def audit(inventory, tmp_path, *extra: str) -> tuple[int, dict, str]:
    report = tmp_path / "audit.json"
    run = invoke("audit", "-i", str(inventory), "--json", str(report), *extra)
    return run.returncode, json.loads(report.read_text()), run.stdout + run.stderr


def statuses(data: dict, host: str) -> dict[str, str]:
    return {item["id"]: item["status"] for item in data["hosts"][host]["items"]}


# item → the task its fix names, on a fresh host
FRESH_FAILS = {"infra.ssh-key-only": "invoke ssh", "net.firewall": "invoke firewall", "net.fail2ban": "invoke fail2ban",
               "hard.unattended-upgrades": "invoke base", "hard.sysctl": "invoke sysctl"}


# first in this module, the first e2e module: the hosts are still fresh (the `hardened` fixture has not run)
def test_fresh_hosts_fail_the_hardening_items_naming_their_fix(fresh, harden_inventory, tmp_path):
    code, data, output = audit(harden_inventory, tmp_path)
    assert code == 1, output
    for host in HARDEN_HOSTS.values():
        items = {item["id"]: item for item in data["hosts"][host]["items"]}
        assert {i: (items[i]["status"], items[i]["fix"]) for i in FRESH_FAILS} == \
            {i: ("fail", fix) for i, fix in FRESH_FAILS.items()}, output
        assert f"→ {FRESH_FAILS['net.firewall']}" in output
        # the audit's whole cost on a host: one connection, one command
        assert (data["hosts"][host]["connections"], data["hosts"][host]["commands"]) == (1, 1)


def test_hardened_hosts_pass_the_hardening_items_and_miss_backups(hardened, harden_inventory, tmp_path):
    markdown = tmp_path / "audit.md"
    code, data, output = audit(harden_inventory, tmp_path, "--markdown", str(markdown))
    assert code == 1, output  # no backups yet: critical items fail
    for host in HARDEN_HOSTS.values():
        found = statuses(data, host)
        assert {i: found[i] for i in HARDENING_ITEMS} == {i: "pass" for i in HARDENING_ITEMS}, output
        assert found["infra.backup-policy"] == "fail" and found["k8s.nodes-ready"] == "n/a"
        assert found["ops.on-call"] == "manual"
        assert data["hosts"][host]["sections"]["hardening"] == 100
        assert (data["hosts"][host]["connections"], data["hosts"][host]["commands"]) == (1, 1)
    report = markdown.read_text()
    assert all(f"## {host}" in report for host in HARDEN_HOSTS.values()) and "vpskit" in report


def test_lab_breaks_are_found_by_audit_and_check_and_repaired_by_bootstrap(hardened, harden_inventory, tmp_path):
    host = HARDEN_HOSTS["bookworm"]
    for scenario in BREAKS:
        run = invoke("lab.break", host, "--scenario", scenario, "-i", str(harden_inventory))
        assert run.returncode == 0, run.stdout + run.stderr
    _, data, output = audit(harden_inventory, tmp_path, "--limit", host)
    found = statuses(data, host)
    assert {found[item] for item in BREAKS.values()} == {"fail"}, output
    checked = invoke("check", "-i", str(harden_inventory), "--limit", host, "--quiet")
    assert checked.returncode == 2, checked.stdout[-3000:]
    drifted = re.search(r"^drift: (\d+) of \d+ checked steps", checked.stdout, re.M)
    assert drifted and int(drifted.group(1)) >= len(BREAKS), checked.stdout[-2000:]  # at least a step each
    repaired = invoke("bootstrap", "-i", str(harden_inventory), "--limit", host, "--quiet")
    assert repaired.returncode == 0, repaired.stdout[-3000:]
    _, data, output = audit(harden_inventory, tmp_path, "--limit", host)
    assert {statuses(data, host)[item] for item in BREAKS.values()} == {"pass"}, output


def test_lab_break_refuses_a_host_no_lab_booted(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    web1:\n      vpskit_host: 203.0.113.10\n")
    run = invoke("lab.break", "web1", "--scenario", "ufw-disabled", "-i", str(inventory))
    assert run.returncode == 1 and "only breaks lab hosts" in run.stderr
