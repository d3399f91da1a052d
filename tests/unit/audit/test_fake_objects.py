"""The fake K3s answers the audit's own kubectl batch from what the deploy controller applied: the recorded good
application written to the auto-deploy folder as a user would write it comes back in the API's shape and passes
the application items; the monitoring kinds are not served before a CRD; `.skip` files and objects of missing
namespaces are not applied."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from vpskit.audit import items_workloads
from vpskit.audit.model import Probes
from vpskit.builtin_roles.k3s.audit import CLUSTER
from tests.unit.audit.workloads import DEFAULTS, listed, nodes

PROBES = CLUSTER.probes()  # the K3s role's cluster reads, as the audit sends them

REPO = Path(__file__).parents[3]
SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "generation")


def as_written(obj: dict) -> dict:
    """A fixture object as its manifest: without what the API server and controllers add."""
    obj = {k: v for k, v in obj.items() if k != "status"}
    obj["metadata"] = {k: v for k, v in obj["metadata"].items() if k not in SERVER_FIELDS and k != "annotations"}
    return obj


def fake_kubectl(root: Path, command: str) -> subprocess.CompletedProcess:
    words = command.split()
    assert words[:2] == ["k3s", "kubectl"], command
    return subprocess.run([sys.executable, "-m", "tests.fakes.k3s.fake", *words[1:]], cwd=REPO, text=True,
                          capture_output=True, env={**os.environ, "FAKE_K3S_ROOT": str(root)}, timeout=60)


def manifests(root: Path) -> Path:
    folder = root / "var/lib/rancher/k3s/server/manifests"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_applied_application_comes_back_in_the_api_shape_and_passes(tmp_path):
    written = [as_written(o) for o in listed("good")["items"] if o["metadata"]["name"] != "kube-system"]
    (manifests(tmp_path) / "shop.yaml").write_text(yaml.safe_dump_all(written))
    answer = fake_kubectl(tmp_path, PROBES["workloads"])
    assert answer.returncode == 0, answer.stderr
    data = json.loads(answer.stdout)
    assert data["kind"] == "List" and data["metadata"] == {"resourceVersion": ""}
    kinds = [i["kind"] for i in data["items"]]
    assert kinds == sorted(kinds, key=["Namespace", "ServiceAccount", "Deployment", "StatefulSet",
                                       "PodDisruptionBudget", "NetworkPolicy", "Service",
                                       "HorizontalPodAutoscaler"].index)  # in the order asked
    namespaces = {i["metadata"]["name"]: i for i in data["items"] if i["kind"] == "Namespace"}
    assert set(namespaces) == {"default", "kube-node-lease", "kube-public", "kube-system", "shop"}
    assert namespaces["shop"]["metadata"]["labels"]["kubernetes.io/metadata.name"] == "shop"
    accounts = {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in data["items"] if i["kind"] == "ServiceAccount"}
    assert ("kube-public", "default") in accounts and ("shop", "backend") in accounts
    backend = next(i for i in data["items"] if i["kind"] == "Deployment")
    assert backend["status"]["readyReplicas"] == 2 and backend["metadata"]["uid"]
    monitors = fake_kubectl(tmp_path, PROBES["monitors"])
    assert monitors.returncode == 1 and 'doesn\'t have a resource type "servicemonitors"' in monitors.stderr
    probes = Probes({"cluster_node": (0, "server\n"), "nodes": (0, json.dumps(nodes(2))), "workloads": (0, answer.stdout),
                     "app_logs": (0, ""),
                     "monitors": (monitors.returncode, monitors.stdout)})
    found = {i.id: i.judge(probes, DEFAULTS) for i in items_workloads.items(DEFAULTS)}
    assert {k: f.status for k, f in found.items() if f.status != "pass"} == \
        {"app.hpa": "n/a", "obs.scraped": "fail", "obs.structured-logs": "n/a"}, found
    assert "serves no ServiceMonitor/PodMonitor" in found["obs.scraped"].evidence


def test_skipped_files_and_objects_of_missing_namespaces_are_not_served(tmp_path):
    folder = manifests(tmp_path)
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny"},
              "spec": {"podSelector": {}}}
    (folder / "a.yaml").write_text(yaml.safe_dump(policy))
    (folder / "b.yaml").write_text(yaml.safe_dump({**policy, "metadata": {"name": "skipped"}}))
    (folder / "b.yaml.skip").write_text("")
    (folder / "c.yaml").write_text(yaml.safe_dump({**policy, "metadata": {"name": "lost", "namespace": "nowhere"}}))
    answer = fake_kubectl(tmp_path, "k3s kubectl get netpol -A -o json")
    assert answer.returncode == 0, answer.stderr
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in json.loads(answer.stdout)["items"]] == \
        [("default", "deny")]
    unfaked = fake_kubectl(tmp_path, "k3s kubectl get pods,widgets -A -o json")
    assert unfaked.returncode == 1 and "the fake k3s does not list pods" in unfaked.stderr
    unknown = fake_kubectl(tmp_path, "k3s kubectl get services,widgets -A -o json")
    assert unknown.returncode == 1 and 'the server doesn\'t have a resource type "widgets"' in unknown.stderr
