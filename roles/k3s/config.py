"""K3s's config.yaml built as data from the role's variables, then written once."""

from __future__ import annotations

import yaml

from .topology import Topology, api_url

SERVER_ONLY = ("tls-san", "disable", "cluster-cidr", "service-cidr", "flannel-backend", "secrets-encryption",
               "write-kubeconfig-mode", "cluster-init", "etcd-snapshot-schedule-cron", "etcd-snapshot-retention")


def config(ctx, topo: Topology, token: str | None) -> dict:
    """The settings for this host: server (first, joining) or agent. Pure."""
    settings: dict = {"node-name": ctx.get("k3s_node_name") or ctx.host}
    for key, var in (("node-ip", "k3s_node_ip"), ("node-external-ip", "k3s_node_external_ip")):
        if ctx.get(var):
            settings[key] = ctx[var]
    if ctx["k3s_node_labels"]:
        settings["node-label"] = list(ctx["k3s_node_labels"])
    if ctx["k3s_node_taints"]:
        settings["node-taint"] = list(ctx["k3s_node_taints"])
    if topo.is_server:
        settings.update({
            "write-kubeconfig-mode": "0600",
            "secrets-encryption": bool(ctx["k3s_secrets_encryption"]),
            "cluster-cidr": ctx["k3s_cluster_cidr"],
            "service-cidr": ctx["k3s_service_cidr"],
            "flannel-backend": ctx["k3s_flannel_backend"],
            "tls-san": list(dict.fromkeys(_sans(ctx, topo))),
        })
        if ctx["k3s_disable"]:
            settings["disable"] = list(ctx["k3s_disable"])
        if topo.is_first and topo.ha:
            settings["cluster-init"] = True
        if topo.ha:
            settings["etcd-snapshot-schedule-cron"] = ctx["k3s_etcd_snapshot_schedule"]
            settings["etcd-snapshot-retention"] = int(ctx["k3s_etcd_snapshot_retention"])
    if not topo.is_first:
        settings["server"] = api_url(ctx, topo)
    if token is not None:
        settings["token"] = token
    settings.update(ctx["k3s_extra_config"] or {})
    return settings


def _sans(ctx, topo: Topology) -> list[str]:
    own = [v for v in (ctx.get("k3s_api_endpoint"), ctx.get("k3s_node_external_ip")) if v]
    return [*own, *topo.addresses([h for h in topo.servers if h.name == ctx.host]), *ctx["k3s_tls_san"]]


def render(settings: dict) -> str:
    return "# Managed by vpskit (k3s role)\n" + yaml.safe_dump(settings, sort_keys=True, default_flow_style=False)
