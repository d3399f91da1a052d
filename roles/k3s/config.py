"""K3s's config.yaml built as data from the role's variables, then written once."""

from __future__ import annotations

import yaml

from vpskit.secrets import unmarked

from .flags import wrong_role_keys
from .hardening import component_args, merge_args
from .nodename import node_name
from .topology import Topology, api_url

# the agent token the first server generates when k3s_agent_token is not set (K3s reads it at every start)
AGENT_TOKEN_FILE = "/var/lib/vpskit/k3s/agent-token"

SERVER_ONLY = ("agent-token", "agent-token-file", "tls-san", "disable", "cluster-cidr", "service-cidr", "flannel-backend", "secrets-encryption",
               "write-kubeconfig-mode", "cluster-init", "etcd-snapshot-schedule-cron", "etcd-snapshot-retention")


def config(ctx, topo: Topology, token: str | None, agent_token: str | None = None) -> dict:
    """The settings for this host: server (first, joining) or agent. Pure.

    `token` is the server token (servers) or the agent token (agents); `agent_token` is what servers admit
    agents with: never the server token, which is cluster admin on whatever host holds it.
    """
    settings: dict = {"node-name": node_name(ctx)}
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
        if agent_token is not None:
            settings["agent-token"] = agent_token
        elif topo.is_first:
            settings["agent-token-file"] = AGENT_TOKEN_FILE
    if not topo.is_first:
        settings["server"] = api_url(ctx, topo)
    if token is not None:
        settings["token"] = token
    extra = ctx["k3s_extra_config"] or {}
    # set once for the whole cluster: each host gets the keys its k3s (server or agent) takes
    skipped = set(wrong_role_keys(extra, topo.is_server))
    settings.update({k: v for k, v in extra.items() if k not in skipped})
    if ctx["k3s_hardening"]:
        settings = merge_args(settings, component_args(ctx.vars, topo.is_server))
    return settings


def _sans(ctx, topo: Topology) -> list[str]:
    own = [v for v in (ctx.get("k3s_api_endpoint"), ctx.get("k3s_node_external_ip")) if v]
    return [*own, *topo.addresses([h for h in topo.servers if h.name == ctx.host]), *ctx["k3s_tls_san"]]


def render(settings: dict) -> str:
    return "# Managed by vpskit (k3s role)\n" + yaml.safe_dump(unmarked(settings), sort_keys=True, default_flow_style=False)
