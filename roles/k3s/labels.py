"""Node labels a kubelet may set on its own Node (the rest make K3s exit at every start), and taints' form."""

from __future__ import annotations

import re

# kubelet's own list (kubernetes pkg/kubelet/apis/well_known_labels.go, kubeletLabels) and the namespaces
# it may use freely (kubeletLabelNamespaces); any other kubernetes.io / k8s.io key is refused by
# the kubelet's flag validation (cmd/kubelet/app/options/options.go, ValidateKubeletFlags)
KUBELET_LABELS = {
    "kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch", "kubernetes.io/instance-type",
    "beta.kubernetes.io/os", "beta.kubernetes.io/arch", "beta.kubernetes.io/instance-type",
    "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
    "failure-domain.kubernetes.io/zone", "failure-domain.kubernetes.io/region",
    "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
}
KUBELET_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")
RESTRICTED = ("kubernetes.io", "k8s.io")
KEY = re.compile(r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")


def _in(namespace: str, suffixes) -> bool:
    return any(namespace == s or namespace.endswith("." + s) for s in suffixes)


def self_settable(key: str) -> bool:
    """True when a kubelet may set label `key` on its own Node. Pure."""
    namespace = key.split("/", 1)[0] if "/" in key else ""
    if key in KUBELET_LABELS or _in(namespace, KUBELET_NAMESPACES):
        return True
    return not _in(namespace, RESTRICTED)


def labels_error(value) -> str | None:
    """Why k3s_node_labels would not start K3s, with what to do instead, else None. Pure."""
    if not isinstance(value, list):
        return f"must be a list of \"key=value\", got {type(value).__name__}"
    for index, item in enumerate(value):
        key, eq, val = str(item).partition("=")
        if not isinstance(item, str) or not eq or not KEY.fullmatch(key) or not VALUE.fullmatch(val):
            return f"[{index}] {item!r} is not a label \"key=value\" (Kubernetes label key and value syntax)"
        if not self_settable(key):
            return (f"[{index}] {key!r}: a kubelet may not set labels in the kubernetes.io or k8s.io namespaces "
                    f"on its own node (K3s would exit at every start); set it after the node joined: "
                    f"kubectl label node NODE {item}")
    return None


def taints_error(value) -> str | None:
    """Why k3s_node_taints is not a list of "key[=value]:Effect", else None. Pure."""
    if not isinstance(value, list):
        return f"must be a list of \"key=value:Effect\", got {type(value).__name__}"
    for index, item in enumerate(value):
        head, colon, effect = str(item).rpartition(":")
        key = head.partition("=")[0]
        if not isinstance(item, str) or not colon or effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute") \
                or not KEY.fullmatch(key):
            return f"[{index}] {item!r} is not a taint \"key=value:NoSchedule|PreferNoSchedule|NoExecute\""
    return None
