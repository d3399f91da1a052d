"""Pods the drain moves: Deployments, DaemonSets and PodDisruptionBudgets applied with `kubectl apply -f`, their
pods placed on schedulable nodes, cordons, and evictions that respect the budgets. Kept in the cluster state.

Copied from upstream, each where it shows:
- placement: the scheduler skips a node whose `spec.unschedulable` is true (kubernetes
  pkg/scheduler/framework/plugins/nodeunschedulable) and one a `kubernetes.io/hostname` nodeSelector excludes
  (plugins/nodeaffinity), then takes the node with the fewest pods; a Deployment's ReplicaSet replaces a pod that is gone, on
  another node (pkg/controller/replicaset); a DaemonSet has one pod per node, cordoned or not
  (pkg/controller/daemon: its pods tolerate node.kubernetes.io/unschedulable).
- a pod is Ready 2 s after it was created while its node is Ready; a pod whose node stopped reporting is not
  (the kubelet's status stops, then the node lifecycle controller marks the pods NotReady).
- evictions: kubernetes pkg/registry/core/pod/storage/eviction.go `checkAndDecrement`: for a pod a budget
  selects, disruptionsAllowed = currentHealthy − desiredHealthy (pkg/controller/disruption: desiredHealthy is
  minAvailable, or expected − maxUnavailable, expected being the controllers' replicas); 0 allowed is a 429
  "Cannot evict pod as it would violate the pod's disruption budget." with the cause "The disruption budget NAME
  needs N healthy pods and has M currently". An evicted pod is gone at once (the fake has no grace period).
"""

import hashlib

from .client import ApiError

POD_READY_SECONDS = 2.0
KINDS = ("Deployment", "DaemonSet", "PodDisruptionBudget")


def apply(data: dict, objects: list[dict]) -> list[str]:
    """kubectl apply of Deployments, DaemonSets and PodDisruptionBudgets; returns kubectl's lines."""
    stored = data.setdefault("objects", {})
    lines = []
    for obj in objects:
        kind, meta = obj.get("kind"), obj.get("metadata") or {}
        if kind not in KINDS:
            raise ApiError(400, f'the fake k3s applies only {", ".join(KINDS)}, not {kind}')
        key = f"{kind}/{meta.get('namespace', 'default')}/{meta['name']}"
        lines.append(f"{kind.lower()}.{'policy' if kind == 'PodDisruptionBudget' else 'apps'}/{meta['name']} "
                     f"{'configured' if key in stored else 'created'}")
        stored[key] = obj
    return lines


def reconcile(data: dict, ready_nodes: set[str], now: float) -> None:
    """The controllers and the scheduler, played up to now: missing pods made and placed, strays removed."""
    pods = data.setdefault("pods", {})
    schedulable = sorted(n for n, node in data["nodes"].items() if not node.get("unschedulable") and n in ready_nodes)
    for key, obj in data.get("objects", {}).items():
        kind, namespace, name = key.split("/")
        labels = ((obj.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
        volumes = ((obj["spec"].get("template") or {}).get("spec") or {}).get("volumes") or []
        if kind == "Deployment":
            owner = ("ReplicaSet", f"{name}-{hashlib.sha256(name.encode()).hexdigest()[:10]}")
            mine = [p for p in pods.values() if p["owner"] == list(owner) and p["namespace"] == namespace]
            # the scheduler's NodeAffinity plugin: a nodeSelector on kubernetes.io/hostname pins the pods
            pinned = ((obj["spec"].get("template") or {}).get("spec") or {}).get("nodeSelector", {}).get(
                "kubernetes.io/hostname")
            fits = [n for n in schedulable if pinned in (None, n)]
            for _ in range(int(obj["spec"].get("replicas", 1)) - len(mine)):
                if not fits:
                    break
                counts = {n: sum(1 for p in pods.values() if p["node"] == n) for n in fits}
                _add(pods, namespace, owner, labels, volumes, min(fits, key=lambda n: (counts[n], n)), now)
        elif kind == "DaemonSet":
            owner = ("DaemonSet", name)
            for node in data["nodes"]:
                if not any(p["owner"] == list(owner) and p["node"] == node for p in pods.values()):
                    _add(pods, namespace, owner, labels, volumes, node, now)


def _add(pods: dict, namespace: str, owner: tuple, labels: dict, volumes: list, node: str, now: float) -> None:
    suffix = hashlib.sha256(f"{owner}{node}{now}{len(pods)}".encode()).hexdigest()[:5]
    name = f"{owner[1]}-{suffix}"
    pods[f"{namespace}/{name}"] = {"namespace": namespace, "name": name, "owner": list(owner), "labels": labels,
                                   "volumes": volumes, "node": node, "created": now}


def pod_object(pod: dict, ready_nodes: set[str], now: float) -> dict:
    ready = pod["node"] in ready_nodes and now - pod["created"] >= POD_READY_SECONDS
    kind, owner = pod["owner"]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod["name"], "namespace": pod["namespace"], "labels": pod["labels"],
                     "uid": hashlib.sha256(f"{pod['namespace']}/{pod['name']}".encode()).hexdigest()[:32],
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": kind, "name": owner, "controller": True}]},
        "spec": {"nodeName": pod["node"], "volumes": pod["volumes"]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def evict(data: dict, namespace: str, name: str, ready_nodes: set[str], now: float) -> dict:
    pods = data.setdefault("pods", {})
    pod = pods.get(f"{namespace}/{name}")
    if pod is None:
        raise ApiError(404, f'pods "{name}" not found')
    for key, budget in data.get("objects", {}).items():
        kind, budget_namespace, budget_name = key.split("/")
        if kind != "PodDisruptionBudget" or budget_namespace != namespace:
            continue
        wanted = ((budget.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if not wanted or any(pod["labels"].get(k) != v for k, v in wanted.items()):
            continue
        selected = [p for p in pods.values() if p["namespace"] == namespace
                    and all(p["labels"].get(k) == v for k, v in wanted.items())]
        healthy = sum(1 for p in selected
                      if pod_object(p, ready_nodes, now)["status"]["conditions"][0]["status"] == "True")
        desired = _desired_healthy(budget["spec"], _expected(data, namespace, wanted))
        if healthy - desired <= 0:
            raise ApiError(429, "Cannot evict pod as it would violate the pod's disruption budget. "
                                f"The disruption budget {budget_name} needs {desired} healthy pods and has "
                                f"{healthy} currently")
    del pods[f"{namespace}/{name}"]
    return {"evicted": f"{namespace}/{name}", "node": pod["node"], "time": now}


def _expected(data: dict, namespace: str, wanted: dict) -> int:
    """The replicas of the controllers whose pods the budget selects (pkg/controller/disruption getExpectedScale)."""
    total = 0
    for key, obj in data.get("objects", {}).items():
        kind, obj_namespace, _name = key.split("/")
        labels = ((obj.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
        if kind == "Deployment" and obj_namespace == namespace and all(labels.get(k) == v for k, v in wanted.items()):
            total += int(obj["spec"].get("replicas", 1))
    return total


def _desired_healthy(spec: dict, expected: int) -> int:
    """minAvailable, or expected − maxUnavailable; a percentage rounds up as the disruption controller does."""
    def count(value) -> int:
        if isinstance(value, str) and value.endswith("%"):
            return -(-expected * int(value[:-1]) // 100)
        return int(value)
    if "minAvailable" in spec:
        return count(spec["minAvailable"])
    return max(0, expected - count(spec.get("maxUnavailable", 0)))

