"""backups.* tasks: the restore test on demand, what each host keeps, and a restore (`invoke backups` runs the role
itself); and dr.drill, a host rebuilt from its off-site copy alone (the drill's parts are in dr/).

Loaded alone when the command line starts (vpskit/cli/collect.py): the role and the engine load in the bodies.
"""

from __future__ import annotations

import re
import shlex
import time
from typing import TYPE_CHECKING

from invoke import Collection, Exit, task

from vpskit.cli.options import RUN_HELP, fail
from vpskit.errors import VpskitError

if TYPE_CHECKING:  # the drill's modules load when it runs, not when the command line lists its tasks
    from vpskit.builtin_roles.backups.dr.report import DrillReport
    from vpskit.secrets import Masker

GROUP = "backups"
SHORT_HELP = {k: RUN_HELP[k] for k in ("inventory", "limit", "set_", "trust_new_hosts", "roles_path")}


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
    """Runs `vpskit-backup COMMAND` on each host of group backups (within --limit), one after another, holding the
    host's run lock (`list` only looks at it: it changes nothing)."""
    from vpskit.builtin_roles.backups.settings import PROGRAM
    from vpskit.cli.common import load_project
    from vpskit.onehost import host_masker, locked_session
    from vpskit.playbook import select
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
        masker = host_masker(host)
        try:
            with locked_session(host, roles, trust_new_hosts, read_only=command == "list",
                                note=lambda message: print(f"{host.name}: {message}")) as session:
                result = session.connection.run(f"{PROGRAM} {command}", timeout=3600)
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


@task(help={"host": "the production host to rebuild (a host of group backups with an off-site copy)",
            "onto": "a spare host of group dr_spares, or `lab` for a fresh lab host (booted, then taken down)",
            "keep": "leave a lab target running for inspection",
            "json": "also write the drill's report as JSON to this file",
            "markdown": "also write it as Markdown: times, counts and the commands a person would run",
            "roles": "only these roles on the new host (comma-separated; default: every play, as bootstrap)",
            "lab": "the lab of --onto lab (default lab)", "subnet": "its subnet's first three octets (default 10.213.0)",
            "release": "Debian release of a lab target: bookworm (default) or trixie",
            "inventory": RUN_HELP["inventory"], "set_": RUN_HELP["set_"],
            "trust_new_hosts": RUN_HELP["trust_new_hosts"], "roles_path": RUN_HELP["roles_path"]}, iterable=["set_"])
def drill(c, host, onto, keep=False, json=None, markdown=None, roles=None, lab="lab", subnet="10.213.0",
          release="bookworm", inventory=None, set_=None, trust_new_hosts=False, roles_path=None):
    """Rebuild HOST onto another host from its off-site copy alone; measure RTO and RPO; exit 1 on a miss."""
    from vpskit.builtin_roles.backups.dr.report import DrillReport, Phase
    from vpskit.builtin_roles.backups.dr.steps import Steps
    from vpskit.builtin_roles.backups.dr.target import lab_spare, next_lab_index, production_host, rebuilt, spare
    from vpskit.durations import seconds
    from vpskit.inventory.model import Inventory
    from vpskit.lab import Lab
    from vpskit.onehost import host_masker, locked_session
    from vpskit.report import Reporter
    from vpskit.runner import RunOptions, Run
    from vpskit.cli.common import load_project
    only = [r.strip() for r in roles.split(",") if r.strip()] if roles else None
    try:
        project = load_project(inventory, set_, roles_path, None, only)
        production = production_host(project.inventory, host, GROUP)
        v = production.values
        targets = seconds(v["dr_rto"]), seconds(v["dr_rpo"])
        chosen = None if onto == "lab" else spare(project.inventory, production, onto)
    except (VpskitError, ValueError) as exc:
        fail(str(exc))
    masker = host_masker(production)
    report = DrillReport(host, onto, time.time(), *targets, repository=str(v.get("backups_restic_repository")))
    steps = Steps(report, shell=None)
    machines = Lab(name=lab, subnet_prefix=subnet) if chosen is None else None
    holder = {}

    def boot() -> str:
        state = machines.load_state()
        index = next_lab_index(list(state.hosts), lab)
        machines.up(index, release, first=index)
        name, address = f"{lab}{index}", machines.load_state().hosts[f"{lab}{index}"].address
        holder["spare"] = lab_spare(name, address, str(machines.key_path), str(machines.known_hosts_path))
        report.target = name
        return f"{name} at {address} (Debian {release})"

    if chosen is None and not steps.timed("boot", boot, [f"invoke lab.up --lab {lab} --subnet {subnet}"]):
        return _finish(report, masker, json, markdown, inventory)
    new = rebuilt(production, chosen or holder["spare"])

    def bootstrap() -> str:
        run = Run(Inventory(project.inventory.path, {new.name: new}, {}), [new], project.plays, project.library,
                  project.templates, RunOptions(trust_new_hosts=trust_new_hosts), Reporter(verbose_ok=False))
        [result] = run.execute()
        if result.failed:
            bad = [f"{s.role}: {s.title}" for s in result.steps if s.status in ("failed", "blocked")]
            raise VpskitError(f"bootstrap of {new.name} failed: {'; '.join(bad) or result.error}")
        return f"{len(project.plays)} play(s), {result.count('changed')} change(s)"

    plays = ",".join(only) if only else ""
    command = f"invoke role {plays}" if plays else "invoke bootstrap"
    steps.timed("bootstrap", bootstrap, [f"{command} --limit {new.name}   # with {host}'s variables"])
    if all(p.ok for p in report.phases):
        snapshot_host = str(v.get("dr_snapshot_host") or v.get("base_hostname") or production.name)
        try:
            with locked_session(new, project.library.all(), trust_new_hosts) as session:
                steps.shell = lambda command: session.connection.run(command, timeout=3600)
                steps.restore(v, snapshot_host, report.restored)
        except VpskitError as exc:  # the new host went away mid-drill: that step failed, and the report says so
            report.phases.append(Phase("connect", ok=False, detail=str(exc)))
    try:
        _finish(report, masker, json, markdown, inventory)
    finally:
        if machines is not None and "spare" in holder and not keep:
            machines.stop_host(holder["spare"].name)


def _finish(report: DrillReport, masker: Masker, json, markdown, inventory) -> None:
    from vpskit import records
    from vpskit.builtin_roles.backups.dr.report import markdown as markdown_report, text, write, write_json
    from vpskit.cli.common import inventory_file
    print(masker.mask(text(report)))
    if json:
        write_json(json, report)
    if markdown:
        write(markdown, masker.mask(markdown_report(report)))
    where = records.write(inventory_file(inventory), records.DRILLS, report.host, report.to_dict())
    print(f"recorded in {where}")
    if not report.passed:
        raise Exit(code=1)


# `invoke dr.drill`, not backups.drill: the drill rebuilds a whole host, the backups are its means
COLLECTIONS = [Collection("dr", drill)]
