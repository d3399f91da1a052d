"""The fake k3s on real lab hosts: fetched from the test mirror, run by systemd (Type=notify), joined by an agent."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.e2e.conftest import H1, H2, H3
from tests.e2e.helpers import sh, wait_for
from tests.e2e.k3s_mirror import K3sMirror
from tests.fakes.k3s.events import down_windows, overlapping_downtimes

VERSION = "v1.36.4+k3s1"
NEWER = "v1.36.5+k3s1"
TOKEN = "lab-token-for-the-fake"
UNIT = """[Unit]
Description=fake k3s {role} (tests)
After=network-online.target

[Service]
Type=notify
ExecStart=/usr/local/bin/k3s {role}
KillMode=process
TimeoutStartSec=60
Restart=always
RestartSec=2
"""


def ok(lab, name: str, command: str) -> str:
    result = sh(lab, name, command)
    assert result.ok, f"{name}: {command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def fetch_binary(lab, name: str, mirror: K3sMirror, version: str) -> None:
    ok(lab, name, f"cd /tmp && curl -fsSO {mirror.url(version, 'k3s')} && "
                  f"curl -fsSO {mirror.url(version, 'sha256sum-amd64.txt')} && "
                  "grep '  k3s$' sha256sum-amd64.txt | sha256sum -c - && install -m 0755 k3s /usr/local/bin/k3s")


def install(lab, name: str, mirror: K3sMirror, role: str, config: str, version: str = VERSION) -> None:
    """What the K3s role will do, by hand: fetch and check the binary, write config and unit, start it."""
    service = "k3s" if role == "server" else "k3s-agent"
    ok(lab, name, "command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null || "
                  "(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 "
                  "python3-yaml curl >/dev/null)")
    fetch_binary(lab, name, mirror, version)
    ok(lab, name, f"mkdir -p /etc/rancher/k3s && cat > /etc/rancher/k3s/config.yaml <<'EOF'\n{config}EOF\n"
                  f"cat > /etc/systemd/system/{service}.service <<'EOF'\n{UNIT.format(role=role)}EOF\n"
                  f"systemctl daemon-reload && systemctl start {service}")


def nodes(lab, name: str) -> dict:
    listing = json.loads(ok(lab, name, "k3s kubectl get nodes -o json"))
    return {item["metadata"]["name"]: item for item in listing["items"]}


def ready(node: dict | None) -> bool:
    return bool(node) and any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])


@pytest.fixture(scope="module")
def mirror(lab):
    with K3sMirror(lab.gateway, versions=[VERSION, NEWER]) as running:
        yield running


def test_the_fake_runs_under_systemd_and_an_agent_joins(lab, mirror):
    first = lab.load_state().hosts[H1].address
    install(lab, H1, mirror, "server", f"token: {TOKEN}\nwrite-kubeconfig-mode: \"0600\"\nnode-ip: {first}\n")
    assert ok(lab, H1, "k3s --version").startswith(f"k3s version {VERSION} (")
    assert ok(lab, H1, "systemctl is-active k3s").strip() == "active"
    assert ok(lab, H1, "stat -c %a /etc/rancher/k3s/k3s.yaml").strip() == "600"
    assert ok(lab, H1, "cat /var/lib/rancher/k3s/server/node-token").strip().endswith(f"::server:{TOKEN}")
    assert ready(nodes(lab, H1).get(H1))

    install(lab, H2, mirror, "agent", f"server: https://{first}:6443\ntoken: {TOKEN}\nnode-label: [tier=web]\n")
    assert wait_for(lambda: ready(nodes(lab, H1).get(H2)), 10)
    agent = nodes(lab, H1)[H2]
    assert agent["metadata"]["labels"]["tier"] == "web"
    assert agent["status"]["nodeInfo"]["kubeletVersion"] == VERSION
    assert {"type": "InternalIP", "address": lab.load_state().hosts[H2].address} in agent["status"]["addresses"]


def test_an_agent_with_a_wrong_token_stays_activating(lab, mirror):
    first = lab.load_state().hosts[H1].address
    ok(lab, H2, "systemctl stop k3s-agent && "
                f"printf 'server: https://{first}:6443\\ntoken: wrong\\n' > /etc/rancher/k3s/config.yaml && "
                "systemctl start --no-block k3s-agent")
    assert wait_for(lambda: "token rejected" in sh(lab, H2, "journalctl -u k3s-agent -n 20 --no-pager").stdout, 15)
    assert sh(lab, H2, "systemctl is-active k3s-agent").stdout.strip() == "activating"


def test_a_bad_config_key_fails_the_unit(lab, mirror):
    ok(lab, H2, "systemctl stop k3s-agent; printf 'server: https://10.0.0.1:6443\\ntoken: t\\ncluster-init: true\\n' "
                "> /etc/rancher/k3s/config.yaml")
    assert not sh(lab, H2, "systemctl start k3s-agent").ok
    assert "cluster-init" in sh(lab, H2, "journalctl -u k3s-agent -n 20 --no-pager").stdout
    sh(lab, H2, "systemctl stop k3s-agent")


def test_a_corrupted_download_fails_its_checksum(lab, mirror):
    mirror.corrupt(VERSION)
    try:
        result = sh(lab, H2, f"cd /tmp && curl -fsSO {mirror.url(VERSION, 'k3s')} && "
                             f"curl -fsSO {mirror.url(VERSION, 'sha256sum-amd64.txt')} && "
                             "grep '  k3s$' sha256sum-amd64.txt | sha256sum -c -")
        assert not result.ok and "FAILED" in result.stdout + result.stderr
    finally:
        mirror.repair(VERSION)
    mirror.stop()
    assert not sh(lab, H2, f"curl -fsS -m 5 {mirror.url(VERSION, 'k3s')} -o /dev/null").ok
    mirror.start()


def voters_ready(lab, name: str, count: int, version: str | None = None) -> bool:
    """`count` nodes, all Ready etcd voters (at `version` if given), as kubectl on `name` lists them."""
    result = sh(lab, name, "k3s kubectl get nodes -o json")
    listed = json.loads(result.stdout)["items"] if result.ok else []
    return len(listed) == count and all(
        ready(n) and (version is None or n["status"]["nodeInfo"]["kubeletVersion"] == version)
        and any(c["type"] == "EtcdIsVoter" and c["status"] == "True" for c in n["status"]["conditions"])
        for n in listed)


def test_an_ha_cluster_upgraded_one_server_at_a_time_never_has_two_down(lab, mirror):
    hosts = lab.load_state().hosts
    for name in (H1, H2, H3):
        sh(lab, name, "systemctl stop k3s k3s-agent 2>/dev/null; rm -rf /var/lib/rancher /etc/rancher "
                      "/etc/systemd/system/k3s*.service; systemctl daemon-reload")
    install(lab, H1, mirror, "server", f"token: {TOKEN}\ncluster-init: true\n")
    for name in (H2, H3):
        install(lab, name, mirror, "server", f"token: {TOKEN}\nserver: https://{hosts[H1].address}:6443\n")
    assert wait_for(lambda: voters_ready(lab, H1, 3, VERSION), 15)

    for name in (H1, H2, H3):
        fetch_binary(lab, name, mirror, NEWER)
        ok(lab, name, "systemctl restart k3s")
        assert wait_for(lambda: voters_ready(lab, name, 3), 15), f"{name} did not come back as a voter"
    assert voters_ready(lab, H3, 3, NEWER)

    with urllib.request.urlopen(f"http://{hosts[H1].address}:6443/events", timeout=5) as response:
        events = json.loads(response.read())["events"]
    assert [n for n, _, _ in down_windows(events)] == [H1, H2, H3]
    assert overlapping_downtimes(events) == []
    assert {e["version"] for e in events if e["kind"] == "start"} == {VERSION, NEWER}
