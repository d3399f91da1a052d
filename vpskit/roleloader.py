"""Finds roles: user roles paths first, then the roles that ship inside vpskit; loads their defaults."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from functools import partial
from pathlib import Path

from .errors import VpskitError
from .inventory.model import Var
from .inventory.yamlfile import load_yaml
from .paths import builtin_roles_dir
from .ports import Network
from .role import Role

BUILTIN_PACKAGE = "vpskit.builtin_roles"


class RoleLibrary:
    """The roles a run can use; a role in a user path replaces the built-in role of the same name."""

    def __init__(self, user_paths: list[Path] | None = None, given: list[Role] = ()):
        self.user_paths = [Path(p) for p in user_paths or []]
        # roles built in code (a test's, the benchmark's, an embedding program's) come first
        self._loaded: dict[str, Role] = {role.name: role for role in given}

    def names(self) -> list[str]:
        found = [d.name for path in self.user_paths if path.is_dir() for d in sorted(path.iterdir())
                 if (d / "__init__.py").is_file()]
        found += [d.name for d in sorted(builtin_roles_dir().iterdir()) if (d / "__init__.py").is_file()]
        return list(dict.fromkeys(found))

    def load(self, name: str) -> Role:
        if name not in self._loaded:
            self._loaded[name] = self._find(name)
        return self._loaded[name]

    def all(self) -> list[Role]:
        return [self.load(n) for n in self.names()]

    def network(self, ctx) -> Network:
        """What every role (built-in and the user's) needs from ctx's host's firewall, in role order."""
        total = Network()
        for name in dict.fromkeys([*self._loaded, *self.names()]):
            total = total + self.load(name).network(ctx)
        return total

    def _find(self, name: str) -> Role:
        for path in self.user_paths:
            folder = path / name
            if (folder / "__init__.py").is_file():
                return Role(name, _import_user_role(folder), partial(load_defaults, folder / "defaults.yml"),
                            origin=str(folder), templates=folder / "templates", spec=folder / "spec.yml")
        folder = builtin_roles_dir() / name
        if not (folder / "__init__.py").is_file():
            raise VpskitError(f"no role named {name!r} (roles: {', '.join(self.names())})")
        # imported when its play runs or a hook of its is asked for (a user's role is imported here, so a
        # mistake in it shows before anything connects; the built-in ones are tested)
        return Role(name, None, partial(load_defaults, folder / "defaults.yml"), spec=folder / "spec.yml",
                    load=partial(importlib.import_module, f"{BUILTIN_PACKAGE}.{name}"), source=folder / "__init__.py")


def _import_user_role(folder: Path):
    """Imports a role folder as its own top-level package, so its relative imports work."""
    module_name = f"vpskit_user_role_{folder.name}"
    spec = importlib.util.spec_from_file_location(module_name, folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise VpskitError(f"role {folder}: cannot be imported: {type(exc).__name__}: {exc}") from None
    if not callable(getattr(module, "plan", None)):
        raise VpskitError(f"role {folder}: its __init__.py has no plan(ctx) function")
    return module


def load_defaults(path: Path) -> dict[str, Var]:
    if not path.exists():
        return {}
    data = load_yaml(path, f"roles/{path.parent.name}/{path.name}") or {}
    return {k: Var(v, f"default ({data.where(k)})") for k, v in data.items()}


def all_specs(roles: list[Role]) -> dict:
    """Every role's variable specs, name → VarSpec."""
    merged: dict = {}
    for role in roles:
        merged.update(role.spec)
    return merged


def all_inventory_checks(roles: list[Role]) -> list:
    """Each role's check of the inventory as a whole, for load_inventory."""
    return [role.inventory_errors for role in roles]


def all_defaults(roles: list[Role]) -> dict[str, Var]:
    merged: dict[str, Var] = {}
    for role in roles:
        merged.update(role.defaults)
    return merged
