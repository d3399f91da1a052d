"""`invoke runbooks`: a page per alert the role renders, in the seed's four sections, with this inventory's commands."""

import subprocess
import sys
from pathlib import Path

import pytest

from vpskit.builtin_roles.monitoring import runbooks
from vpskit.builtin_roles.monitoring.rules import alert_names
from vpskit.errors import VpskitError

from .test_monitoring_rules import ALERTS, full

ROOT = Path(__file__).resolve().parents[3]


def test_every_alert_has_a_runbook_in_four_sections():
    pages = runbooks(full(), "inv/hosts.yml")
    assert set(pages) == {f"runbooks/{a}.md" for a in ALERTS} == {f"runbooks/{a}.md" for a in alert_names(full())}
    for name, text in pages.items():
        assert text.startswith(f"# {Path(name).stem}\n\nSeverity: **")
        assert [line for line in text.splitlines() if line.startswith("## ")] == [
            "## Symptoms", "## Investigation", "## Resolution", "## Prevention"]


def test_runbooks_carry_this_inventorys_commands():
    pages = runbooks(full(k3s_context_name="prod", monitoring_namespace="obs", backups_dir="/srv/backups",
                          monitoring_apps=[{"job": "api", "status_label": "code"}]), "ops/hosts.yml")
    assert "kubectl --context prod -n obs port-forward svc/kube-prometheus-stack-prometheus 9090" in \
        pages["runbooks/NodeDown.md"]
    assert "`invoke backups.verify -i ops/hosts.yml`" in pages["runbooks/BackupRestoreTestFailed.md"]
    assert "`invoke k3s.kubeconfig -i ops/hosts.yml`" in pages["runbooks/ApplicationDown.md"]
    assert "`api` (http_request_duration_seconds_count, label code)" in pages["runbooks/ApplicationDown.md"]
    assert "du -sh /srv/backups" in pages["runbooks/DiskAlmostFull.md"]
    assert "Severity: **critical / warning**" in pages["runbooks/BackupOffsiteCheckFailed.md"]


def test_only_the_alerts_rendered_get_a_page_and_a_folder_outside_is_refused():
    assert "runbooks/DatabaseDown.md" not in runbooks(full(monitoring_database_jobs=[]), "hosts.yml")
    assert set(runbooks(full(monitoring_runbooks_dir="docs/oncall/"), "hosts.yml")) >= {"docs/oncall/NodeDown.md"}
    for bad in ("../elsewhere", "/etc", "a/../../b", "~/x"):
        with pytest.raises(VpskitError, match="monitoring_runbooks_dir must be a folder below"):
            runbooks(full(monitoring_runbooks_dir=bad), "hosts.yml")


def invoke(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(ROOT), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_the_task_writes_the_pages_next_to_the_inventory_and_a_second_run_changes_nothing(tmp_path):
    (tmp_path / "hosts.yml").write_text("all:\n  hosts:\n    h1:\n      ansible_host: 192.0.2.1\n"
                                        "  vars:\n    k3s_context_name: lab\n")
    first = invoke("runbooks", "-i", str(tmp_path / "hosts.yml"), cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"runbooks: {len(ALERTS)} from h1's variables in {tmp_path}, {len(ALERTS)} written" in first.stdout
    assert "kubectl --context lab" in (tmp_path / "runbooks" / "NodeDown.md").read_text()
    second = invoke("runbooks", "-i", str(tmp_path / "hosts.yml"), cwd=tmp_path)
    assert second.returncode == 0 and ", 0 written" in second.stdout, second.stdout + second.stderr
