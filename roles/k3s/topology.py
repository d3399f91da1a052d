"""The cluster's shape from the inventory: which hosts serve, which is first, and where the API is."""

from __future__ import annotations

from dataclasses import dataclass

from vpskit.errors import InventoryError, VpskitError

SERVERS, AGENTS = "k3s_servers", "k3s_agents"


@dataclass(frozen=True)
class Topology:
    servers: list  # HostView, inventory order
    agents: list
    host: str
    # a rebuilt first server joins through this surviving server (`invoke k3s.replace`) instead of
    # starting a second cluster with cluster-init
    join_via: object = None

    @property
    def ha(self) -> bool:
        return len(self.servers) >= 3

    @property
    def first(self):
        return self.servers[0]

    @property
    def is_server(self) -> bool:
        return any(s.name == self.host for s in self.servers)

    @property
    def is_first(self) -> bool:
        return self.servers[0].name == self.host and self.join_via is None

    def members(self) -> list:
        return [*self.servers, *self.agents]

    def addresses(self, hosts: list) -> list[str]:
        """Where members reach each other: k3s_node_ip when set, else the inventory address."""
        return [str(h.vars.get("k3s_node_ip") or h.address) for h in hosts]


def servers_error(count: int) -> str | None:
    """Why this many servers cannot make a cluster (etcd quorum), else None. Pure."""
    if count % 2 == 0 and count:
        return (f"{SERVERS} has {count} hosts: use 1 (single server) or an odd number ≥ 3. Embedded etcd "
                f"needs a majority to work; with {count} servers losing {count // 2} stops the "
                f"cluster, the same as with {count - 1}, so an even number only adds a way to fail")
    return None


def inventory_errors(inventory) -> list[InventoryError]:
    """The cluster's shape, checked when the inventory loads (before any play connects), at the group's line."""
    def members(group: str) -> list:
        return [h for h in inventory.hosts.values() if group in h.groups]
    servers, agents = members(SERVERS), [h for h in members(AGENTS) if SERVERS not in h.groups]
    errors = []
    if servers_error(len(servers)):
        errors.append(InventoryError(servers_error(len(servers)), inventory.path, inventory.groups[SERVERS].line))
    if agents and not servers:
        errors.append(InventoryError(f"{AGENTS} has hosts but the inventory has no {SERVERS}: agents join a server",
                                     inventory.path, inventory.groups[AGENTS].line))
    return errors


def topology(ctx) -> Topology:
    """Validated: at least one server, never an even number of them (etcd quorum)."""
    servers, agents = ctx.inventory.hosts(SERVERS), ctx.inventory.hosts(f"{AGENTS},!{SERVERS}")
    if not servers:
        raise VpskitError(f"{ctx.host} is in {AGENTS} but the inventory has no {SERVERS}: agents join a server")
    if servers_error(len(servers)):
        raise VpskitError(servers_error(len(servers)))
    via = ctx.get("k3s_join_via")
    join_via = None
    if via and servers[0].name == ctx.host:
        join_via = next((s for s in servers if s.name == via and s.name != ctx.host), None)
        if join_via is None:
            raise VpskitError(f"k3s_join_via {via!r} is not another host of {SERVERS}")
    return Topology(servers, agents, ctx.host, join_via)


def api_port(ctx) -> int:
    """6443, or the https-listen-port set in k3s_extra_config (every server listens on the same one)."""
    return int((ctx.get("k3s_extra_config") or {}).get("https-listen-port") or 6443)


def api_url(ctx, topo: Topology) -> str:
    """The API clients and joining nodes use; a rebuilt first server joins through its surviving server."""
    if topo.join_via is not None:
        endpoint = topo.addresses([topo.join_via])[0]
    else:
        endpoint = ctx.get("k3s_api_endpoint") or topo.addresses([topo.first])[0]
    host = f"[{endpoint}]" if ":" in str(endpoint) else endpoint
    return f"https://{host}:{api_port(ctx)}"
