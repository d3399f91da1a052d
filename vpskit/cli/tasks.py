"""The task collection: bootstrap, check, one task per role, facts, inventory, and the lab."""

from __future__ import annotations

import json as jsonlib

from invoke import Collection, task

from ..connection import Connection
from ..errors import VpskitError
from ..facts import HostInfoFact
from ..gather import FactCache
from ..secrets import Masker, collect_secrets
from ..runner import target_for
from . import lab_tasks
from .common import RUN_HELP, fail, load, run_roles

RUN_ITERABLE = ["set_"]


@task(help=RUN_HELP, iterable=RUN_ITERABLE)
def bootstrap(c, inventory=None, limit=None, check=False, diff=False, set_=None, json=None, forks=10,
              trust_new_hosts=False, quiet=False):
    """Run every role, in order, on the inventory's hosts (a fresh VPS becomes a hardened host)."""
    run_roles(None, inventory, limit, check, diff, set_, json, forks, trust_new_hosts, quiet)


@task(help={k: v for k, v in RUN_HELP.items() if k != "check"}, iterable=RUN_ITERABLE)
def check(c, inventory=None, limit=None, diff=True, set_=None, json=None, forks=10, trust_new_hosts=False, quiet=False):
    """Show what bootstrap would change, with diffs, changing nothing; exit 2 when there is drift."""
    run_roles(None, inventory, limit, True, diff, set_, json, forks, trust_new_hosts, quiet)


def role_task(name: str, doc: str):
    """One task per role, with the same options as bootstrap."""
    @task(name=name, help=RUN_HELP, iterable=RUN_ITERABLE)
    def _role(c, inventory=None, limit=None, check=False, diff=False, set_=None, json=None, forks=10,
              trust_new_hosts=False, quiet=False):
        run_roles([name], inventory, limit, check, diff, set_, json, forks, trust_new_hosts, quiet)
    _role.__doc__ = doc
    _role.body.__doc__ = doc
    return _role


@task(help={"host": "inventory name of the host", "inventory": RUN_HELP["inventory"],
            "trust_new_hosts": RUN_HELP["trust_new_hosts"]})
def facts(c, host, inventory=None, trust_new_hosts=False):
    """Print the facts vpskit gathers about one host, as JSON (one round trip)."""
    try:
        inv, _roles = load(inventory, None)
        chosen = inv.select(host)[0]
        with Connection(target_for(chosen, trust_new_hosts)) as conn:
            cache = FactCache(chosen.name, lambda script: conn.run("sh -s", stdin=script.encode()))
            info = cache.get(HostInfoFact())
    except VpskitError as exc:
        fail(str(exc))
    print(jsonlib.dumps({"host": chosen.name, **info}, indent=2, sort_keys=True))


@task(help={"inventory": RUN_HELP["inventory"], "limit": RUN_HELP["limit"], "set_": RUN_HELP["set_"],
            "json": "print JSON instead of text"}, iterable=RUN_ITERABLE)
def inventory(c, inventory=None, limit=None, set_=None, json=False):
    """Print each host's resolved variables and where each came from (secrets masked)."""
    try:
        inv, _roles = load(inventory, set_)
        hosts = inv.select(limit)
    except VpskitError as exc:
        fail(str(exc))
    out = {}
    for host in hosts:
        masker = Masker(collect_secrets(host.values))
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


@task(help={"rounds": "repetitions of each measurement (default 3)",
            "tools": "comma-separated subset of vpskit,pyinfra,ansible"})
def bench(c, rounds=3, tools=None):
    """Benchmark vpskit against pyinfra and Ansible on fresh lab hosts; writes benchmarks/results.md."""
    try:
        from benchmarks.runner import main
    except ImportError:
        fail("the benchmark lives in the repository's benchmarks/ folder: run it from a checkout")
    try:
        print(main(int(rounds), tools.split(",") if tools else None))
    except VpskitError as exc:
        fail(str(exc))


def build_namespace() -> Collection:
    from ..roles import load_roles
    ns = Collection(bootstrap, check, facts, inventory, bench)
    for role in load_roles():
        ns.add_task(role_task(role.name, (role.module.__doc__ or role.name).strip().splitlines()[0]))
    ns.add_collection(lab_tasks.namespace(), name="lab")
    return ns


ns = build_namespace()
