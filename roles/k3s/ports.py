"""The ports a K3s member needs, and only from the hosts that need them (the members, the API's clients)."""

from __future__ import annotations

from vpskit.ports import Network, Port, allow_from

from .topology import AGENTS, SERVERS, api_port


def is_member(ctx) -> bool:
    groups = ctx.inventory.host(ctx.host).groups
    return SERVERS in groups or AGENTS in groups


def other_member_addresses(ctx) -> list[str]:
    """Where the other members reach this one from: k3s_node_ip when set, else the inventory address."""
    members = ctx.inventory.hosts(f"{SERVERS},{AGENTS}")
    return list(dict.fromkeys(str(h.vars.get("k3s_node_ip") or h.address) for h in members if h.name != ctx.host))


def network(ctx) -> Network:
    """6443 to the API's clients, kubelet and flannel between members, etcd between servers, pod traffic in.

    A member routes its pods' traffic, so ufw's routed policy defaults to allow on it.
    """
    if not is_member(ctx):
        return Network()
    servers = ctx.inventory.hosts(SERVERS)
    members = other_member_addresses(ctx)
    ports: tuple[Port, ...] = ()
    if ctx.host in {h.name for h in servers}:
        clients = [c for c in list(ctx["k3s_api_allow"]) or [ctx.get("vpskit_controller_address")] if c]
        ports += allow_from([*clients, *members], "tcp", str(api_port(ctx)), "k3s api")
        if len(servers) >= 3:
            others = [str(h.vars.get("k3s_node_ip") or h.address) for h in servers if h.name != ctx.host]
            ports += allow_from(others, "tcp", "2379:2380", "k3s etcd")
    flannel = ("udp", "51820:51821") if ctx["k3s_flannel_backend"] == "wireguard-native" else ("udp", "8472")
    for source in members:
        ports += (Port("tcp", "10250", source, "k3s kubelet"), Port(flannel[0], flannel[1], source, "k3s flannel"))
    if (ctx.get("k3s_extra_config") or {}).get("embedded-registry"):
        # K3s's embedded registry mirror (Spegel) shares images between members on 5001/tcp
        ports += allow_from(members, "tcp", "5001", "k3s embedded registry")
    for cidr, what in ((ctx["k3s_cluster_cidr"], "pods"), (ctx["k3s_service_cidr"], "services")):
        ports += (Port("any", "any", str(cidr), f"k3s {what}"),)
    return Network(ports, routed=True)
