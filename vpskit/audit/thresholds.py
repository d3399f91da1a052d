"""The audit's thresholds (defaults.yml beside this file), readable without loading the checklist.

A run validates `audit_` variables like role defaults; it needs these values, not the items and probes.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from ..inventory.model import Var
from ..inventory.varspec import VarSpec, load_spec
from ..roleloader import load_defaults

DEFAULTS = Path(__file__).with_name("defaults.yml")
SPEC = Path(__file__).with_name("spec.yml")


def audit_defaults() -> dict[str, Var]:
    """The audit's thresholds, commented in defaults.yml; inventories override them like role defaults."""
    return load_defaults(DEFAULTS)


def audit_specs() -> dict[str, VarSpec]:
    """The audit variables' types and checks (spec.yml), like a role's."""
    # its checks of the URLs are in the checks' module (not the checklist), imported when a URL is checked
    return load_spec(SPEC, "audit", audit_defaults(), display="vpskit/audit/spec.yml",
                     load_module=lambda: importlib.import_module("vpskit.audit.outside.run"))
