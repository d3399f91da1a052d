"""The audit's thresholds (defaults.yml beside this file), readable without loading the checklist.

A run validates `audit_` variables like role defaults; it needs these values, not the items and probes.
"""

from __future__ import annotations

from pathlib import Path

from ..inventory.model import Var
from ..roleloader import load_defaults

DEFAULTS = Path(__file__).with_name("defaults.yml")


def audit_defaults() -> dict[str, Var]:
    """The audit's thresholds, commented in defaults.yml; inventories override them like role defaults."""
    return load_defaults(DEFAULTS)
