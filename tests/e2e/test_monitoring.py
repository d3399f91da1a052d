"""The alert path with real daemons: Debian's prometheus, node-exporter and alertmanager on a lab host run the
rule file and Alertmanager configuration the monitoring role renders; a filling filesystem reaches a webhook
on the controller."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from tests.e2e.conftest import LAB_NAME
from tests.e2e.helpers import sh, wait_for
from vpskit.builtin_roles.k3s.manifests import dump
from vpskit.builtin_roles.monitoring.alertmanager import alertmanager_config
from vpskit.builtin_roles.monitoring.rules import rule_groups
from vpskit.roleloader import RoleLibrary

HOST = f"{LAB_NAME}14"
FILL = "/srv/vpskit-fill"
APT = "timeout 300 apt-get -o Acquire::Retries=3 -o Acquire::http::Timeout=30"
PACKAGES = "prometheus prometheus-alertmanager prometheus-node-exporter"


class Hook:
    """A webhook receiver on the lab bridge's gateway: records every notification Alertmanager posts."""

    def __init__(self, address: str):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.url = f"http://{address}:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, name: str, status: str) -> list[dict]:
        return [a for n in list(self.received) for a in n["alerts"]
                if a["labels"].get("alertname") == name and a["status"] == status]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def variables(hook_url: str) -> dict:
    """The role's defaults, with short durations for the test and the test's filesystem and job name."""
    values = {k: v.value for k, v in RoleLibrary().load("monitoring").defaults.items()}
    values.update(monitoring_disk_selector=f'mountpoint="{FILL}"', monitoring_disk_full_for="10s",
                  monitoring_node_jobs=["node"], monitoring_node_kubernetes=False, monitoring_apps=[],
                  monitoring_database_jobs=[], monitoring_group_wait="1s", monitoring_group_interval="5s",
                  monitoring_receivers=[{"type": "webhook", "url": hook_url}])
    return values


def put(lab, path: str, text: str) -> None:
    encoded = base64.b64encode(text.encode()).decode()
    done = sh(lab, HOST, f"echo {encoded} | base64 -d > {path}")
    assert done.ok, done.stderr


def fill(lab, kib: int) -> None:
    done = sh(lab, HOST, f"rm -f {FILL}/blob && dd if=/dev/zero of={FILL}/blob bs=1k count={kib} status=none")
    assert done.ok, done.stderr


def prometheus_alerts(lab) -> dict:
    """Alert name → state (pending, firing) as Prometheus's API shows them; none while it does not answer."""
    out = sh(lab, HOST, "curl -s http://127.0.0.1:9090/api/v1/alerts").stdout
    try:
        alerts = json.loads(out).get("data", {}).get("alerts", [])
    except ValueError:
        return {}
    return {a["labels"]["alertname"]: a["state"] for a in alerts}


@pytest.fixture(scope="module")
def alerting(lab, fresh):
    lab.up(14, "bookworm")
    install = (f"{APT} update -qq && DEBIAN_FRONTEND=noninteractive {APT} install -y -qq --no-install-recommends "
               f"{PACKAGES} curl >/dev/null")
    done = sh(lab, HOST, install)
    assert done.ok, done.stderr[-1000:]
    hook = Hook(lab.gateway)
    values = variables(hook.url)
    prometheus = {"global": {"scrape_interval": "2s", "evaluation_interval": "2s"},
                  "rule_files": ["/etc/prometheus/vpskit-rules.yml"],
                  "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["127.0.0.1:9093"]}]}]},
                  "scrape_configs": [{"job_name": "node", "static_configs": [{"targets": ["127.0.0.1:9100"]}]}]}
    put(lab, "/etc/prometheus/vpskit-rules.yml", dump(rule_groups(values)))  # the role's code, as the chart gets it
    put(lab, "/etc/prometheus/alertmanager.yml", dump(alertmanager_config(values)))
    put(lab, "/etc/prometheus/prometheus.yml", yaml.safe_dump(prometheus))
    # a 1 MiB tmpfs the node exporter reports like any filesystem
    done = sh(lab, HOST, f"mkdir -p {FILL} && (mountpoint -q {FILL} || mount -t tmpfs -o size=1m vpskit-fill {FILL}) "
                         "&& systemctl restart prometheus-node-exporter prometheus-alertmanager prometheus")
    assert done.ok, done.stderr
    up = wait_for(lambda: '"health":"up"' in sh(lab, HOST, "curl -s http://127.0.0.1:9090/api/v1/targets").stdout, 60)
    assert up, "prometheus never scraped the node exporter"
    yield {"hook": hook, "values": values}
    hook.close()
    sh(lab, HOST, f"systemctl stop prometheus prometheus-alertmanager prometheus-node-exporter; umount {FILL}")


def test_amtool_and_promtool_accept_the_rendered_files_on_the_host(lab, alerting):
    checked = sh(lab, HOST, "amtool check-config /etc/prometheus/alertmanager.yml && "
                            "promtool check rules /etc/prometheus/vpskit-rules.yml && "
                            "promtool check config /etc/prometheus/prometheus.yml")
    count = len(rule_groups(alerting["values"])["groups"][0]["rules"])
    assert checked.ok and f"SUCCESS: {count} rules found" in checked.stdout, checked.stdout + checked.stderr


def test_a_filling_disk_reaches_the_webhook_and_its_recovery_too(lab, alerting):
    hook = alerting["hook"]
    fill(lab, 850)  # 85% of the mount's 1024 KiB (well under the 90% limit)
    # several evaluations (2 s apart) past the 10 s `for:`: nothing pending, nothing sent
    assert not wait_for(lambda: "DiskAlmostFull" in prometheus_alerts(lab), 20)
    assert hook.alerts("DiskAlmostFull", "firing") == []

    fill(lab, 950)  # 93%
    assert wait_for(lambda: hook.alerts("DiskAlmostFull", "firing"), 120, 2), \
        f"no notification; prometheus: {prometheus_alerts(lab)}"
    alert = hook.alerts("DiskAlmostFull", "firing")[0]
    assert alert["labels"]["mountpoint"] == FILL and alert["labels"]["severity"] == "critical"
    assert alert["annotations"]["summary"] == f"{FILL} on 127.0.0.1:9100 is almost full"

    sh(lab, HOST, f"rm -f {FILL}/blob")
    assert wait_for(lambda: hook.alerts("DiskAlmostFull", "resolved"), 120, 2), "no resolved notification"

