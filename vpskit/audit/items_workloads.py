"""Checklist items about the applications in the cluster (audit_namespaces): availability, resources and security
per workload, each a check of cluster/ applied to every workload it concerns, from one kubectl batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .cluster import availability, hygiene, isolation, logs, monitors, podsecurity
from .cluster.objects import BATCH_KINDS, Cluster, Workload, read_cluster, scope
from .cluster.where import ClusterAccess, cluster, on_servers
from .model import Finding, Item, Probes

SHOWN = 8  # workloads named in one item's evidence; the rest are counted
STATEFUL = ("Deployment", "StatefulSet")


@dataclass(frozen=True)
class Check:
    id: str
    section: str
    severity: str
    title: str
    fix: str
    check: Callable[[Workload, Cluster, dict], str | None]
    applies: Callable[[Workload, Cluster, dict], bool] = lambda w, c, v: True
    skipped: str = ""  # why it is n/a when it applies to no workload
    snippet: Callable[[Workload], str] | None = None  # the manifest that fixes one failing workload


def _labels(w: Workload) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(w.labels.items())) + "}"


def pdb_for(w: Workload) -> str:
    return (f"apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {{name: {w.name}, namespace: "
            f"{w.namespace}}}, spec: {{maxUnavailable: 1, selector: {{matchLabels: {_labels(w)}}}}}")


def policy_for(w: Workload) -> str:
    return (f"apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {{name: {w.name}, namespace: "
            f"{w.namespace}}}, spec: {{podSelector: {{matchLabels: {_labels(w)}}}, policyTypes: [Ingress], "
            f"ingress: [<the sources it serves>]}}")


def spread_for(w: Workload) -> str:
    return (f"{w.ref}: spec.template.spec.topologySpreadConstraints: [{{maxSkew: 1, topologyKey: "
            f"kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {{matchLabels: "
            f"{_labels(w)}}}}}]")


CHECKS = [
    Check("app.replicas", "availability", "warning", "Stateless Deployments run 2+ replicas",
          "spec.replicas: 2 (or more; audit_min_replicas)", availability.replicas,
          lambda w, c, v: w.kind == "Deployment", "no Deployment"),
    Check("app.pdb", "availability", "warning", "A PodDisruptionBudget that lets a drain proceed",
          "add a policy/v1 PodDisruptionBudget {spec: {maxUnavailable: 1, selector: {matchLabels: <the pod labels>}}}",
          availability.disruption_budget, lambda w, c, v: w.kind in STATEFUL, "no Deployment or StatefulSet", pdb_for),
    Check("app.spread", "availability", "warning", "Replicas spread across nodes",
          "spec.template.spec.topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, "
          "whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: <the pod labels>}}]",
          availability.spread, lambda w, c, v: w.kind in STATEFUL and w.replicas > 1 and c.nodes > 1,
          "one node, or no workload with more than one replica", spread_for),
    Check("app.probes", "availability", "warning", "Liveness and readiness probes",
          "each container: livenessProbe and readinessProbe (httpGet on the health endpoint; startupProbe for slow "
          "starts)", availability.probes),
    Check("app.resources", "availability", "warning", "CPU/memory requests and a memory limit",
          "each container: resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}",
          availability.resources),
    Check("app.hpa", "availability", "info", "A HorizontalPodAutoscaler (audit_require_hpa)",
          "add an autoscaling/v2 HorizontalPodAutoscaler with scaleTargetRef naming the workload",
          availability.autoscaler, lambda w, c, v: v["audit_require_hpa"] and w.kind in STATEFUL,
          "audit_require_hpa is false"),
    Check("sec.non-root", "security", "critical", "Containers run as non-root",
          "securityContext: {runAsNonRoot: true, runAsUser: 10001} (pod or container)", podsecurity.non_root),
    Check("sec.read-only-root", "security", "warning", "Read-only root filesystem",
          "each container: securityContext.readOnlyRootFilesystem: true (an emptyDir for /tmp)",
          podsecurity.read_only_root),
    Check("sec.capabilities", "security", "warning", "All capabilities dropped",
          "each container: securityContext.capabilities: {drop: [ALL]}", podsecurity.capabilities_dropped),
    Check("sec.privilege-escalation", "security", "warning", "allowPrivilegeEscalation: false",
          "each container: securityContext.allowPrivilegeEscalation: false", podsecurity.no_privilege_escalation),
    Check("sec.seccomp", "security", "warning", "Seccomp profile RuntimeDefault",
          "spec.template.spec.securityContext.seccompProfile: {type: RuntimeDefault}", podsecurity.seccomp),
    Check("sec.service-account", "security", "warning", "No default service account with a mounted token",
          "a ServiceAccount of its own, or spec.template.spec.automountServiceAccountToken: false",
          hygiene.default_account_token),
    Check("sec.images-pinned", "security", "warning", "Images pinned (a tag that is not latest, or a digest)",
          "image: registry/name:1.2.3 (or @sha256:…)", hygiene.images_pinned),
    Check("sec.inline-secrets", "security", "critical", "No credentials written inline in env",
          "env: [{name: X, valueFrom: {secretKeyRef: {name: <secret>, key: <key>}}}]", hygiene.inline_secrets),
    Check("sec.network-policy", "security", "warning", "A NetworkPolicy selects each workload",
          "a networking/v1 NetworkPolicy in the namespace: a default deny ({podSelector: {}, policyTypes: [Ingress]}) "
          "and the allows it needs", isolation.network_policy, snippet=policy_for),
    Check("obs.scraped", "observability", "warning", "Metrics ports scraped (ServiceMonitor/PodMonitor)",
          "a monitoring.coreos.com/v1 ServiceMonitor selecting its Service's metrics port (or a PodMonitor)",
          monitors.monitored, lambda w, c, v: bool(monitors.metrics_ports(w, v)),
          "no workload declares a metrics port (audit_metrics_port_names)"),
]


def _loaded(p: Probes, v: dict) -> Cluster | Finding:
    """The audited part of the cluster, or the failed finding saying why it cannot be read."""
    if not p.ok("workloads"):
        return Finding.fail(f"kubectl get {','.join(BATCH_KINDS)} failed: {p.out('workloads')[:200]}")
    monitors_data = p.json("monitors") if p.ok("monitors") else None
    nodes = len(p.json("nodes").get("items") or []) if p.ok("nodes") else 1
    return read_cluster(p.json("workloads"), monitors_data, scope(v), nodes)


def _listed(problems: list[str]) -> str:
    more = len(problems) - SHOWN
    return "; ".join(problems[:SHOWN]) + (f"; and {more} more" if more > 0 else "")


def judge_of(check: Check):
    @on_servers
    def judge(p: Probes, v: dict) -> Finding:
        cluster = _loaded(p, v)
        if isinstance(cluster, Finding):
            return cluster
        if not cluster.workloads:
            return Finding.na("no workloads in the audited namespaces (audit_namespaces)")
        concerned = [w for w in cluster.workloads if check.applies(w, cluster, v)]
        if not concerned:
            return Finding.na(check.skipped)
        failing = [(w, why) for w in concerned if (why := check.check(w, cluster, v))]
        if failing:
            first = failing[0][0]
            return Finding.fail(f"{len(failing)} of {len(concerned)}: {_listed([f'{w.ref}: {why}' for w, why in failing])}",
                                check.snippet(first) + (" (and likewise for the others)" if len(failing) > 1 else "")
                                if check.snippet else "")
        return Finding.ok(f"all {len(concerned)} workload(s)")
    return judge


@on_servers
def namespace_pss(p: Probes, v: dict) -> Finding:
    """Each audited namespace that runs workloads enforces the Pod Security Standards level asked for."""
    cluster = _loaded(p, v)
    if isinstance(cluster, Finding):
        return cluster
    used = sorted({w.namespace for w in cluster.workloads})
    if not used:
        return Finding.na("no workloads in the audited namespaces (audit_namespaces)")
    problems = [f"{ns}: {why}" for ns in used if (why := isolation.pss_level(ns, cluster.namespaces.get(ns, {}), v))]
    if problems:
        return Finding.fail(f"{len(problems)} of {len(used)}: {_listed(problems)}")
    return Finding.ok(f"{', '.join(used)}: enforce {v['audit_pss_level']} or stricter")


def structured_logs(p: Probes, v: dict) -> Finding:
    """The sampled workloads' last lines are JSON objects (a workload that printed nothing is not counted)."""
    samples = logs.parse(p.out("app_logs"))
    read = [s for s in samples if s.lines]
    if not read:
        unreadable = [f"{s.ref}: {s.error}" for s in samples if s.error]
        return Finding.na("no application log lines read" + (f" ({_listed(unreadable)})" if unreadable else ""))
    problems = [f"{s.ref}: {why}" for s in read if (why := logs.unstructured(s))]
    if problems:
        return Finding.fail(f"{len(problems)} of {len(read)}: {_listed(problems)}")
    return Finding.ok(f"{sum(len(s.lines) for s in read)} line(s) of {len(read)} workload(s), all JSON")


# after the stack's own items in their sections (observability: the monitoring and logging roles' first)
RANK = 100


def items(v: dict, access: ClusterAccess | None = None) -> list[Item]:
    """`access`: how this host reads its cluster (the cluster role's); none: every item not applicable."""
    needs = cluster(access, "nodes", "workloads", "monitors")
    found = [Item(c.id, c.section, c.severity, c.title, c.fix, judge_of(c), needs, rank=RANK + n)
             for n, c in enumerate(CHECKS)]
    found.append(Item("sec.pod-security", "security", "warning", "Namespaces enforce Pod Security Standards",
                      f"kubectl label namespace <ns> {isolation.ENFORCE}={v['audit_pss_level']}", namespace_pss, needs,
                      rank=RANK + len(CHECKS)))
    found.append(Item("obs.structured-logs", "observability", "warning", "Application logs are structured (JSON)",
                      "log one JSON object a line (a JSON formatter in the app's logging set-up), so Loki can "
                      "filter on fields", on_servers(structured_logs), {**cluster(access), **({"app_logs": logs.probe(v, access.kubectl)} if access else {})},
                      rank=RANK + len(CHECKS) + 1))
    return found
