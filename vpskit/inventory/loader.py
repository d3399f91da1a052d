"""Reads hosts.yml, group_vars/ and host_vars/, validates them, and merges variables per host."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

import yaml

from ..errors import InventoryError
from .model import Group, Host, Inventory, Var
from .spec import ANSIBLE_ALIASES, CONNECTION_FORMATS, CONNECTION_VARS, type_error, unknown_key_error, expected_type
from .varspec import VarSpec
from .yamlfile import LocatedDict, load_yaml

GROUP_KEYS = {"hosts", "children", "vars"}


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _require_mapping(value, what: str, display: str, line: int | None) -> LocatedDict:
    if value is None:
        return LocatedDict()
    if not isinstance(value, dict):
        raise InventoryError(f"{what} must be a mapping, got {type(value).__name__}", display, line)
    return value


class _Walker:
    """Collects groups, hosts and inline vars from the hosts.yml tree."""

    def __init__(self, display: str):
        self.display = display
        self.groups: dict[str, Group] = {}
        self.group_vars: dict[str, LocatedDict] = {}
        self.host_vars: dict[str, LocatedDict] = {}
        self.host_order: list[str] = []
        self.host_groups: dict[str, list[str]] = {}

    def group(self, name: str, body, parent: str | None, line: int | None) -> None:
        problem = name_problem(name)
        if problem:
            raise InventoryError(f"group name {name!r} {problem}", self.display, line)
        body = _require_mapping(body, f"group {name!r}", self.display, line)
        group = self.groups.setdefault(name, Group(name, line=line))
        if parent and parent not in group.parents:
            group.parents.append(parent)
        for key in body:
            if key not in GROUP_KEYS:
                raise InventoryError(f"group {name!r}: unknown key {key!r} (a group has hosts, children and vars)",
                                     self.display, body.where(key).line)
        if "vars" in body:
            self.group_vars[name] = _require_mapping(body["vars"], f"vars of group {name!r}", self.display,
                                                     body.where("vars").line)
        hosts = _require_mapping(body.get("hosts"), f"hosts of group {name!r}", self.display,
                                 body.where("hosts").line if "hosts" in body else line)
        for host, host_body in hosts.items():
            where = hosts.where(host).line
            if not isinstance(host, str) or not host:
                raise InventoryError(f"host name must be a string, got {host!r}", self.display, where)
            problem = name_problem(host)
            if problem:
                raise InventoryError(f"host name {host!r} {problem}", self.display, where)
            host_body = _require_mapping(host_body, f"host {host!r}", self.display, where)
            if host not in self.host_groups:
                self.host_order.append(host)
                self.host_groups[host] = []
            self.host_groups[host].append(name)
            group.hosts.append(host)
            if host_body:
                merged = self.host_vars.setdefault(host, LocatedDict())
                for key, value in host_body.items():
                    if key in merged and merged[key] != value:
                        # Ansible keeps whichever it read last; a silent winner is a mistake waiting to happen
                        first = merged.key_locations.get(key)
                        raise InventoryError(f"host {host!r}: {key} is {value!r} here and {merged[key]!r} at "
                                             f"{first}: give it once (or in host_vars/{host}.yml)", self.display,
                                             host_body.where(key).line)
                merged.update(host_body)
                merged.key_locations.update(host_body.key_locations)
        children = _require_mapping(body.get("children"), f"children of group {name!r}", self.display,
                                    body.where("children").line if "children" in body else line)
        for child, child_body in children.items():
            if child in self._ancestors(name) | {name}:
                raise InventoryError(f"group {child!r} is its own ancestor", self.display, children.where(child).line)
            self.group(child, child_body, name, children.where(child).line)

    def _ancestors(self, name: str) -> set[str]:
        seen, todo = set(), list(self.groups.get(name, Group(name)).parents)
        while todo:
            g = todo.pop()
            if g not in seen:
                seen.add(g)
                todo += self.groups[g].parents
        return seen


def _depths(groups: dict[str, Group]) -> None:
    def depth(name: str) -> int:
        parents = groups[name].parents
        return 0 if not parents else 1 + max(depth(p) for p in parents)
    for group in groups.values():
        group.depth = depth(group.name)


UNSAFE_NAME = re.compile(r"[\x00-\x20\x7f/\\,]")


def name_problem(name) -> str | None:
    """Why a host or group name is unsafe, else None: it names host_vars/NAME and group_vars/NAME files (a '/' or
    '..' would read a file outside the inventory's folder), lines of reports, --limit patterns (split at ',')."""
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if UNSAFE_NAME.search(name) or name.startswith(("-", ".")):
        return ("must not hold spaces, control characters, '/', '\\' or ',', nor start with '-' or '.' (it names "
                "files in host_vars/ and group_vars/ and is matched by --limit)")
    return None


def _vars_file(directory: Path, name: str) -> list[Path]:
    """group_vars/NAME.yml|.yaml|(no suffix), or every YAML file in group_vars/NAME/."""
    found = [directory / f"{name}{ext}" for ext in (".yml", ".yaml", "") if (directory / f"{name}{ext}").is_file()]
    folder = directory / name
    if folder.is_dir():
        found += sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml"))
    return found


def _load_vars_files(paths: list[Path]) -> list[LocatedDict]:
    layers = []
    for path in paths:
        data = load_yaml(path, _display(path))
        layers.append(_require_mapping(data, "a vars file", _display(path), 1))
    return layers


def parse_set(overrides: list[str] | None) -> LocatedDict:
    """--set key=value pairs, values read as YAML scalars."""
    result = LocatedDict()
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InventoryError(f"--set {item!r}: expected key=value")
        try:
            result[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            result[key.strip()] = raw
    return result


class _Checker:
    """Validates variable layers against known names, the types of their defaults and the values vpskit acts on."""

    def __init__(self, defaults: dict[str, Var], role_prefixes: set[str], specs: dict[str, VarSpec]):
        self.types = {k: expected_type(v.value) for k, v in defaults.items()}
        self.types.update({k: s.type for k, s in specs.items() if s.type is not None})
        self.types.update({k: t for k, (t, _alias) in CONNECTION_VARS.items()})
        self.types.update({alias: CONNECTION_VARS[own][0] for alias, own in ANSIBLE_ALIASES.items()})
        self.specs = dict(specs)
        for own, form in CONNECTION_FORMATS.items():
            alias = CONNECTION_VARS[own][1]
            self.specs.update({name: VarSpec(name, format=form) for name in (own, alias) if name})
        self.known = set(defaults) | set(CONNECTION_VARS)
        self.prefixes = role_prefixes | {"vpskit"}

    def check(self, layer: LocatedDict, display: str) -> None:
        for key, value in layer.items():
            where = layer.where(key)
            path, line = (where.path, where.line) if where else (display, None)
            spec = self.specs.get(key)
            message = (unknown_key_error(key, self.known, self.prefixes) or type_error(key, value, self.types.get(key))
                       or (spec.error(value) if spec else None))
            if message:
                raise InventoryError(message, path, line)


def _check_required(host: str, merged: dict[str, Var], located: dict, display: str, specs: dict[str, VarSpec]) -> None:
    """A setting a switched-on feature cannot do without: the error points at where the switch was turned on."""
    for needed, switches in ((s.name, s.required_when) for s in specs.values() if s.required_when):
        if all(merged.get(s) is not None and merged[s].value is True for s in switches) and \
                (merged.get(needed) is None or merged[needed].value in (None, "")):
            path, line = located.get(switches[0], (display, None))
            on = " and ".join(switches)
            raise InventoryError(f"{needed} is required when {on} is on (host {host})", path, line)


def load_inventory(path: str | Path, defaults: dict[str, Var] | None = None, role_prefixes: set[str] = frozenset(),
                   overrides: list[str] | None = None, specs: dict[str, VarSpec] | None = None,
                   checks: list[Callable[[Inventory], list[InventoryError]]] = ()) -> Inventory:
    """Loads and validates an inventory; any mistake raises InventoryError before anything runs.

    `checks` are the roles' checks of the inventory as a whole (how many hosts a group has), run last."""
    path = Path(path)
    if path.is_dir():
        path = path / "hosts.yml"
    display = _display(path)
    if not path.exists():
        raise InventoryError("inventory file not found", display)
    data = load_yaml(path, display)
    data = _require_mapping(data, "the inventory", display, 1)
    walker = _Walker(display)
    if "all" in data and set(data) == {"all"}:
        walker.group("all", data["all"], None, data.where("all").line)
    else:
        walker.groups["all"] = Group("all")
        for name, body in data.items():
            walker.group(name, body, None if name == "all" else "all", data.where(name).line)
    if not walker.host_order:
        raise InventoryError("the inventory defines no hosts", display)
    _depths(walker.groups)
    defaults = defaults or {}
    specs = specs or {}
    checker = _Checker(defaults, set(role_prefixes), specs)
    base = path.parent
    set_layer = parse_set(overrides)
    checker.check(set_layer, "--set")

    group_layers: dict[str, list[LocatedDict]] = {}
    for name in walker.groups:
        layers = ([walker.group_vars[name]] if name in walker.group_vars else []) + \
            _load_vars_files(_vars_file(base / "group_vars", name))
        for layer in layers:
            checker.check(layer, display)
        group_layers[name] = layers

    hosts: dict[str, Host] = {}
    for name in walker.host_order:
        member_of = _all_groups(walker.groups, walker.host_groups[name])
        host_layers = ([walker.host_vars[name]] if name in walker.host_vars else []) + \
            _load_vars_files(_vars_file(base / "host_vars", name))
        for layer in host_layers:
            checker.check(layer, display)
        merged: dict[str, Var] = dict(defaults)
        located: dict[str, tuple[str, int | None]] = {}
        ordered = sorted(member_of, key=lambda g: (walker.groups[g].depth, g))
        for layer in [lay for g in ordered for lay in group_layers[g]] + host_layers:
            for key, value in layer.items():
                merged[ANSIBLE_ALIASES.get(key, key)] = Var(value, str(layer.where(key) or display))
                where = layer.where(key)
                located[ANSIBLE_ALIASES.get(key, key)] = (where.path, where.line) if where else (display, None)
        for key, value in set_layer.items():
            merged[ANSIBLE_ALIASES.get(key, key)] = Var(value, "--set")
            located[ANSIBLE_ALIASES.get(key, key)] = ("--set", None)
        _check_required(name, merged, located, display, specs)
        secrets = frozenset().union(*(specs[k].secret_strings(v.value) for k, v in merged.items() if k in specs))
        hosts[name] = Host(name, [g for g in ordered if g != "all"], merged, secrets)
        _resolve_paths(hosts[name], base)
    inventory = Inventory(display, hosts, walker.groups)
    for check in checks:
        for error in check(inventory):
            raise error
    return inventory


def _all_groups(groups: dict[str, Group], direct: list[str]) -> set[str]:
    result, todo = {"all"}, list(direct)
    while todo:
        g = todo.pop()
        if g not in result:
            result.add(g)
            todo += groups[g].parents
    return result


def _resolve_paths(host: Host, base: Path) -> None:
    """Relative key, known_hosts and known_logins paths are relative to the inventory file, as users expect."""
    for key in ("vpskit_ssh_key", "vpskit_known_hosts", "vpskit_known_logins"):
        var = host.vars.get(key)
        if var and isinstance(var.value, str) and not os.path.isabs(os.path.expanduser(var.value)):
            host.vars[key] = Var(str((base / var.value).resolve()), var.source)
