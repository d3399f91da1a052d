"""backups.* tasks: the role, the restore test on demand, what each host keeps, and a restore."""

from __future__ import annotations

import re
import shlex

from invoke import Collection, Exit, task

from ..errors import VpskitError
from .options import DEFAULT_FORKS, RUN_HELP, fail

PROGRAM = "/usr/local/sbin/vpskit-backup"
GROUP = "backups"
SHORT_HELP = {k: RUN_HELP[k] for k in ("inventory", "limit", "set_", "trust_new_hosts", "roles_path")}


@task(default=True, help=RUN_HELP, iterable=["set_"])
def run(c, inventory=None, limit=None, check=False, diff=False, set_=None, json=None, forks=DEFAULT_FORKS,
        trust_new_hosts=False, quiet=False, roles_path=None, playbook=None):
    """backups role: the backup program, its cron schedule, settings and secrets on the hosts of group backups."""
    from .common import run_roles
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


@task(help={**SHORT_HELP, "what": "postgres:DB (into a new database), files (into an empty folder) or k3s (the guided "
            "procedure)", "target": "the new database's name, or the empty folder on the host",
            "run": "the run to restore from (a name from backups.list; default: the newest)",
            "yes": "do not ask for confirmation"}, iterable=["set_"])
def restore(c, what, target=None, run=None, inventory=None, limit=None, set_=None, trust_new_hosts=False,
            roles_path=None, yes=False):
    """Restore on one host (--limit): a database into a new one, files into an empty folder; K3s: the procedure."""
    command = restore_command(what, target)
    if run is not None:
        if not re.fullmatch(r"\d{8}T\d{6}Z", run):
            fail(f"--run {run!r} is not a run's name (such as 20261123T020000Z; see backups.list)")
        command = f"RUN={run} {command}"
    prompt = None if what == "k3s" or yes else f"restore {what} from {run or 'the newest run'} into {target}"
    if not _on_hosts(command, inventory, limit, set_, trust_new_hosts, roles_path, one=True, prompt=prompt):
        raise Exit(code=1)


def restore_command(what: str, target: str | None) -> str:
    """The program's restore command line for --what and --target, or a clear error. Pure but for `fail`."""
    if what == "k3s":
        return "restore k3s"
    if not target:
        fail(f"--target is required to restore {what}: a new database's name, or an empty folder")
    if what == "files":
        if not target.startswith("/"):
            fail(f"--target {target!r} must be an absolute path on the host")
        return f"restore files {shlex.quote(target)}"
    match = re.fullmatch(r"postgres:([A-Za-z0-9_][A-Za-z0-9_.-]{0,62})", what)
    if not match or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}", target):
        fail(f"--what {what!r} --target {target!r}: use --what postgres:DB --target NEW_DB (plain names), "
             "--what files --target /empty/folder, or --what k3s")
    return f"restore postgres {match.group(1)} {target}"


def _on_hosts(command: str, inventory, limit, set_, trust_new_hosts, roles_path, one: bool = False,
              prompt: str | None = None) -> bool:
    """Runs `vpskit-backup COMMAND` on each host of group backups (within --limit), one after another."""
    from ..logins import connect
    from ..playbook import select
    from ..secrets import Masker, collect_secrets
    from .common import load_project
    try:
        project = load_project(inventory, set_, roles_path)
        wanted = {h.name for h in project.inventory.select(limit)}
        hosts = [h for h in select(project.inventory, GROUP) if h.name in wanted]
    except VpskitError as exc:
        fail(str(exc))
    if not hosts:
        fail(f"no host of group {GROUP!r} within --limit: backups are configured on that group's hosts")
    if one and len(hosts) != 1:
        fail(f"a restore acts on one host; --limit chooses it among {', '.join(h.name for h in hosts)}")
    if prompt and input(f"{prompt} on {hosts[0].name}? [y/N] ").strip().lower() != "y":
        raise Exit("restore cancelled", code=1)
    roles, ok = project.library.all(), True
    for host in hosts:
        masker = Masker(collect_secrets(host.values) | host.secrets)
        try:
            with connect(host, roles, trust_new_hosts) as conn:
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
    return Collection("backups", run, verify, list_, restore)
