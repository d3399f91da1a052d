"""Kubernetes-style Node objects from what each node last reported in its heartbeats."""

import json

from .logs import iso

READY_WITHIN_SECONDS = 5.0
LEARNER_SECONDS = 3.0


def node_object(node: dict, etcd: bool, now: float) -> dict:
    """One Kubernetes-style Node, from what the node last reported."""
    beat = node.get("last_heartbeat")
    fresh = beat is not None and now - beat < READY_WITHIN_SECONDS
    labels = dict(node.get("labels") or {})
    if node.get("role") == "server":
        labels.update({"node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true"})
        if etcd:
            labels["node-role.kubernetes.io/etcd"] = "true"
    conditions = [{
        "type": "Ready", "status": "True" if fresh else "Unknown",
        "reason": "KubeletReady" if fresh else "NodeStatusUnknown",
        "message": "kubelet is posting ready status" if fresh else "Kubelet stopped posting node status.",
        "lastHeartbeatTime": iso(beat) if beat else None,
    }]
    if node.get("role") == "server" and etcd:
        voter = now - node.get("boot_seen", now) >= LEARNER_SECONDS
        conditions.append({
            "type": "EtcdIsVoter", "status": ("True" if voter else "False") if fresh else "Unknown",
            "reason": "MemberNotLearner" if voter else "MemberIsLearner",
            "message": "Node is a voting member of the etcd cluster" if voter else "Node is a learner",
        })
    addresses = [{"type": t, "address": a} for t, a in (node.get("addresses") or {}).items() if a]
    taints = []
    for taint in node.get("taints") or []:
        key_value, _, effect = taint.rpartition(":")
        key, _, value = key_value.partition("=")
        taints.append({"key": key, "value": value, "effect": effect} if value else {"key": key, "effect": effect})
    spec = {}
    if node.get("unschedulable"):
        # the node lifecycle controller taints a cordoned node (kubernetes pkg/controller/nodelifecycle)
        spec["unschedulable"] = True
        taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})
    if taints:
        spec["taints"] = taints
    version = node.get("version") or ""
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": node["name"], "labels": labels, "creationTimestamp": iso(node.get("created", now)),
                     "annotations": {"k3s.io/node-args": json.dumps(node.get("node_args") or []),
                                     "k3s.io/fake": "true"}},
        "spec": spec,
        "status": {
            "addresses": addresses + [{"type": "Hostname", "address": node["name"]}],
            "conditions": conditions,
            "images": node.get("images") or [],
            "nodeInfo": {"kubeletVersion": version, "kubeProxyVersion": version, "operatingSystem": "linux",
                         "architecture": labels.get("kubernetes.io/arch", "amd64"),
                         "containerRuntimeVersion": "containerd://fake-k3s"},
        },
    }
