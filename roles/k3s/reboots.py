"""What `invoke reboot` needs from the k3s role: which hosts are cluster nodes (one at a time), and for each a
drainer that moves its pods away before the reboot and back after (drain.py's NodeDrain), with kubectl on a
server: another one when there is one (the rebooting server's own API is down meanwhile), else the node itself."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable

from vpskit.playbook import select

from .drain import NodeDrain
from .nodename import registered_name
from .topology import AGENTS, SERVERS


def cluster_nodes(inventory) -> list:
    """The inventory's K3s servers and agents (Host objects), servers first."""
    seen, nodes = set(), []
    for host in [*select(inventory, SERVERS), *select(inventory, AGENTS)]:
        if host.name not in seen:
            seen.add(host.name)
            nodes.append(host)
    return nodes


class RebootDrain:
    """cordon + drain before the reboot; Ready (and an etcd voter for HA servers) + uncordon + workloads after."""

    def __init__(self, host, servers: list, session: Callable[[object], object], members: int):
        self.host, self.session = host, session
        self.node = registered_name(host.get("k3s_node_name") or host.name)
        self.via = next((s for s in servers if s.name != host.name), None) or host
        self.voter = len(servers) >= 3 and any(s.name == host.name for s in servers)
        self.skip = ("k3s_drain is off: not drained" if not host.get("k3s_drain", True) else
                     "single-node cluster: not drained" if members < 2 else None)
        self.node_drain = NodeDrain(self.node, int(host.get("k3s_drain_timeout", 300)),
                                    int(host.get("k3s_ready_timeout", 300)))

    @contextmanager
    def _kube(self):
        session = self.session(self.via)
        try:
            yield session
        finally:
            session.connection.close()

    def drain(self):
        if self.skip:
            return None
        with self._kube() as kube:
            if not self.node_drain.member(kube):
                return None
            return self.node_drain.drain(kube, self.host.name)

    def restore(self, drained) -> str:
        if drained is None:
            return self.skip or f"node {self.node} not in the cluster: nothing to drain"
        from . import node_ready
        with self._kube() as kube:
            self.node_drain.wait_node_ready(kube, self.host.name, lambda n: node_ready(n, None, self.voter),
                                            f"node {self.node} Ready")
            self.node_drain.restore(kube, self.host.name, drained)
        said = f"; emptyDir data deleted: {', '.join(drained.emptydir)}" if drained.emptydir else ""
        return (f"drained {self.node} ({drained.evicted} pod(s) evicted) through {self.via.name}, Ready again, "
                f"uncordoned, drained workloads ready again{said}")


def reboot_drains(inventory, session: Callable[[object], object]) -> dict[str, RebootDrain]:
    """A drainer per cluster node, by host name; `session(host)` opens a HostSession on a host."""
    nodes = cluster_nodes(inventory)
    servers = [h for h in nodes if h.name in {s.name for s in select(inventory, SERVERS)}]
    return {h.name: RebootDrain(h, servers, session, len(nodes)) for h in nodes}
