"""The whole checklist for one host's variables, in report order, and the facts it reads.

The engine's own items (the host's headroom, DNS and reboots, the user's workloads and database, the manual
items) come from this folder; every other item comes from the role that owns what it checks (audit.py in the
role's folder, the user's roles too), written against the fact classes the roles read.
"""

from __future__ import annotations

from ..facts.base import Fact
from ..facts.system import CommandOutputFact
from . import items_database, items_host, items_manual, items_workloads
from .model import SECTIONS, Item
from .thresholds import audit_defaults, audit_specs  # noqa: F401 (the checklist's callers read them here too)

def checklist(variables: dict, roles=()) -> list[Item]:
    """The engine's items and every role's, each section in rank order (then in the order they were found); the
    workload items read the cluster the way the role running it says (Role.cluster_access)."""
    access = next((found for role in roles if (found := role.cluster_access()) is not None), None)
    found = [*items_host.items(variables), *items_workloads.items(variables, access), *items_database.items(variables),
             *items_manual.items(variables)]
    found += [item for role in roles for item in role.audit_items(variables)]
    return sorted(found, key=lambda item: (SECTIONS.index(item.section), item.rank))


def as_fact(probe: "str | Fact") -> Fact:
    """A probe as the fact it gathers: a fact class, or a read-only command (its exit status and stdout)."""
    return probe if isinstance(probe, Fact) else CommandOutputFact(probe)


def probes_of(items: list[Item]) -> dict[str, Fact]:
    """Every fact the items read, once each by name (items share them by name)."""
    merged: dict[str, Fact] = {}
    for item in items:
        for name, probe in item.probes.items():
            fact = as_fact(probe)
            if merged.setdefault(name, fact).key != fact.key:
                raise ValueError(f"probe {name!r} has two commands ({item.id})")
    return merged
