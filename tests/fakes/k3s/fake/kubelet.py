"""What the kubelet refuses at start: a node name the API cannot take, labels it may not set on its own Node."""

import re

from .logs import FatalError

# kubernetes pkg/kubelet/apis/well_known_labels.go: the labels (kubeletLabels) and namespaces
# (kubeletLabelNamespaces) a kubelet may set on itself
KUBELET_LABELS = {
    "kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch", "kubernetes.io/instance-type",
    "beta.kubernetes.io/os", "beta.kubernetes.io/arch", "beta.kubernetes.io/instance-type",
    "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
    "failure-domain.kubernetes.io/zone", "failure-domain.kubernetes.io/region",
    "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
}
KUBELET_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")
NODE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _in(namespace: str, suffixes) -> bool:
    return any(namespace == s or namespace.endswith("." + s) for s in suffixes)


def check_node(name: str, labels: list) -> None:
    """Exits as K3s does when its kubelet would not start or its Node could not be created."""
    # kubernetes cmd/kubelet/app/options/options.go (ValidateKubeletFlags): unknown kubernetes.io / k8s.io
    # labels in --node-labels end the kubelet, and with it k3s, at every start (k3s-io/k3s#10916)
    refused = []
    for item in labels:
        key = item.partition("=")[0]
        namespace = key.split("/", 1)[0] if "/" in key else ""
        if key in KUBELET_LABELS or _in(namespace, KUBELET_NAMESPACES):
            continue
        if _in(namespace, ("kubernetes.io", "k8s.io")):
            refused.append(key)
    if refused:
        raise FatalError(f"kubelet exited: failed to validate kubelet flags: unknown 'kubernetes.io' or 'k8s.io' "
                         f"labels specified with --node-labels: {refused}")
    # the API server validates Node names as DNS subdomains (RFC 1123): a node called so never registers
    if len(name) > 253 or not NODE_NAME.fullmatch(name):
        raise FatalError(f'Node "{name}" is invalid: metadata.name: Invalid value: "{name}": a lowercase RFC 1123 '
                         "subdomain must consist of lower case alphanumeric characters, '-' or '.'")
