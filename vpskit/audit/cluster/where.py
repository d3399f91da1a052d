"""Where the cluster is read from: the probes every cluster item shares and the judge that runs on servers only.

The engine names no cluster: the role that runs one gives its ClusterAccess (`CLUSTER` in its audit.py, found by
Role.cluster_access), and the engine's workload items and the stack roles' items build their probes from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..model import Finding, Probes
from .objects import BATCH_KINDS, MONITOR_KINDS

NODE_KIND = "cluster_node"  # the probe that says whether this host is a server, an agent, or not a node


@dataclass(frozen=True)
class ClusterAccess:
    """How a host reads its cluster: the kubectl command line, and a command that prints "server" or "agent"
    (failing off the cluster)."""

    name: str
    kubectl: str
    node_kind: str

    def probes(self) -> dict[str, str]:
        return {
            NODE_KIND: self.node_kind,
            "nodes": f"{self.kubectl} get nodes -o json",
            # the workloads and every object the application items read, in one call; the monitors are CRDs (a
            # call of their own, which fails alone where prometheus-operator is not installed)
            "workloads": f"{self.kubectl} get {','.join(BATCH_KINDS)} -A -o json",
            "monitors": f"{self.kubectl} get {','.join(MONITOR_KINDS)} -A -o json",
        }


def cluster(access: ClusterAccess | None, *names: str) -> dict[str, str]:
    """The cluster probes of these names, with the one that says whether this host is a server; with no role
    running a cluster, only that one, failing (every cluster item is then not applicable)."""
    if access is None:
        return {NODE_KIND: "false"}
    shared = access.probes()
    return {NODE_KIND: shared[NODE_KIND], **{name: shared[name] for name in names}}


def node_kind(p: Probes) -> str:
    """"server", "agent" or "" (no cluster node here)."""
    return p.out(NODE_KIND).strip() if p.ok(NODE_KIND) else ""


def on_servers(judge):
    """A judge that applies on cluster servers only (n/a elsewhere, with the reason)."""
    def judged(p: Probes, v: dict) -> Finding:
        where = node_kind(p)
        if where != "server":
            return Finding.na("no cluster is installed here" if not where else "checked on the servers")
        return judge(p, v)
    return judged


def listed(p: Probes, name: str) -> dict | None:
    """A kubectl probe's JSON, or None when the command failed or printed something else."""
    if not p.ok(name):
        return None
    try:
        return json.loads(p.out(name))
    except ValueError:
        return None
