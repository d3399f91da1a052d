"""The alert path with real daemons on this machine: Debian's prometheus, alertmanager and node-exporter run the rule
file and Alertmanager configuration the monitoring role renders, the real backup program writes its metrics into
the textfile folder, and a webhook on 127.0.0.1 stands for the receiver and the heartbeat service.

The Watchdog rule is the chart's (kube-prometheus-stack templates/prometheus/rules-1.14/general.rules.yaml:
`vector(1)`, severity none), which the cluster's Prometheus has beside vpskit's rules.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from tests.unit.backuphost import LocalBackupHost
from vpskit.builtin_roles.k3s.manifests import dump
from vpskit.builtin_roles.monitoring.alertmanager import alertmanager_config
from vpskit.builtin_roles.monitoring.rules import rule_groups

from .test_monitoring_rules import defaults

DAEMONS = ("prometheus", "prometheus-alertmanager", "prometheus-node-exporter")
pytestmark = pytest.mark.skipif(not all(shutil.which(d) for d in DAEMONS),
                                reason="Debian's prometheus, prometheus-alertmanager and prometheus-node-exporter "
                                       "are missing (scripts/test installs them)")
WATCHDOG = {"name": "general.rules", "rules": [{"alert": "Watchdog", "expr": "vector(1)",
                                                "labels": {"severity": "none"}}]}


class Hook:
    """Records every POST by path, with the time it came."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                received.append((time.monotonic(), self.path, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def posts(self, path: str) -> list[tuple[float, dict]]:
        return [(t, body) for t, p, body in list(self.received) if p == path]

    def alerts(self, name: str, status: str, **labels) -> list[dict]:
        return [a for _, body in self.posts("/alerts") for a in body["alerts"]
                if a["labels"].get("alertname") == name and a["status"] == status
                and all(a["labels"].get(k) == v for k, v in labels.items())]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    root = tmp_path_factory.mktemp("alert-path")
    hook = Hook()
    backup = LocalBackupHost(root / "backup")
    values = defaults(monitoring_apps=[], monitoring_database_jobs=[], monitoring_node_jobs=["node"],
                      monitoring_node_kubernetes=False, monitoring_backup_for="2s", monitoring_restore_test_for="2s",
                      monitoring_group_wait="1s", monitoring_group_interval="2s",
                      monitoring_heartbeat_url=f"{hook.base}/heartbeat", monitoring_heartbeat_interval="2s",
                      monitoring_receivers=[{"type": "webhook", "url": f"{hook.base}/alerts"}])
    rules = rule_groups(values)
    rules["groups"].append(WATCHDOG)
    ports = {name: free_port() for name in ("node", "alertmanager", "prometheus")}
    (root / "rules.yml").write_text(dump(rules))
    (root / "alertmanager.yml").write_text(dump(alertmanager_config(values)))
    (root / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(root / "rules.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{ports['alertmanager']}"]}]}]},
        "scrape_configs": [{"job_name": "node", "static_configs": [{"targets": [f"127.0.0.1:{ports['node']}"]}]}]}))
    commands = {
        "node": ["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{ports['node']}",
                 "--collector.disable-defaults", "--collector.textfile",
                 f"--collector.textfile.directory={backup.metrics}"],
        "alertmanager": ["prometheus-alertmanager", f"--config.file={root / 'alertmanager.yml'}",
                         f"--storage.path={root / 'am'}", f"--web.listen-address=127.0.0.1:{ports['alertmanager']}",
                         "--cluster.listen-address="],
        # a short resend delay: an alert Prometheus stops sending ends 4 delays later, not 4 minutes
        "prometheus": ["prometheus", f"--config.file={root / 'prometheus.yml'}", f"--storage.tsdb.path={root / 'tsdb'}",
                       f"--web.listen-address=127.0.0.1:{ports['prometheus']}", "--rules.alert.resend-delay=1s"],
    }
    processes = {}
    for name, command in commands.items():
        with open(root / f"{name}.log", "w") as log:
            processes[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    yield {"hook": hook, "backup": backup, "processes": processes, "root": root, "ports": ports}
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    hook.close()


def logs(path) -> str:
    return "\n".join(f"--- {f.name}\n{f.read_text()[-1500:]}" for f in sorted(path["root"].glob("*.log")))


def test_a_backup_that_never_succeeded_and_a_failed_restore_test_reach_the_receiver_then_resolve(path, tmp_path):
    hook, backup = path["hook"], path["backup"]
    assert backup.run("run").returncode == 1  # no set configured: the run fails, its metrics say 0
    assert backup.run("verify").returncode == 1  # no complete run to test
    assert wait_for(lambda: hook.alerts("BackupTooOld", "firing", reason="never-succeeded")
                    and hook.alerts("BackupRestoreTestFailed", "firing", reason="failed"), 60), logs(path)
    alert = hook.alerts("BackupTooOld", "firing")[0]
    assert alert["labels"]["severity"] == "critical" and alert["labels"]["job"] == "node"
    assert alert["annotations"]["runbook"] == "runbooks/BackupTooOld.md (written by invoke runbooks)"

    (tmp_path / "data.txt").write_text("kept\n")
    backup.configure(backups_files=[str(tmp_path / "data.txt")])
    assert backup.run("run").returncode == 0 and backup.run("verify").returncode == 0
    assert wait_for(lambda: hook.alerts("BackupTooOld", "resolved")
                    and hook.alerts("BackupRestoreTestFailed", "resolved"), 60), logs(path)
    assert not [a for _, body in hook.posts("/alerts") for a in body["alerts"]
                if a["labels"]["alertname"] == "Watchdog"], "the Watchdog reached a person's receiver"


def test_the_watchdog_heartbeat_arrives_on_schedule_and_stops_when_prometheus_stops(path):
    hook = path["hook"]
    assert wait_for(lambda: len(hook.posts("/heartbeat")) >= 4, 60), logs(path)
    pings = hook.posts("/heartbeat")
    assert all(body["status"] == "firing" and [a["labels"]["alertname"] for a in body["alerts"]] == ["Watchdog"]
               for _, body in pings)
    gaps = [b[0] - a[0] for a, b in zip(pings, pings[1:])]
    assert all(1.5 < gap < 6 for gap in gaps[1:]), gaps  # every 2 s interval (the first follows group_wait 0s)

    path["processes"]["prometheus"].terminate()
    path["processes"]["prometheus"].wait(20)
    stopped = time.monotonic()
    # the last alert Prometheus sent ends 4 resend delays later; then no ping comes: silence is the alarm
    assert wait_for(lambda: time.monotonic() - max(t for t, _ in hook.posts("/heartbeat")) > 10, 60), \
        hook.posts("/heartbeat")[-3:]
    assert max(t for t, _ in hook.posts("/heartbeat")) - stopped < 10
