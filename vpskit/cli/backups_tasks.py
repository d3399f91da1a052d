"""backups.* tasks: the role, the restore test on demand, and what each host keeps."""

from __future__ import annotations

from invoke import Collection, Exit, task

from ..connection import Connection
from ..errors import VpskitError
from ..logins import logins_for, target_for
from ..playbook import select
from ..secrets import Masker, collect_secrets
from .common import RUN_HELP, fail, load_project, run_roles

PROGRAM = "/usr/local/sbin/vpskit-backup"
GROUP = "backups"
SHORT_HELP = {k: RUN_HELP[k] for k in ("inventory", "limit", "set_", "trust_new_hosts", "roles_path")}


@task(default=True, help=RUN_HELP, iterable=["set_"])
def run(c, inventory=None, limit=None, check=False, diff=False, set_=None, json=None, forks=10,
        trust_new_hosts=False, quiet=False, roles_path=None, playbook=None):
    """backups role: the backup program, its cron schedule, settings and secrets on the hosts of group backups."""
    run_roles(["backups"], inventory, limit, check, diff, set_, json, forks, trust_new_hosts, quiet, roles_path,
              playbook)


@task(help=SHORT_HELP, iterable=["set_"])
def verify(c, inventory=None, limit=None, set_=None, trust_new_hosts=False, roles_path=None):
    """Restore-test the newest backup on each backups host now; exit 1 when any test fails (it says why)."""
    if not _on_hosts("verify", inventory, limit, set_, trust_new_hosts, roles_path):
        raise Exit(code=1)


@task(name="list", help=SHORT_HELP, iterable=["set_"])
def list_(c, inventory=None, limit=None, set_=None, trust_new_hosts=False, roles_path=None):
    """The backup runs each backups host keeps, newest first: name, size, age and files."""
    if not _on_hosts("list", inventory, limit, set_, trust_new_hosts, roles_path):
        raise Exit(code=1)


def _on_hosts(command: str, inventory, limit, set_, trust_new_hosts, roles_path) -> bool:
    """Runs `vpskit-backup COMMAND` on each host of group backups (within --limit), one after another."""
    try:
        project = load_project(inventory, set_, roles_path)
        wanted = {h.name for h in project.inventory.select(limit)}
        hosts = [h for h in select(project.inventory, GROUP) if h.name in wanted]
    except VpskitError as exc:
        fail(str(exc))
    if not hosts:
        fail(f"no host of group {GROUP!r} within --limit: backups are configured on that group's hosts")
    roles, ok = project.library.all(), True
    for host in hosts:
        masker = Masker(collect_secrets(host.values))
        try:
            with Connection(target_for(host, logins_for(host, roles), trust_new_hosts)) as conn:
                result = conn.run(f"{PROGRAM} {command}", timeout=3600)
        except VpskitError as exc:
            print(f"{host.name}: {masker.mask(str(exc))}")
            ok = False
            continue
        for line in masker.mask(result.stdout + result.stderr).splitlines():
            print(f"{host.name}: {line}")
        if not result.ok:
            print(f"{host.name}: {PROGRAM} {command} failed (exit {result.rc})")
            ok = False
    return ok


def namespace() -> Collection:
    return Collection("backups", run, verify, list_)
