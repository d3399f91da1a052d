"""Where the built-in roles, templates and plays live, in a checkout and in an installed wheel alike."""

from __future__ import annotations

import importlib
from pathlib import Path


def _package_dir(name: str) -> Path:
    return Path(importlib.import_module(name).__file__).resolve().parent


def builtin_roles_dir() -> Path:
    """roles/ in a checkout; vpskit/builtin_roles/ once installed."""
    return _package_dir("vpskit.builtin_roles")


def builtin_templates_dir() -> Path:
    """templates/ in a checkout; vpskit/builtin_templates/ once installed."""
    return _package_dir("vpskit.builtin_templates")


def default_playbook() -> Path:
    return builtin_roles_dir() / "bootstrap.yml"


# relative to the directory vpskit runs in (the checkout, or wherever the operator keeps their inventory)
DEFAULT_INVENTORY = Path("inventory") / "hosts.yml"
LAB_INVENTORY = Path("inventory") / "lab.yml"
