"""Finding roles: their order, defaults (with file and line) and the resources they plan for a host."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from .confirm import Confirm
from .errors import VpskitError
from .inventory.model import Var
from .inventory.yamlfile import load_yaml
from .paths import ROLES_DIR
from .resources.base import Handler, Resource


@dataclass
class RolePlan:
    """What one role wants on one host: resources in order, and the handlers they may notify."""

    role: str
    resources: list[Resource]
    handlers: list[Handler] = field(default_factory=list)
    # commit-confirmed: resources marked guarded are reverted unless a fresh login works afterwards
    confirm: "Confirm | None" = None
    # which login the fresh connection proves: "final" (admin user, managed port) or "current"
    verify_login: str = "current"


@dataclass
class Role:
    name: str
    module: object
    defaults: dict[str, Var]

    def plan(self, host_vars: dict) -> RolePlan:
        return self.module.plan(host_vars)


def role_names() -> list[str]:
    """The roles of `invoke bootstrap`, in the order they run (roles/__init__.py says it explicitly)."""
    return list(importlib.import_module("roles").ORDER)


def load_role(name: str) -> Role:
    try:
        module = importlib.import_module(f"roles.{name}")
    except ModuleNotFoundError:
        raise VpskitError(f"no role named {name!r} (roles: {', '.join(role_names())})") from None
    return Role(name, module, load_defaults(ROLES_DIR / name / "defaults.yml"))


def load_defaults(path: Path) -> dict[str, Var]:
    if not path.exists():
        return {}
    data = load_yaml(path, f"roles/{path.parent.name}/{path.name}") or {}
    return {k: Var(v, f"default ({data.where(k)})") for k, v in data.items()}


def load_roles(names: list[str] | None = None) -> list[Role]:
    return [load_role(n) for n in (names or role_names())]


def all_defaults(roles: list[Role]) -> dict[str, Var]:
    merged: dict[str, Var] = {}
    for role in roles:
        merged.update(role.defaults)
    return merged
