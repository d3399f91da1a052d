"""The logging role's audit items: Loki and Grafana Alloy ready in the cluster."""

from __future__ import annotations

from vpskit.audit.cluster.where import cluster
from vpskit.audit.model import Item

from ..k3s.audit import CLUSTER, component

COMPONENTS = {"loki": "Loki", "alloy": "Grafana Alloy"}


def items(v: dict) -> list[Item]:
    return [Item(f"obs.{word}", "observability", "warning", f"{name} ready", "invoke logging", component(word, name),
                 cluster(CLUSTER, "workloads"), rank=40 + 10 * n) for n, (word, name) in enumerate(COMPONENTS.items())]
