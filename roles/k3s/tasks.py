"""k3s.* tasks: an upgrade that shows its plan first, the kubeconfig alone, uninstall and replace (`invoke k3s`
runs the role itself).

Loaded alone when the command line starts (vpskit/cli/collect.py): the role and the engine load in the bodies.
"""

from __future__ import annotations

import io
import sys
from types import SimpleNamespace

from invoke import Exit, task

from vpskit.cli.options import RUN_HELP, RunArgs, fail, run_task
from vpskit.errors import VpskitError

SHORT_HELP = {k: RUN_HELP[k] for k in ("inventory", "limit", "set_", "forks", "trust_new_hosts", "roles_path")}


@run_task(drop=("check", "diff", "json", "quiet", "playbook"), fixed={"quiet": True}, extra={"yes": False},
          help={"yes": "do not ask for confirmation"})
def upgrade(c, args: RunArgs, yes: bool):
    """Show which hosts would move to k3s_version (check mode), confirm, then upgrade one server at a time."""
    from vpskit.runner import RunOptions
    from vpskit.cli.common import run_roles
    project = _project(args.inventory, args.set_, args.roles_path, ["k3s"])
    checked = _execute(project, args.limit, RunOptions(check=True, forks=int(args.forks),
                                                       trust_new_hosts=args.trust_new_hosts))
    moves = [(r.name, f"upgrade k3s from {s.upgrade[0]} to {s.upgrade[1]}") for r in checked for s in r.steps
             if s.upgrade and s.role == "k3s"]
    failed = [r for r in checked if r.failed]
    if failed:
        fail("; ".join(f"{r.name}: {r.error}" for r in failed))
    if not moves:
        print("nothing to upgrade: every host runs k3s_version")
        return
    for host, move in moves:
        print(f"{host}: {move}")
    if not yes and input("upgrade these hosts, servers one at a time? [y/N] ").strip().lower() != "y":
        raise Exit("upgrade cancelled", code=1)
    run_roles(["k3s"], args)


@task(help={k: v for k, v in SHORT_HELP.items() if k not in ("limit", "forks")}, iterable=["set_"])
def kubeconfig(c, inventory=None, set_=None, trust_new_hosts=False, roles_path=None):
    """Merge the cluster into your kubeconfig (k3s_kubeconfig_path) as context k3s_context_name, nothing else."""
    from vpskit.builtin_roles.k3s import kubeconfig_plan
    _run_only(kubeconfig_plan, "k3s kubeconfig", ["k3s_servers[0]"], inventory, set_, roles_path, trust_new_hosts,
              reads_only=True)


@task(help={**{k: v for k, v in SHORT_HELP.items() if k != "forks"}, "yes": "do not ask for confirmation"},
      iterable=["set_"])
def uninstall(c, inventory=None, limit=None, set_=None, trust_new_hosts=False, roles_path=None, yes=False):
    """Remove K3s from the cluster's hosts (agents first) with the uninstall script the role wrote."""
    from vpskit.builtin_roles.k3s import uninstall_plan
    if not yes and input("remove K3s and all its data from every k3s_servers and k3s_agents host? [y/N] "
                         ).strip().lower() != "y":
        raise Exit("uninstall cancelled", code=1)
    _run_only(uninstall_plan, "k3s uninstall", ["k3s_agents,!k3s_servers", "k3s_servers"], inventory, set_,
              roles_path, trust_new_hosts, limit)


@task(help={**{k: v for k, v in SHORT_HELP.items() if k not in ("limit", "forks")},
            "host": "the rebuilt host (its inventory name)", "yes": "do not ask for confirmation"},
      iterable=["set_"])
def replace(c, host, inventory=None, set_=None, trust_new_hosts=False, roles_path=None, yes=False):
    """Rejoin a rebuilt HOST: its old node removed through a surviving server, then the role on HOST alone."""
    from vpskit.builtin_roles.k3s import forget_plan
    from vpskit.playbook import Play
    from vpskit.role import Role
    from vpskit.roleloader import RoleLibrary
    from vpskit.runner import RunOptions
    project = _project(inventory, set_, roles_path, None)
    inv = project.inventory
    servers = [n for n in inv.hosts if "k3s_servers" in inv.hosts[n].groups]
    agents = [n for n in inv.hosts if "k3s_agents" in inv.hosts[n].groups and n not in servers]
    if host not in servers + agents:
        fail(f"{host} is in neither k3s_servers nor k3s_agents")
    survivors = [s for s in servers if s != host]
    if not survivors:
        fail(f"{host} is the only server: there is no cluster to rejoin; restore it from a backup "
             "(invoke backups.restore --what k3s prints the procedure)")
    survivor = survivors[0]
    first = servers[0] == host
    how = f"join the cluster through {survivor} (not start a new one)" if first else "join the cluster again"
    if not yes and input(f"replace {host}: delete its node from the cluster through {survivor}, then install K3s "
                         f"on the rebuilt {host} and {how}? [y/N] ").strip().lower() != "y":
        raise Exit("replace cancelled", code=1)
    extra = [f"k3s_join_via={survivor}"] if first else []
    project = _project(inventory, [*(set_ or []), *extra], roles_path, None)
    forget = Role("k3s-forget", SimpleNamespace(plan=lambda ctx: forget_plan(ctx, host), __doc__="k3s forget"), {})
    library = RoleLibrary(project.library.user_paths, given=[forget])
    plays = [Play(f"k3s replace: forget {host} (on {survivor})", survivor, [forget.name]),
             Play(f"k3s replace: join {host}", host, ["k3s"])]
    results = _execute(project, f"{survivor},{host}", RunOptions(trust_new_hosts=trust_new_hosts), plays, library,
                       sys.stdout)
    if any(r.failed for r in results):
        raise Exit(code=1)


def _project(inventory, set_, roles_path, only):
    from vpskit.cli.common import load_project
    try:
        return load_project(inventory, set_, roles_path, only=only)
    except VpskitError as exc:
        fail(str(exc))


def _execute(project, limit, options, plays=None, library=None, stream=None):
    from vpskit.report import Reporter
    from vpskit.runner import Run
    try:
        hosts = project.inventory.select(limit)
    except VpskitError as exc:
        fail(str(exc))
    run = Run(project.inventory, hosts, plays or project.plays, library or project.library, project.templates,
              options, Reporter(stream=stream or io.StringIO(), verbose_ok=False))
    return run.execute()


def _run_only(plan, name: str, patterns: list[str], inventory, set_, roles_path, trust_new_hosts, limit=None,
              reads_only: bool = False):
    """Runs one plan function as its own role on the hosts of each pattern in turn (`reads_only`: a plan that
    changes nothing on them, which looks at the host lock without taking it)."""
    from vpskit.playbook import Play
    from vpskit.role import Role
    from vpskit.roleloader import RoleLibrary
    from vpskit.runner import RunOptions
    project = _project(inventory, set_, roles_path, None)
    role = Role(name.replace(" ", "-"), SimpleNamespace(plan=plan, __doc__=name), {})
    library = RoleLibrary(project.library.user_paths, given=[role])
    plays = [Play(f"{name} ({pattern})", pattern, [role.name]) for pattern in patterns]
    results = _execute(project, limit, RunOptions(trust_new_hosts=trust_new_hosts, reads_only=reads_only), plays,
                       library, sys.stdout)
    if any(r.failed for r in results):
        raise Exit(code=1)
