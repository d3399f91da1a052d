"""The application items on real objects: the stack's charts rendered by the real helm with vpskit's values
(tests/charts), audited as if they were applications. Every item reads them without error; cert-manager's chart,
which ships the restricted securityContext, passes the pod security items; and its metrics port is found scraped
through kube-prometheus-stack's ServiceMonitor, its Service and its pods — the seam the item checks."""

from __future__ import annotations

import json

from tests.charts.written import helm_charts, render_chart
from tests.unit.audit.workloads import DEFAULTS, nodes
from vpskit.audit import items_workloads
from vpskit.audit.cluster import monitors, podsecurity
from vpskit.audit.cluster.objects import read_cluster, scope
from vpskit.audit.model import Probes

KINDS = {"Namespace", "ServiceAccount", "Deployment", "StatefulSet", "DaemonSet", "PodDisruptionBudget",
         "NetworkPolicy", "Service", "HorizontalPodAutoscaler"}
MONITORS = {"ServiceMonitor", "PodMonitor"}


def rendered_stack() -> tuple[dict, dict, list[str]]:
    """(the batch, the monitors) as kubectl would list the installed stack, and its namespaces."""
    batch, found, namespaces = [], [], []
    for chart in helm_charts("full"):
        namespace = chart["spec"]["targetNamespace"]
        namespaces.append(namespace)
        for obj in render_chart(chart):
            obj.setdefault("metadata", {}).setdefault("namespace", namespace)  # helm applies it in the release's
            if obj["kind"] in KINDS:
                batch.append(obj)
            elif obj["kind"] in MONITORS:
                found.append(obj)
    return {"kind": "List", "items": batch}, {"kind": "List", "items": found}, sorted(set(namespaces))


def test_every_item_reads_the_real_charts_objects_and_cert_manager_passes_pod_security():
    batch, found, namespaces = rendered_stack()
    v = {**DEFAULTS, "audit_namespaces": namespaces}
    probes = Probes({"cluster_node": (0, "server\n"), "nodes": (0, json.dumps(nodes(1))),
                     "workloads": (0, json.dumps(batch)), "monitors": (0, json.dumps(found)), "app_logs": (0, "")})
    findings = {i.id: i.judge(probes, v) for i in items_workloads.items(v)}
    assert all(f.status in ("pass", "fail", "n/a", "warn") for f in findings.values())
    assert not any("could not read" in f.evidence for f in findings.values())
    cluster = read_cluster(batch, found, scope(v), 1)
    cert_manager = [w for w in cluster.workloads if w.namespace == "cert-manager" and w.kind == "Deployment"]
    assert len(cert_manager) == 3, [w.ref for w in cluster.workloads]
    for check in (podsecurity.non_root, podsecurity.capabilities_dropped, podsecurity.no_privilege_escalation,
                  podsecurity.seccomp):
        assert [check(w, cluster, v) for w in cert_manager] == [None] * 3, check.__name__
    controller = next(w for w in cert_manager if monitors.metrics_ports(w, v) and "webhook" not in w.name
                      and "cainjector" not in w.name)
    assert monitors.monitored(controller, cluster, v) is None, controller.ref
