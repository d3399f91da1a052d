"""The whole checklist for one host's variables, in report order, and the probes it needs."""

from __future__ import annotations

from pathlib import Path

from ..inventory.model import Var
from ..roleloader import load_defaults
from . import items_cluster, items_drill, items_manual, items_system
from .model import SECTIONS, Item

DEFAULTS = Path(__file__).with_name("defaults.yml")


def audit_defaults() -> dict[str, Var]:
    """The audit's thresholds, commented in defaults.yml; inventories override them like role defaults."""
    return load_defaults(DEFAULTS)


def checklist(variables: dict) -> list[Item]:
    found = (items_system.items(variables) + items_cluster.items(variables) + items_drill.items(variables)
             + items_manual.items(variables))
    return sorted(found, key=lambda item: SECTIONS.index(item.section))


def probes_of(items: list[Item]) -> dict[str, str]:
    """Every probe the items need, once each (items share probes by name)."""
    merged: dict[str, str] = {}
    for item in items:
        for name, command in item.probes.items():
            if merged.setdefault(name, command) != command:
                raise ValueError(f"probe {name!r} has two commands ({item.id})")
    return merged
