"""Isolation: a NetworkPolicy selecting each workload's pods, and each namespace's Pod Security Standards level."""

from __future__ import annotations

from .objects import Cluster, Workload, selector_matches

LEVELS = ("privileged", "baseline", "restricted")
ENFORCE = "pod-security.kubernetes.io/enforce"


def network_policy(w: Workload, c: Cluster, v: dict) -> str | None:
    """networking/v1: a policy's podSelector selects pods of its own namespace; {} selects them all."""
    for policy in c.of("NetworkPolicy", w.namespace):
        if selector_matches((policy.get("spec") or {}).get("podSelector", {}), w.labels):
            return None
    return "no NetworkPolicy selects its pods: all traffic to and from it is allowed"


def pss_level(namespace: str, labels: dict, v: dict) -> str | None:
    """The namespace's enforce label at audit_pss_level or stricter. Without the label the API server's
    admission configuration decides (privileged unless one says otherwise)."""
    want = v["audit_pss_level"]
    level = labels.get(ENFORCE)
    if level is None:
        return f"no {ENFORCE} label (want {want})"
    if level not in LEVELS or LEVELS.index(level) < LEVELS.index(want):
        return f"{ENFORCE}={level} (want {want})"
    return None
