"""Where the cluster is read from: the probes every cluster item shares and the judge that runs on servers only.

The cluster vpskit installs is K3s, so its `kubectl` and its units are named here; the k3s role's audit items
(roles/k3s/audit.py) and the engine's workload items read the same probes, once a host.
"""

from __future__ import annotations

import json

from ..model import Finding, Probes
from .objects import BATCH_KINDS, MONITOR_KINDS

KUBECTL = "k3s kubectl"

CLUSTER_PROBES = {
    # by its unit (vpskit's and K3s's own installer use these names): a server also runs an agent
    "k3s_role": "if [ -f /etc/systemd/system/k3s.service ]; then echo server; "
                "elif [ -f /etc/systemd/system/k3s-agent.service ]; then echo agent; else exit 1; fi",
    "nodes": f"{KUBECTL} get nodes -o json",
    # the workloads and every object the application items read, in one call; the monitors are CRDs (a call
    # of their own, which fails alone where prometheus-operator is not installed)
    "workloads": f"{KUBECTL} get {','.join(BATCH_KINDS)} -A -o json",
    "monitors": f"{KUBECTL} get {','.join(MONITOR_KINDS)} -A -o json",
}


def cluster(*names: str) -> dict[str, str]:
    """The cluster probes of these names, with the one that says whether this host is a server."""
    return {"k3s_role": CLUSTER_PROBES["k3s_role"], **{name: CLUSTER_PROBES[name] for name in names}}


def node_kind(p: Probes) -> str:
    """"server", "agent" or "" (no cluster node here)."""
    return p.out("k3s_role").strip() if p.ok("k3s_role") else ""


def on_servers(judge):
    """A judge that applies on cluster servers only (n/a elsewhere, with the reason)."""
    def judged(p: Probes, v: dict) -> Finding:
        where = node_kind(p)
        if where != "server":
            return Finding.na("K3s is not installed here" if not where else "checked on the servers")
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
