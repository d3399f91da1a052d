"""What every run task shares: loading the inventory, roles and plays, running them, reporting, exit codes."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from invoke import Exit

from ..audit.thresholds import audit_defaults, audit_specs
from ..maintenance import maintenance_defaults
from ..errors import InventoryError, VpskitError
from ..inventory import Inventory, load_inventory
from ..paths import DEFAULT_INVENTORY, default_playbook
from ..playbook import Play, load_playbook
from ..report import Reporter, write_json
from ..results import exit_code
from ..roleloader import RoleLibrary, all_defaults, all_inventory_checks, all_specs
from ..runner import Run, RunOptions
from ..templating import Templates
from .collect import env_roles_paths
from .options import RunArgs, fail

@dataclass
class Project:
    """An inventory with the roles, plays and templates a run uses, all validated before anything connects."""

    inventory: Inventory
    library: RoleLibrary
    plays: list[Play]
    templates: Templates


def inventory_file(inventory: str | None) -> Path:
    path = Path(inventory or DEFAULT_INVENTORY)
    return path / "hosts.yml" if path.is_dir() else path


def roles_paths(path: Path, cli: str | None, overrides: list[str] | None) -> list[Path]:
    """--roles-path first, then VPSKIT_ROLES_PATH, then vpskit_roles_path from the inventory (relative to its file)."""
    found = [Path(p).expanduser().resolve() for p in (cli or "").split(os.pathsep) if p] + env_roles_paths()
    plain = load_inventory(path, overrides=overrides)  # connection variables only: role defaults come later
    for host in plain.hosts.values():
        value = host.get("vpskit_roles_path") or []
        for entry in value if isinstance(value, list) else [value]:
            folder = (path.parent / os.path.expanduser(str(entry))).resolve()
            if not folder.is_dir():
                raise InventoryError(f"vpskit_roles_path: {folder} is not a folder", plain.path)
            found.append(folder)
    return list(dict.fromkeys(found))


def load_project(inventory: str | None, overrides: list[str] | None, roles_path: str | None = None,
                 playbook: str | None = None, only: list[str] | None = None) -> Project:
    path = inventory_file(inventory)
    library = RoleLibrary(roles_paths(path, roles_path, overrides))
    roles = library.all()
    # the audit's thresholds and the reboots' window are validated like role defaults (misspellings are errors)
    inv = load_inventory(path, {**all_defaults(roles), **audit_defaults(), **maintenance_defaults()},
                         {*library.names(), "audit", "maintenance"}, overrides,
                         specs={**all_specs(roles), **audit_specs()}, checks=all_inventory_checks(roles))
    plays = load_playbook(Path(playbook) if playbook else default_playbook())
    if only:
        plays = plays_for(plays, only)
    for play in plays:
        for name in play.roles:
            library.load(name)
    overrides_dir = path.parent / "templates"
    templates = Templates([overrides_dir] if overrides_dir.is_dir() else [],
                          {r.name: r.templates for r in roles if r.templates and r.templates.is_dir()})
    return Project(inv, library, plays, templates)


def plays_for(plays: list[Play], names: list[str]) -> list[Play]:
    """The plays that run these roles, reduced to them; a role no play runs runs alone on every host."""
    chosen = [replace(p, roles=[r for r in p.roles if r in names]) for p in plays if set(p.roles) & set(names)]
    covered = {r for p in chosen for r in p.roles}
    chosen += [Play(name, "all", [name]) for name in names if name not in covered]
    return chosen


def run_roles(names: list[str] | None, args: RunArgs) -> None:
    """Runs the plays (of `names` only, unless None) as a run task's options say; exits with the run's code."""
    try:
        project = load_project(args.inventory, args.set_, args.roles_path, args.playbook, names)
        hosts = project.inventory.select(args.limit)
    except VpskitError as exc:
        fail(str(exc))
    options = RunOptions(check=args.check, diff=args.diff or args.check, forks=int(args.forks),
                         trust_new_hosts=args.trust_new_hosts)
    run = Run(project.inventory, hosts, project.plays, project.library, project.templates, options,
              Reporter(diff=options.diff, verbose_ok=not args.quiet))
    results = run.execute()
    code = exit_code(results, args.check)
    if args.json:
        write_json(args.json, results, args.check, code, run.play_results, run.exports.report())
    if code:
        raise Exit(code=code)
