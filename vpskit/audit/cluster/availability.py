"""High availability and resources: replicas, PodDisruptionBudgets, spreading across nodes, probes, requests and
limits, autoscaling. Each check: (workload, cluster, variables) → the problem, or None when it holds."""

from __future__ import annotations

import math

from .objects import Cluster, Workload, selector_matches

HOSTNAME = "kubernetes.io/hostname"


def replicas(w: Workload, c: Cluster, v: dict) -> str | None:
    want = v["audit_min_replicas"]
    return f"{w.replicas} replica(s), want at least {want}" if w.replicas < want else None


def _count(value, replicas: int) -> int:
    """An IntOrString of a PDB as a pod count: '50%' of replicas rounded up, as kubernetes'
    pkg/controller/disruption/disruption.go scales both minAvailable and maxUnavailable
    (intstr.GetScaledValueFromIntOrPercent(…, roundUp=true))."""
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * replicas / 100)
    return int(value)


def pdbs_of(w: Workload, c: Cluster) -> list[dict]:
    return [p for p in c.of("PodDisruptionBudget", w.namespace)
            if selector_matches((p.get("spec") or {}).get("selector"), w.labels)]


def disruption_budget(w: Workload, c: Cluster, v: dict) -> str | None:
    """A PDB selects the pods and lets at least one be evicted when all are up (else a drain hangs for ever)."""
    found = pdbs_of(w, c)
    if not found:
        return "no PodDisruptionBudget selects its pods"
    for pdb in found:
        spec, name = pdb.get("spec") or {}, pdb["metadata"]["name"]
        if "maxUnavailable" in spec and _count(spec["maxUnavailable"], w.replicas) < 1:
            return f"PodDisruptionBudget {name}: maxUnavailable {spec['maxUnavailable']} blocks every eviction"
        if "minAvailable" in spec and _count(spec["minAvailable"], w.replicas) >= w.replicas:
            return (f"PodDisruptionBudget {name}: minAvailable {spec['minAvailable']} of {w.replicas} replica(s) "
                    f"blocks every eviction")
    return None


def _spreads(pod: dict) -> bool:
    anti = (pod.get("affinity") or {}).get("podAntiAffinity") or {}
    terms = list(anti.get("requiredDuringSchedulingIgnoredDuringExecution") or []) + \
        [t.get("podAffinityTerm") or {} for t in anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []]
    spread = pod.get("topologySpreadConstraints") or []
    return any(t.get("topologyKey") == HOSTNAME for t in terms) or \
        any(t.get("topologyKey") == HOSTNAME for t in spread)


def spread(w: Workload, c: Cluster, v: dict) -> str | None:
    if _spreads(w.pod):
        return None
    return f"{w.replicas} replicas may all land on one of {c.nodes} nodes: no podAntiAffinity or " \
           f"topologySpreadConstraints on {HOSTNAME}"


def probes(w: Workload, c: Cluster, v: dict) -> str | None:
    missing = [f"{ct.get('name')}: no {', '.join(p for p in ('livenessProbe', 'readinessProbe') if not ct.get(p))}"
               for ct in w.containers() if not (ct.get("livenessProbe") and ct.get("readinessProbe"))]
    return "; ".join(missing) or None


def resources(w: Workload, c: Cluster, v: dict) -> str | None:
    problems = []
    for ct in w.containers(init=True):
        res = ct.get("resources") or {}
        requests, limits = res.get("requests") or {}, res.get("limits") or {}
        # the API server defaults requests to the limits when only limits are set (core/v1 defaults.go)
        lacking = [f"requests.{r}" for r in ("cpu", "memory") if r not in requests and r not in limits]
        lacking += ["limits.memory"] if "memory" not in limits else []
        if lacking:
            problems.append(f"{ct.get('name')}: no {', '.join(lacking)}")
    return "; ".join(problems) or None


def autoscaler(w: Workload, c: Cluster, v: dict) -> str | None:
    for hpa in c.of("HorizontalPodAutoscaler", w.namespace):
        target = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        if target.get("kind") == w.kind and target.get("name") == w.name:
            return None
    return "no HorizontalPodAutoscaler targets it"
