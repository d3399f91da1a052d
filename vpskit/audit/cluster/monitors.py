"""Metrics scraped: each workload that declares a metrics port has a ServiceMonitor (through a Service selecting its
pods) or a PodMonitor selecting it (prometheus-operator's monitoring.coreos.com/v1 types: spec.selector,
spec.namespaceSelector {any, matchNames}, endpoints[].port / podMetricsEndpoints[].port)."""

from __future__ import annotations

from .objects import Cluster, Workload, selector_matches, service_selects


def metrics_ports(w: Workload, v: dict) -> dict[str, int]:
    """Container ports whose name says they serve metrics (audit_metrics_port_names): name → number."""
    names = set(v["audit_metrics_port_names"])
    return {p["name"]: p.get("containerPort") for ct in w.containers() for p in ct.get("ports") or []
            if p.get("name") in names}


def _covers(monitor: dict, namespace: str) -> bool:
    spec = monitor.get("spec") or {}
    chosen = spec.get("namespaceSelector") or {}
    if chosen.get("any"):
        return True
    names = chosen.get("matchNames")
    return namespace in names if names else (monitor.get("metadata") or {}).get("namespace") == namespace


def _service_ports(service: dict, ports: dict[str, int]) -> set[str]:
    """The names of the Service's ports that lead to a metrics port (targetPort by name or number; unset: port)."""
    wanted = set(ports) | set(ports.values())
    return {p.get("name") for p in (service.get("spec") or {}).get("ports") or []
            if p.get("name") and p.get("targetPort", p.get("port")) in wanted}


def monitored(w: Workload, c: Cluster, v: dict) -> str | None:
    ports = metrics_ports(w, v)
    if c.monitors is None:
        return f"metrics port {', '.join(sorted(ports))}, but the cluster serves no ServiceMonitor/PodMonitor kinds"
    services = [s for s in c.of("Service", w.namespace) if service_selects(s, w.labels)]
    for monitor in c.monitors:
        spec = monitor.get("spec") or {}
        if not _covers(monitor, w.namespace):
            continue
        if monitor.get("kind") == "PodMonitor" and selector_matches(spec.get("selector"), w.labels) and \
                {e.get("port") for e in spec.get("podMetricsEndpoints") or []} & set(ports):
            return None
        if monitor.get("kind") == "ServiceMonitor" and any(
                selector_matches(spec.get("selector"), (s.get("metadata") or {}).get("labels") or {}) and
                {e.get("port") for e in spec.get("endpoints") or []} & _service_ports(s, ports) for s in services):
            return None
    return f"metrics port {', '.join(sorted(ports))} but no ServiceMonitor or PodMonitor scrapes it"
