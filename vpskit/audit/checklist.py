"""The whole checklist for one host's variables, in report order, and the probes it needs."""

from __future__ import annotations

from . import items_cluster, items_database, items_drill, items_k3s_hardening, items_manual, items_system, items_workloads
from .model import SECTIONS, Item
from .thresholds import audit_defaults, audit_specs  # noqa: F401 (the checklist's callers read them here too)



def checklist(variables: dict) -> list[Item]:
    found = items_system.items(variables) + items_cluster.items(variables) + items_workloads.items(variables) + \
        items_database.items(variables) + items_k3s_hardening.items(variables) + items_drill.items(variables) + \
        items_manual.items(variables)
    return sorted(found, key=lambda item: SECTIONS.index(item.section))


def probes_of(items: list[Item]) -> dict[str, str]:
    """Every probe the items need, once each (items share probes by name)."""
    merged: dict[str, str] = {}
    for item in items:
        for name, command in item.probes.items():
            if merged.setdefault(name, command) != command:
                raise ValueError(f"probe {name!r} has two commands ({item.id})")
    return merged
