"""Workloads for drain tests, as `kubectl apply -f` takes them (the fake's fake/workloads.py)."""

# two web replicas with a budget that lets one go at a time, a cache with emptyDir data, a DaemonSet the drain
# leaves alone
WORKLOADS = [
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
     "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {}}}},
    {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web", "namespace": "shop"},
     "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "cache", "namespace": "shop"},
     "spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "cache"}},
                                          "spec": {"volumes": [{"name": "scratch", "emptyDir": {}}]}}}},
    {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "node-agent", "namespace": "kube-system"},
     "spec": {"template": {"metadata": {"labels": {"app": "node-agent"}}, "spec": {}}}},
]


def blocking(node: str | None = None) -> list[dict]:
    """One db replica (pinned to `node` when given) under a budget that allows no disruption: no drain of its
    node can succeed."""
    pod_spec = {"nodeSelector": {"kubernetes.io/hostname": node}} if node else {}
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "db", "namespace": "shop"},
         "spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "db"}}, "spec": pod_spec}}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "db", "namespace": "shop"},
         "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "db"}}}},
    ]
