"""The whole checklist for one host's variables, in report order, and the probes it needs."""

from __future__ import annotations

from pathlib import Path

from ..inventory.model import Var
from ..inventory.varspec import VarSpec, load_spec
from ..roleloader import load_defaults
from . import items_cluster, items_database, items_k3s_hardening, items_manual, items_system, items_workloads
from .model import SECTIONS, Item
from .outside import run as outside_run

DEFAULTS = Path(__file__).with_name("defaults.yml")
SPEC = Path(__file__).with_name("spec.yml")


def audit_defaults() -> dict[str, Var]:
    """The audit's thresholds, commented in defaults.yml; inventories override them like role defaults."""
    return load_defaults(DEFAULTS)


def audit_specs() -> dict[str, VarSpec]:
    """The audit variables' types and checks (spec.yml), like a role's."""
    return load_spec(SPEC, "audit", audit_defaults(), outside_run, "vpskit/audit/spec.yml")


def checklist(variables: dict) -> list[Item]:
    found = items_system.items(variables) + items_cluster.items(variables) + items_workloads.items(variables) + \
        items_database.items(variables) + items_k3s_hardening.items(variables) + items_manual.items(variables)
    return sorted(found, key=lambda item: SECTIONS.index(item.section))


def probes_of(items: list[Item]) -> dict[str, str]:
    """Every probe the items need, once each (items share probes by name)."""
    merged: dict[str, str] = {}
    for item in items:
        for name, command in item.probes.items():
            if merged.setdefault(name, command) != command:
                raise ValueError(f"probe {name!r} has two commands ({item.id})")
    return merged
