"""The drill's restore steps on the new host: each a shell command of the backup program, timed as a phase.

Every restore goes through `vpskit-backup restore …`, the program `invoke backups.restore` runs too, and the K3s
step records the procedure `restore k3s` prints before `restore k3s apply` runs those same steps: the runbook
and the drill cannot drift apart. `shell(command)` runs one command as root on the new host and returns an
object with `ok`, `stdout`, `stderr` (vpskit's CommandResult).
"""

from __future__ import annotations

import shlex
import time
from typing import Callable

from ..settings import PROGRAM
from .report import DrillReport, Phase
from .snapshots import NoSnapshot, newest

WORK = "/var/lib/vpskit-dr"
# the new host must not back up its drill copy into the production repository, nor ping production's heartbeat
DISARM = "rm -f /etc/cron.d/vpskit-backup /etc/cron.d/vpskit-backup-verify /etc/cron.d/vpskit-backup-check " \
         "/etc/vpskit-backup/heartbeat-url"
POSTGRES = ("if ! command -v pg_ctlcluster >/dev/null 2>&1; then apt-get update -qq && "
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi && "
            "for i in $(seq 60); do runuser -u postgres -- psql -Atqc 'select 1' >/dev/null 2>&1 && exit 0; "
            "sleep 1; done; echo 'PostgreSQL did not start' >&2; exit 1")


def _why(result) -> str:
    text = (result.stderr or result.stdout or "").strip().splitlines()
    return text[-1] if text else f"exit {getattr(result, 'rc', '?')}"


class Steps:
    """Runs the phases one after another into `report`; the first failed phase ends the drill (later ones need it)."""

    def __init__(self, report: DrillReport, shell: Callable, clock: Callable[[], float] = time.time,
                 timer: Callable[[], float] = time.monotonic):
        self.report, self.shell, self.clock, self.timer = report, shell, clock, timer

    def phase(self, name: str, commands: list[str], detail: str = "", show: list[str] | None = None) -> Phase | None:
        """Runs commands in order; the phase fails at the first that fails. None when an earlier phase failed."""
        if any(not p.ok for p in self.report.phases):
            return None
        phase = Phase(name, commands=list(show if show is not None else commands))
        started = self.timer()
        outputs = []
        for command in commands:
            result = self.shell(command)
            outputs.append(result)
            if not result.ok:
                phase.ok, phase.detail = False, f"{command.split(' restore ')[-1][:80]}: {_why(result)}"
                break
        phase.seconds = self.timer() - started
        if phase.ok:
            phase.detail = detail or (_why(outputs[-1]) if outputs else "")
        self.report.phases.append(phase)
        return phase

    def timed(self, name: str, action: Callable[[], str], commands: list[str] = ()) -> bool:
        """A phase done by the controller (booting, bootstrapping): `action` returns its detail or raises."""
        started = self.timer()
        phase = Phase(name, commands=list(commands))
        try:
            phase.detail = action() or ""
        except Exception as exc:  # the drill reports the failed step rather than a traceback
            phase.ok, phase.detail = False, str(exc)
        phase.seconds = self.timer() - started
        self.report.phases.append(phase)
        return phase.ok

    def restore(self, v: dict, snapshot_host: str, sets: dict) -> None:
        """prepare → fetch → postgres → files → k3s → k8s, as far as the run holds them."""
        self.phase("prepare", [DISARM] + ([POSTGRES] if v.get("backups_postgres") else []),
                   "backup cron and heartbeat off on the new host" + (", PostgreSQL ready" if v.get("backups_postgres") else ""),
                   show=["# keep the new host from backing up into the production repository"] + [DISARM]
                   + (["apt-get install postgresql"] if v.get("backups_postgres") else []))
        run_dir = self.fetch(v, snapshot_host)
        if run_dir is None:
            return
        runs, run = run_dir.rsplit("/", 1)
        env = f"RUNS_FROM={shlex.quote(runs)} RUN={run} {PROGRAM}"
        listed = self.shell(f"ls -1 {shlex.quote(run_dir)}")
        files = set(listed.stdout.split()) if listed.ok else set()
        if "postgres-globals.sql" in files:
            self.phase("postgres globals", [f"{env} restore postgres-globals"], "roles applied")
        for name in sorted(files):
            if name.startswith("postgres-") and name.endswith(".dump"):
                db = name[len("postgres-"):-len(".dump")]
                phase = self.phase(f"postgres {db}", [f"{env} restore postgres {shlex.quote(db)} {shlex.quote(db)}"])
                if phase and phase.ok:
                    counts = self.shell(f"cat {shlex.quote(run_dir + '/postgres-' + db + '.counts')}").stdout
                    tables = [line.rsplit(" ", 1) for line in counts.splitlines() if " " in line]
                    sets[f"postgres {db}"] = f"{len(tables)} tables, rows as recorded" + \
                        "".join(f"{', ' if i else ': '}{name} {rows}" for i, (name, rows) in enumerate(tables))
        if "files.tar.gz" in files:
            staging = f"{WORK}/files-{run}"
            manifest, archive = (shlex.quote(f"{run_dir}/files.{x}") for x in ("sha256", "tar.gz"))
            # proven in a staging folder first, then the archive's own paths extracted in place (never a copy of
            # the staging folder onto /, which would give / that folder's owner and mode)
            phase = self.phase("files", [f"rm -rf {staging}", f"{env} restore files {staging}",
                                         f"tar -C / -xzf {archive}", f"cd / && sha256sum --quiet -c {manifest}"],
                               "in place and equal to the manifest")
            if phase and phase.ok:
                count = self.shell(f"grep -c . {manifest}").stdout.strip()
                sets["files"] = f"{count} files equal to the manifest, in place"
        if "k3s-token.enc" in files:
            procedure = self.shell(f"{env} restore k3s")
            shown = [line.split(". ", 1)[1] for line in procedure.stdout.splitlines() if line[:4].strip().rstrip(".").isdigit()]
            phase = self.phase("k3s", [f"{env} restore k3s apply"], "datastore and token in place",
                               show=shown or [f"{env} restore k3s"])
            if phase and phase.ok:
                sets["k3s"] = "datastore " + ("etcd snapshot" if any(f.startswith("vpskit-") for f in files)
                                              else "SQLite copy") + ", server token equal to the recorded one"
        for name in sorted(files):
            if name.startswith("k8s-") and name.endswith(".yaml"):
                ns = name[len("k8s-"):-len(".yaml")]
                phase = self.phase(f"k8s {ns}", [f"{env} restore k8s {shlex.quote(ns)}"])
                if phase and phase.ok:
                    sets[f"k8s {ns}"] = "objects applied"

    def fetch(self, v: dict, snapshot_host: str) -> str | None:
        """The newest off-site snapshot of the production host, restored into an empty folder; its run folder."""
        if any(not p.ok for p in self.report.phases):
            return None
        started = self.timer()
        phase = Phase("fetch")
        self.report.phases.append(phase)
        listing = self.shell(f"{PROGRAM} offsite-snapshots")
        try:
            if not listing.ok:
                raise NoSnapshot(_why(listing))
            chosen = newest(listing.stdout, snapshot_host, v["backups_dir"], self.report.repository)
        except NoSnapshot as exc:
            phase.ok, phase.detail, phase.seconds = False, str(exc), self.timer() - started
            return None
        into = f"{WORK}/offsite-{chosen.id[:8]}-{int(self.clock())}"
        phase.commands = [f"{PROGRAM} offsite-snapshots   # the newest of host {snapshot_host}: {chosen.id[:8]}",
                          f"{PROGRAM} offsite-fetch {chosen.id} {into}"]
        fetched = self.shell(f"{PROGRAM} offsite-fetch {chosen.id} {into}")
        phase.seconds = self.timer() - started
        self.report.snapshot = {"id": chosen.id, "run": chosen.run, "taken": chosen.taken}
        self.report.rpo = max(0.0, self.clock() - chosen.taken)
        lines = [x for x in fetched.stdout.splitlines() if x.startswith("RUN_DIR=")]
        if not fetched.ok or not lines:
            phase.ok, phase.detail = False, f"snapshot {chosen.id[:8]} (run {chosen.run}): {_why(fetched)}"
            return None
        phase.detail = f"snapshot {chosen.id[:8]} of run {chosen.run}"
        return lines[-1].split("=", 1)[1]
