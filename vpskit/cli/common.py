"""What every run task shares: loading the inventory, running roles, reporting, exit codes."""

from __future__ import annotations

import sys

from invoke import Exit

from ..errors import VpskitError
from ..inventory import load_inventory
from ..paths import DEFAULT_INVENTORY
from ..report import Reporter, write_json
from ..results import exit_code
from ..roles import all_defaults, load_roles, role_names
from ..runner import RunOptions, run

# help texts for the options every run task takes
RUN_HELP = {
    "inventory": "inventory file or directory (default: inventory/hosts.yml)",
    "limit": "only these hosts or groups (comma-separated)",
    "check": "check mode: report what would change, change nothing (exit 2 when something would)",
    "diff": "show unified diffs of changed files",
    "set_": "override a variable: --set key=value (repeatable; highest precedence)",
    "json": "also write a machine-readable report to this file",
    "forks": "hosts run in parallel (default 10)",
    "trust_new_hosts": "accept and record host keys not yet in known_hosts",
    "quiet": "show only changes and failures, not ok steps",
}


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise Exit(code=1)


def load(inventory: str | None, overrides: list[str] | None, names: list[str] | None = None):
    """The inventory validated against every role's defaults, and the roles to run."""
    all_roles = load_roles()
    roles = [r for r in all_roles if r.name in names] if names else all_roles
    inv = load_inventory(inventory or DEFAULT_INVENTORY, all_defaults(all_roles),
                         set(role_names()), overrides)
    return inv, roles


def run_roles(names: list[str] | None, inventory=None, limit=None, check=False, diff=False, set_=None,
              json=None, forks=10, trust_new_hosts=False, quiet=False) -> None:
    try:
        inv, roles = load(inventory, set_, names)
        hosts = inv.select(limit)
    except VpskitError as exc:
        fail(str(exc))
    options = RunOptions(check=check, diff=diff or check, forks=int(forks), trust_new_hosts=trust_new_hosts)
    results = run(hosts, roles, options, Reporter(diff=options.diff, verbose_ok=not quiet))
    code = exit_code(results, check)
    if json:
        write_json(json, results, check, code)
    if code:
        raise Exit(code=code)
