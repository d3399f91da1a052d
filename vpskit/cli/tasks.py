"""The task collection: bootstrap, check, facts, inventory, audit, the lab, and what the roles bring (collect.py).

Tasks import what they run in their bodies (see options.py): building this collection imports no role.
"""

from __future__ import annotations

import json as jsonlib

from invoke import Collection, task

from ..errors import VpskitError
from . import audit_tasks, lab_tasks, lock_tasks, reboot_tasks, runbook_tasks
from .collect import add_role_tasks, env_roles_paths
from .options import RUN_HELP, RunArgs, fail, run_task

RUN_ITERABLE = ["set_"]


@run_task()
def bootstrap(c, args: RunArgs):
    """Run every play, in order, on the inventory's hosts (a fresh VPS becomes a hardened host)."""
    from .common import run_roles
    run_roles(None, args)


@run_task(drop=("check",), fixed={"check": True, "diff": True})
def check(c, args: RunArgs):
    """Show what bootstrap would change, with diffs, changing nothing; exit 2 when there is drift."""
    from .common import run_roles
    run_roles(None, args)


def role_task(name: str, doc: str, task_name: str | None = None):
    """A role's run task (named after it, or `task_name`), with bootstrap's options: the plays that hold it."""
    @run_task(name=task_name or name, doc=doc)
    def _role(c, args: RunArgs):
        from .common import run_roles
        run_roles([name], args)
    return _role


@run_task(positional=("names",), help={"names": "role names, comma-separated (your own roles too, with --roles-path)"})
def role(c, args: RunArgs, names: str):
    """Run the named roles only (built-in or from a roles path), in the plays that hold them."""
    from .common import run_roles
    run_roles([n.strip() for n in names.split(",") if n.strip()], args)


@task(help={"host": "inventory name of the host", "inventory": RUN_HELP["inventory"],
            "trust_new_hosts": RUN_HELP["trust_new_hosts"], "roles_path": RUN_HELP["roles_path"]})
def facts(c, host, inventory=None, trust_new_hosts=False, roles_path=None):
    """Print the facts vpskit gathers about one host, as JSON (one round trip)."""
    from ..facts import HostInfoFact
    from ..gather import FactCache
    from ..logins import connect
    from .common import load_project
    try:
        project = load_project(inventory, None, roles_path)
        chosen = project.inventory.select(host)[0]
        with connect(chosen, project.library.all(), trust_new_hosts) as conn:
            cache = FactCache(chosen.name, lambda script: conn.run("sh -s", stdin=script.encode()))
            info = cache.get(HostInfoFact())
    except VpskitError as exc:
        fail(str(exc))
    print(jsonlib.dumps({"host": chosen.name, **info}, indent=2, sort_keys=True))


@task(help={"inventory": RUN_HELP["inventory"], "limit": RUN_HELP["limit"], "set_": RUN_HELP["set_"],
            "json": "print JSON instead of text", "roles_path": RUN_HELP["roles_path"]}, iterable=RUN_ITERABLE)
def inventory(c, inventory=None, limit=None, set_=None, json=False, roles_path=None):
    """Print each host's resolved variables and where each came from (secrets masked)."""
    from ..secrets import Masker, collect_secrets
    from .common import load_project
    try:
        project = load_project(inventory, set_, roles_path)
        hosts = project.inventory.select(limit)
    except VpskitError as exc:
        fail(str(exc))
    out = {}
    for host in hosts:
        masker = Masker(collect_secrets(host.values) | host.secrets)
        out[host.name] = {
            "groups": host.groups,
            "vars": {k: {"value": masker.mask_value(k, v.value), "source": v.source} for k, v in sorted(host.vars.items())},
        }
    if json:
        print(jsonlib.dumps(out, indent=2, default=str))
        return
    for name, data in out.items():
        print(f"{name}  (groups: {', '.join(data['groups']) or '-'})")
        for key, var in data["vars"].items():
            print(f"  {key}: {jsonlib.dumps(var['value'], default=str)}    # {var['source']}")


def build_namespace() -> Collection:
    """The shipped tasks (runs, facts, inventory, the lab), then each role's (VPSKIT_ROLES_PATH's roles first)."""
    ns = Collection(bootstrap, check, role, facts, inventory, audit_tasks.audit, runbook_tasks.runbooks,
                    lock_tasks.unlock, reboot_tasks.reboot)
    ns.add_collection(lab_tasks.namespace(), name="lab")
    add_role_tasks(ns, env_roles_paths(), role_task)
    return ns


ns = build_namespace()
