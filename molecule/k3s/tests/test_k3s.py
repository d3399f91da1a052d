"""Verify the k3s role: the service runs, the node is Ready, the API answers with the merged kubeconfig."""

import json
from pathlib import Path

import yaml


def test_k3s_service_runs(host):
    assert host.service("k3s").is_running
    assert host.file("/usr/local/bin/k3s").mode == 0o755


def test_node_ready(host):
    nodes = json.loads(host.run("k3s kubectl get nodes -o json").stdout)["items"]
    conditions = {c["type"]: c["status"] for c in nodes[0]["status"]["conditions"]}
    assert conditions["Ready"] == "True"


def test_kubeconfig_merged_private_and_pointing_at_the_server(instance):
    path = Path(instance["inventory"]).parent.parent / "kubeconfig"
    assert path.stat().st_mode & 0o777 == 0o600
    config = yaml.safe_load(path.read_text())
    servers = [c["cluster"]["server"] for c in config["clusters"]]
    assert servers == [f"https://{instance['address']}:6443"]
