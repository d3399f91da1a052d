"""Maintenance across hosts: coordinated reboots (`invoke reboot`) inside an optional maintenance window."""

from __future__ import annotations

from pathlib import Path

from ..inventory.model import Var
from ..roleloader import load_defaults

DEFAULTS = Path(__file__).with_name("defaults.yml")


def maintenance_defaults() -> dict[str, Var]:
    """maintenance_window and the reboot's timeout, commented in defaults.yml; set in the inventory."""
    return load_defaults(DEFAULTS)
