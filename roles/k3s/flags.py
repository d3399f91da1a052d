"""The keys k3s server and k3s agent take in config.yaml, for the pinned release: k3s_extra_config is checked
against them at load, since K3s itself only warns and skips a key it does not know (pkg/configfilearg)."""

from __future__ import annotations

import difflib

# From K3s's CLI definitions (pkg/cli/cmds/server.go, agent.go) and docs.k3s.io "k3s server" / "k3s agent".
BOTH = frozenset("""
airgap-extra-registry alsologtostderr bind-address config container-runtime-endpoint data-dir debug
default-runtime disable-default-registry-endpoint docker enable-pprof flannel-cni-conf flannel-conf
flannel-iface image-credential-provider-bin-dir image-credential-provider-config image-service-endpoint
kube-proxy-arg kubelet-arg lb-server-port log node-external-dns node-external-ip node-internal-dns node-ip
node-label node-name node-taint nonroot-devices pause-image prefer-bundled-bin private-registry
protect-kernel-defaults resolv-conf rootless selinux server snapshotter token token-file v vmodule vpn-auth
vpn-auth-file with-node-id
""".split())
SERVER_ONLY = frozenset("""
advertise-address advertise-port agent-token agent-token-file cluster-cidr cluster-dns cluster-domain
cluster-init cluster-reset cluster-reset-restore-path datastore-cafile datastore-certfile datastore-endpoint
datastore-keyfile default-local-storage-path disable disable-agent disable-apiserver disable-cloud-controller
disable-controller-manager disable-etcd disable-helm-controller disable-kube-proxy disable-network-policy
disable-scheduler egress-selector-mode embedded-registry etcd-arg etcd-disable-snapshots etcd-expose-metrics
etcd-s3 etcd-s3-access-key etcd-s3-bucket etcd-s3-config-secret etcd-s3-endpoint etcd-s3-endpoint-ca
etcd-s3-folder etcd-s3-insecure etcd-s3-proxy etcd-s3-region etcd-s3-secret-key etcd-s3-skip-ssl-verify
etcd-s3-timeout etcd-snapshot-compress etcd-snapshot-dir etcd-snapshot-name etcd-snapshot-retention
etcd-snapshot-schedule-cron flannel-backend flannel-external-ip flannel-ipv6-masq helm-job-image
https-listen-port kube-apiserver-arg kube-cloud-controller-manager-arg kube-controller-manager-arg
kube-scheduler-arg secrets-encryption secrets-encryption-provider service-cidr service-node-port-range
servicelb-namespace supervisor-metrics system-default-registry tls-san tls-san-security write-kubeconfig
write-kubeconfig-group write-kubeconfig-mode
""".split())
AGENT_ONLY = frozenset("""
disable-apiserver-lb
""".split())
# keys vpskit writes itself from its own variables: set those instead
OWN = {"node-name": "k3s_node_name", "node-ip": "k3s_node_ip", "node-external-ip": "k3s_node_external_ip",
       "node-label": "k3s_node_labels", "node-taint": "k3s_node_taints", "tls-san": "k3s_tls_san",
       "disable": "k3s_disable", "cluster-cidr": "k3s_cluster_cidr", "service-cidr": "k3s_service_cidr",
       "flannel-backend": "k3s_flannel_backend", "secrets-encryption": "k3s_secrets_encryption",
       "token": "k3s_token", "agent-token": "k3s_agent_token", "server": "k3s_api_endpoint",
       "etcd-snapshot-schedule-cron": "k3s_etcd_snapshot_schedule",
       "etcd-snapshot-retention": "k3s_etcd_snapshot_retention"}


def extra_config_error(value) -> str | None:
    """Why a k3s_extra_config mapping has a key K3s would skip, or one vpskit sets itself, else None. Pure."""
    if not isinstance(value, dict):
        return f"must be a mapping of k3s config keys to values, got {type(value).__name__}"
    known = BOTH | SERVER_ONLY | AGENT_ONLY
    for raw in value:
        key = str(raw)[:-1] if str(raw).endswith("+") else str(raw)
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else " (see `k3s server --help`, `k3s agent --help`)"
            return f"key {raw!r} is not a k3s server or agent setting of the pinned release{hint}"
        if key in OWN:
            return f"key {raw!r} is set by vpskit: use {OWN[key]} instead"
    return None


def wrong_role_keys(value: dict, is_server: bool) -> list[str]:
    """k3s_extra_config keys this host's K3s (server or agent) does not take; K3s would skip them. Pure."""
    other = AGENT_ONLY if is_server else SERVER_ONLY
    return [str(k) for k in value if str(k).rstrip("+") in other]
