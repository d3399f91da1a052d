"""The fake K3s's cordon, drain and uncordon (tests/fakes/k3s/fake/drain.py, workloads.py) on loopback processes:
kubectl's messages and exit codes, DaemonSets ignored, emptyDir refused without its flag, a budget that allows
an eviction and one that blocks it until the timeout, each recorded as an event."""

from __future__ import annotations

import json

import yaml

from tests.fakes.k3s.examples import WORKLOADS, blocking
from tests.unit.test_fake_k3s import binary, condition, hosts, nodes_by_name, server_config, start, wait_for  # noqa: F401

def cluster(hosts, start, objects):  # noqa: F811
    first, worker = hosts("s1"), hosts("a1")
    first.write_config(server_config(**{"node-name": "s1"}))
    assert start(first, "server").wait_ready()
    worker.write_config({"token": "correct-horse", "server": f"https://127.0.0.1:{first.port}", "node-name": "a1"})
    assert start(worker, "agent").wait_ready()
    assert wait_for(lambda: condition(nodes_by_name(first).get("a1", {"status": {"conditions": []}}), "Ready")
                    == "True", 5)
    manifest = first.root / "workloads.yaml"
    manifest.write_text(yaml.safe_dump_all(objects))
    applied = first.run("kubectl", "apply", "-f", str(manifest))
    assert applied.returncode == 0, applied.stderr
    return first


def pods(first, node=None) -> list[dict]:
    args = ["kubectl", "get", "pods", "-A", "-o", "json"] + (["--field-selector", f"spec.nodeName={node}"] if node else [])
    return json.loads(first.run(*args).stdout)["items"]


def ready(pod) -> bool:
    return pod["status"]["conditions"][0]["status"] == "True"


def test_drain_evicts_managed_pods_ignores_daemonsets_and_the_pods_come_back_elsewhere(hosts, start):  # noqa: F811
    first = cluster(hosts, start, WORKLOADS)
    assert wait_for(lambda: all(ready(p) for p in pods(first)) and len(pods(first)) == 5, 5)
    on_agent = {p["metadata"]["name"] for p in pods(first, "a1") if p["metadata"]["ownerReferences"][0]["kind"] != "DaemonSet"}
    assert on_agent  # spread over both nodes

    refused = first.run("kubectl", "drain", "a1")
    assert refused.returncode == 1
    assert "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/node-agent-" in refused.stderr
    assert 'error: unable to drain node "a1" due to error: ' in refused.stderr and "There are pending nodes" in refused.stderr
    assert refused.stdout.startswith("node/a1 cordoned")  # drain cordons first, and leaves it so

    no_unit = first.run("kubectl", "drain", "a1", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=30")
    assert no_unit.returncode == 1 and 'missing unit in duration "30"' in no_unit.stderr

    drained = first.run("kubectl", "drain", "a1", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=20s")
    assert drained.returncode == 0, drained.stderr
    assert drained.stdout.splitlines()[0] == "node/a1 already cordoned"
    assert drained.stdout.rstrip().endswith("node/a1 drained")
    assert "Warning: ignoring DaemonSet-managed Pods: kube-system/node-agent-" in drained.stderr
    assert all(f"pod/{name} evicted" in drained.stdout for name in on_agent)
    left = pods(first, "a1")
    assert [p["metadata"]["ownerReferences"][0]["kind"] for p in left] == ["DaemonSet"]
    assert nodes_by_name(first)["a1"]["spec"]["unschedulable"] is True
    assert wait_for(lambda: sum(ready(p) for p in pods(first, "s1")) == 4, 5)  # web ×2, cache, node-agent

    assert first.run("kubectl", "uncordon", "a1").stdout.strip() == "node/a1 uncordoned"
    assert first.run("kubectl", "uncordon", "a1").stdout.strip() == "node/a1 already uncordoned"
    assert "unschedulable" not in nodes_by_name(first)["a1"]["spec"]
    kinds = [(e["node"], e["kind"]) for e in first.api("/events")["events"] if e["kind"] in ("cordon", "uncordon", "evict")]
    assert kinds[0] == ("a1", "cordon") and kinds[-1] == ("a1", "uncordon")
    assert {k for k in kinds[1:-1]} == {("a1", "evict")}


def test_emptydir_pods_need_their_flag(hosts, start):  # noqa: F811
    first = cluster(hosts, start, [WORKLOADS[2]])
    node = pods(first)[0]["spec"]["nodeName"]
    refused = first.run("kubectl", "drain", node, "--ignore-daemonsets")
    assert refused.returncode == 1
    assert "cannot delete Pods with local storage (use --delete-emptydir-data to override): shop/cache-" in refused.stderr


def test_a_budget_that_allows_no_disruption_blocks_until_the_timeout(hosts, start):  # noqa: F811
    first = cluster(hosts, start, blocking())
    assert wait_for(lambda: all(ready(p) for p in pods(first)), 5)
    node = pods(first)[0]["spec"]["nodeName"]
    blocked = first.run("kubectl", "drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=1s")
    assert blocked.returncode == 1
    assert "(will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget." in blocked.stderr
    assert "global timeout reached: 1s" in blocked.stderr
    assert "node/" + node + " drained" not in blocked.stdout
    assert len(pods(first, node)) == 1  # still there
