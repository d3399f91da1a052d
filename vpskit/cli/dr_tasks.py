"""dr.* tasks: the disaster-recovery drill (a host rebuilt from its off-site copy onto another, timed)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from invoke import Collection, Exit, task

from .options import RUN_HELP, fail

if TYPE_CHECKING:  # the drill's modules load when it runs, not when the command line lists its tasks
    from ..dr.report import DrillReport
    from ..secrets import Masker

GROUP = "backups"


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
    from ..dr.report import DrillReport, Phase
    from ..dr.steps import Steps
    from ..dr.target import lab_spare, next_lab_index, production_host, rebuilt, spare
    from ..durations import seconds
    from ..errors import VpskitError
    from ..inventory.model import Inventory
    from ..lab import Lab
    from ..logins import connect
    from ..report import Reporter
    from ..runner import RunOptions, Run
    from ..secrets import Masker, collect_secrets
    from .common import load_project
    only = [r.strip() for r in roles.split(",") if r.strip()] if roles else None
    try:
        project = load_project(inventory, set_, roles_path, None, only)
        production = production_host(project.inventory, host, GROUP)
        v = production.values
        targets = seconds(v["dr_rto"]), seconds(v["dr_rpo"])
        chosen = None if onto == "lab" else spare(project.inventory, production, onto)
    except (VpskitError, ValueError) as exc:
        fail(str(exc))
    masker = Masker(collect_secrets(production.values) | production.secrets)
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
            with connect(new, project.library.all(), trust_new_hosts) as conn:
                steps.shell = lambda command: conn.run(command, timeout=3600)
                steps.restore(v, snapshot_host, report.restored)
        except VpskitError as exc:  # the new host went away mid-drill: that step failed, and the report says so
            report.phases.append(Phase("connect", ok=False, detail=str(exc)))
    try:
        _finish(report, masker, json, markdown, inventory)
    finally:
        if machines is not None and "spare" in holder and not keep:
            machines.stop_host(holder["spare"].name)


def _finish(report: DrillReport, masker: Masker, json, markdown, inventory) -> None:
    from ..dr import record
    from ..dr.report import markdown as markdown_report, text, write, write_json
    from .common import inventory_file
    print(masker.mask(text(report)))
    if json:
        write_json(json, report)
    if markdown:
        write(markdown, masker.mask(markdown_report(report)))
    where = record.write(inventory_file(inventory), report.host, report.to_dict())
    print(f"recorded in {where}")
    if not report.passed:
        raise Exit(code=1)


def namespace() -> Collection:
    return Collection("dr", drill)
