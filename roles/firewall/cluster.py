"""The ports a K3s member opens, and only to the hosts that need them (the members, the operator)."""

from __future__ import annotations

from vpskit.facts.ufw import UfwRule

from ..k3s.topology import api_port

TAG = "vpskit"
SERVERS, AGENTS = "k3s_servers", "k3s_agents"


def is_member(ctx) -> bool:
    groups = ctx.inventory.host(ctx.host).groups
    return SERVERS in groups or AGENTS in groups


def cluster_rules(ctx) -> list[UfwRule]:
    """6443 to the API's clients, kubelet and flannel between members, etcd between servers, pod traffic in."""
    if not is_member(ctx):
        return []
    servers = ctx.inventory.hosts(SERVERS)
    members = ctx.inventory.hosts(f"{SERVERS},{AGENTS}")
    address = lambda h: str(h.vars.get("k3s_node_ip") or h.address)  # noqa: E731
    member_ips = list(dict.fromkeys(address(h) for h in members if h.name != ctx.host))
    rules = []
    if ctx.host in {h.name for h in servers}:
        clients = list(ctx["k3s_api_allow"]) or [ctx.get("vpskit_controller_address")]
        for source in dict.fromkeys([*(c for c in clients if c), *member_ips]):
            rules.append(UfwRule("allow", "tcp", str(api_port(ctx)), str(source), f"{TAG}: k3s api"))
        if len(servers) >= 3:
            for source in (address(h) for h in servers if h.name != ctx.host):
                rules.append(UfwRule("allow", "tcp", "2379:2380", source, f"{TAG}: k3s etcd"))
    flannel = ("udp", "51820:51821") if ctx["k3s_flannel_backend"] == "wireguard-native" else ("udp", "8472")
    for source in member_ips:
        rules.append(UfwRule("allow", "tcp", "10250", source, f"{TAG}: k3s kubelet"))
        rules.append(UfwRule("allow", flannel[0], flannel[1], source, f"{TAG}: k3s flannel"))
    extra = ctx.get("k3s_extra_config") or {}
    for source in member_ips:
        # Prometheus on one member scrapes node-exporter (host network) on every other one: flannel
        # masquerades pod traffic to node addresses, so it arrives from the scraping member's address
        if ctx.get("monitoring_enabled"):
            rules.append(UfwRule("allow", "tcp", "9100", source, f"{TAG}: node-exporter"))
        # K3s's embedded registry mirror (Spegel) shares images between members on 5001/tcp
        if extra.get("embedded-registry"):
            rules.append(UfwRule("allow", "tcp", "5001", source, f"{TAG}: k3s embedded registry"))
    for cidr, what in ((ctx["k3s_cluster_cidr"], "pods"), (ctx["k3s_service_cidr"], "services")):
        rules.append(UfwRule("allow", "any", "any", cidr, f"{TAG}: k3s {what}"))
    return rules
