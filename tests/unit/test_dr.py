"""Disaster-recovery drills: targets, the snapshot chosen, the verdict, the steps, and the program's restores.

The program parts run for real on this machine: restic (Debian's) on a local repository, sqlite3, openssl,
and PostgreSQL where Debian's server is installed (skipped otherwise).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.unit.backuphost import LocalBackupHost, seed_files
from vpskit.builtin_roles.backups.audit import DRILL as PROBE, drill as drill_item
from vpskit.audit.model import Probes
from vpskit.builtin_roles.backups.dr.report import DrillReport, Phase, markdown, text
from vpskit.builtin_roles.backups.dr.snapshots import NoSnapshot, newest
from vpskit.builtin_roles.backups.dr.steps import Steps
from vpskit.builtin_roles.backups.dr.target import next_lab_index, production_host, rebuilt, spare
from vpskit.durations import human, seconds
from vpskit.errors import VpskitError
from vpskit.inventory.formats import FORMATS
from vpskit.inventory.model import Host, Inventory, Var

RUNS = "/var/backups/vpskit-backup"


# -- durations, targets ---------------------------------------------------------------------------------------
def test_durations_read_as_inventories_write_them():
    assert [seconds(x) for x in ("45s", "30m", "4h", "1d", "2w", "1h30m")] == [45, 1800, 14400, 86400, 1209600, 5400]
    for bad in ("5", "1 h", "h", "0s", "-1h", True, None):
        assert FORMATS["duration"](bad), bad
    assert human(3725) == "1h 02m 05s" and human(59) == "59s" and human(90061) == "1d 01h 01m"


def _host(name, groups, **values) -> Host:
    return Host(name, groups, {k: Var(v, "test") for k, v in values.items()})


def _inventory(*hosts: Host) -> Inventory:
    return Inventory("hosts.yml", {h.name: h for h in hosts}, {})


def test_the_target_is_a_spare_never_the_production_host():
    prod = _host("prod", ["backups"], vpskit_host="10.0.0.1", backups_restic=True, backups_dir=RUNS)
    same = _host("alias", ["dr_spares"], vpskit_host="10.0.0.1")
    other = _host("web", ["web"], vpskit_host="10.0.0.3")
    good = _host("spare1", ["dr_spares"], vpskit_host="10.0.0.2", vpskit_port=2222)
    inv = _inventory(prod, same, other, good)
    with pytest.raises(VpskitError, match="that is the production host"):
        spare(inv, prod, "prod")
    with pytest.raises(VpskitError, match="production host's address"):
        spare(inv, prod, "alias")
    with pytest.raises(VpskitError, match="not a host of group dr_spares .spares: alias, spare1"):
        spare(inv, prod, "web")
    new = rebuilt(prod, spare(inv, prod, "spare1"))
    assert new.name == "spare1" and new.groups == ["backups"]
    assert new.get("vpskit_host") == "10.0.0.2" and new.get("vpskit_port") == 2222 and new.get("backups_restic")
    with pytest.raises(VpskitError, match="no off-site copy"):
        production_host(_inventory(_host("p", ["backups"], backups_restic=False)), "p", "backups")
    with pytest.raises(VpskitError, match="not in group 'backups'"):
        production_host(inv, "web", "backups")


def test_a_lab_target_is_a_new_host_after_every_running_one():
    assert next_lab_index([], "lab") == 1
    assert next_lab_index(["lab3", "lab7", "labx", "other9"], "lab") == 8


# -- the snapshot chosen, the verdict -------------------------------------------------------------------------
def _snap(host, run, at, sid="a" * 64, tags=("vpskit",), runs=RUNS):
    return {"id": sid, "hostname": host, "time": at, "tags": list(tags), "paths": [f"{runs}/{run}"]}


def test_the_newest_snapshot_of_the_host_is_chosen():
    listing = json.dumps([
        _snap("prod", "20261201T020000Z", "2026-12-01T02:00:09.123456789Z", "1" * 64),
        _snap("prod", "20261202T020000Z", "2026-12-02T02:00:07.5Z", "2" * 64),
        _snap("other", "20261203T020000Z", "2026-12-03T02:00:00Z", "3" * 64),
        _snap("prod", "20261204T020000Z", "2026-12-04T02:00:00Z", "4" * 64, tags=("manual",)),
        _snap("prod", "20261205T020000Z", "2026-12-05T02:00:00Z", "5" * 64, runs="/elsewhere"),
    ])
    chosen = newest(listing, "prod", RUNS, "sftp:r@h:/repo")
    assert chosen.id == "2" * 64 and chosen.run == "20261202T020000Z"
    assert chosen.taken == 1796176800.0  # the run's start: the data in it is that old


def test_no_snapshot_of_the_host_says_what_the_repository_holds():
    with pytest.raises(NoSnapshot, match="no off-site snapshot of host 'prod' .* it holds snapshots of other"):
        newest(json.dumps([_snap("other", "20261203T020000Z", "2026-12-03T02:00:00Z")]), "prod", RUNS, "repo")
    with pytest.raises(NoSnapshot, match="it holds no snapshot"):
        newest("[]", "prod", RUNS, "repo")
    with pytest.raises(NoSnapshot, match="not JSON"):
        newest("Fatal: wrong password", "prod", RUNS, "repo")


def _report(**kwargs) -> DrillReport:
    report = DrillReport("prod", "spare1", 1796176800.0, rto_target=3600, rpo_target=86400, repository="repo")
    for key, value in kwargs.items():
        setattr(report, key, value)
    return report


def test_the_verdict_names_the_missed_target_with_both_figures():
    fine = _report(phases=[Phase("bootstrap", 600), Phase("fetch", 60)], rpo=3600)
    assert fine.passed and "drill passed" in text(fine)
    slow = _report(phases=[Phase("bootstrap", 3000), Phase("fetch", 700)], rpo=3600)
    assert slow.failures() == ["RTO missed: 1h 01m 40s to restore, the target (dr_rto) is 1h 00m 00s"]
    stale = _report(phases=[Phase("fetch", 60)], rpo=90000)
    assert stale.failures() == ["RPO missed: the newest off-site snapshot is 1d 01h 00m old, the target (dr_rpo) "
                                "is 1d 00h 00m"]
    broken = _report(phases=[Phase("fetch", 5, ok=False, detail="no off-site snapshot")], rpo=None)
    assert broken.failures() == ["step fetch failed: no off-site snapshot"] and "drill FAILED" in text(broken)
    assert _report(phases=[], rpo=None).failures() == ["RPO unknown: no snapshot was restored"]


def test_the_markdown_hand_in_has_times_counts_and_the_commands():
    report = _report(phases=[Phase("fetch", 61, commands=["vpskit-backup offsite-fetch abc /x"]),
                             Phase("postgres shop", 4, detail="3 tables")], rpo=7200,
                     restored={"postgres shop": "3 tables, rows as recorded"},
                     snapshot={"id": "abcdef0123", "run": "20261202T020000Z", "taken": 0})
    hand_in = markdown(report)
    assert "- Result: **passed**" in hand_in and "| postgres shop | 4s | ok | 3 tables |" in hand_in
    assert "```sh\nvpskit-backup offsite-fetch abc /x\n```" in hand_in and "- RPO: 2h 00m 00s" in hand_in
    assert "backup run 20261202T020000Z" in hand_in


# -- the steps, on a scripted shell ---------------------------------------------------------------------------
@dataclass
class Result:
    ok: bool
    stdout: str = ""
    stderr: str = ""
    rc: int = 0


class ScriptedShell:
    """Answers the drill's commands by their first matching fragment; records every command."""

    def __init__(self, answers: dict[str, Result]):
        self.answers, self.commands = answers, []

    def __call__(self, command: str) -> Result:
        self.commands.append(command)
        return next((r for fragment, r in self.answers.items() if fragment in command), Result(True))


def _clock():
    ticks = iter(range(0, 10 ** 6, 10))
    return lambda: float(next(ticks))


V = {"backups_postgres": True, "backups_dir": RUNS}


def test_a_failed_fetch_stops_the_drill_before_any_restore():
    shell = ScriptedShell({"offsite-snapshots": Result(True, "[]")})
    report = _report()
    Steps(report, shell, clock=lambda: 1796176800.0, timer=_clock()).restore(V, "prod", report.restored)
    assert [p.name for p in report.phases] == ["prepare", "fetch"] and not report.phases[-1].ok
    assert "no off-site snapshot of host 'prod'" in report.failures()[0]
    assert not [c for c in shell.commands if " restore " in c or "offsite-fetch" in c]


def test_a_restore_that_fails_names_its_step_and_later_sets_are_not_tried():
    run = f"/var/lib/vpskit-dr/x{RUNS}/20261202T020000Z"
    listing = json.dumps([_snap("prod", "20261202T020000Z", "2026-12-02T02:00:07Z")])
    shell = ScriptedShell({
        "offsite-snapshots": Result(True, listing), "offsite-fetch": Result(True, f"RUN_DIR={run}\n"),
        "ls -1": Result(True, "postgres-shop.dump\npostgres-shop.counts\nfiles.tar.gz\nfiles.sha256\n"),
        "restore postgres shop shop": Result(False, "", "vpskit-backup: restore: shop's tables or row counts differ "
                                                        "from those recorded for shop: < public.items 1499", 1)})
    report = _report()
    Steps(report, shell, clock=lambda: 1796176800.0 + 3600, timer=_clock()).restore(V, "prod", report.restored)
    assert [p.name for p in report.phases] == ["prepare", "fetch", "postgres shop"]
    assert report.failures() == ["step postgres shop failed: postgres shop shop: vpskit-backup: restore: shop's "
                                 "tables or row counts differ from those recorded for shop: < public.items 1499"]
    assert report.rpo == 3600.0  # now − the run's start (its name), not restic's later time
    assert f"RUNS_FROM={RUNS.join(['/var/lib/vpskit-dr/x', ''])} RUN=20261202T020000Z" in shell.commands[-1]


# -- the program's restores, for real ---------------------------------------------------------------------------
needs_restic = pytest.mark.skipif(shutil.which("restic") is None, reason="needs restic (Debian's package)")


def _k3s_datastore(root: Path) -> Path:
    k3s = root / "k3s"
    (k3s / "server" / "db").mkdir(parents=True)
    (k3s / "server" / "token").write_text("K10secret::server:abc\n")
    with sqlite3.connect(k3s / "server" / "db" / "state.db") as db:
        db.execute("create table kine (id integer primary key, value blob)")
        db.executemany("insert into kine (value) values (?)", [(b"x" * 100,)] * 50)
    return k3s


def _with_offsite(host: LocalBackupHost, root: Path, **values) -> Path:
    """The program's off-site copy, to a local restic repository (restic treats a path as a local backend)."""
    (root / "restic-password").write_text("repo pass\n")
    host.configure(backups_restic=True, backups_restic_repository="sftp:u@h:/unused", **values)
    repo = root / "repo"
    with host.config.open("a") as config:
        config.write(f"RESTIC_REPOSITORY={repo}\nRESTIC_PASSWORD_FILE={root / 'restic-password'}\n")
    return repo


@needs_restic
def test_a_run_comes_back_from_the_offsite_copy_alone_onto_another_host(tmp_path):
    data = seed_files(tmp_path)
    k3s = _k3s_datastore(tmp_path)
    (tmp_path / "password").write_text("correct horse\n")
    prod = LocalBackupHost(tmp_path / "prod")
    (tmp_path / "prod" / "password").write_text("correct horse\n")
    repo = _with_offsite(prod, tmp_path / "prod", backups_files=[str(data)], backups_k3s=True,
                         backups_k3s_data_dir=str(k3s))
    done = prod.run()
    assert done.returncode == 0, done.stderr
    [run] = prod.runs()
    listing = prod.run_args("offsite-snapshots")
    chosen = newest(listing.stdout, os.uname().nodename, str(prod.dir), "repo")
    assert chosen.run == run.name
    # the new host: its own (empty) folders, the same repository and secrets, a K3s of its own already there
    new_k3s = tmp_path / "new-k3s"
    (new_k3s / "server" / "db").mkdir(parents=True)
    (new_k3s / "server" / "db" / "state.db").write_text("the new server's own")
    new = LocalBackupHost(tmp_path / "new")
    (tmp_path / "new" / "password").write_text("correct horse\n")
    _with_offsite(new, tmp_path / "new", backups_k3s=True, backups_k3s_data_dir=str(new_k3s))
    (tmp_path / "new" / "restic-password").write_text("repo pass\n")
    new.config.write_text(new.config.read_text().replace(str(tmp_path / "new" / "repo"), str(repo)))
    fetched = new.run_args("offsite-fetch", chosen.id, str(tmp_path / "fetched"))
    assert fetched.returncode == 0, fetched.stderr
    run_dir = fetched.stdout.strip().split("=", 1)[1]
    assert run_dir == f"{tmp_path / 'fetched'}{run}"
    env = {"RUNS_FROM": str(Path(run_dir).parent), "RUN": run.name}
    files = new.run_args("restore", "files", str(tmp_path / "files"), **env)
    assert files.returncode == 0, files.stderr
    assert (tmp_path / "files" / str(data)[1:] / "a.txt").read_text() == "alpha\n"
    # K3s: the procedure printed is the one applied, step by step
    printed = new.run_args("restore", "k3s", **env)
    assert printed.returncode == 0 and "openssl enc -d" in printed.stdout and "state.db-wal" in printed.stdout
    applied = new.run_args("restore", "k3s", "apply", **env)
    assert applied.returncode == 0, applied.stderr
    steps = [line.split(". ", 1)[1] for line in printed.stdout.splitlines() if line[:4].strip().rstrip(".").isdigit()]
    assert [line.split(" done: ", 1)[1] for line in applied.stdout.splitlines() if " done: " in line] == steps
    assert (new_k3s / "server" / "token").read_text() == "K10secret::server:abc\n"
    copy = sqlite3.connect(new_k3s / "server" / "db" / "state.db")
    assert copy.execute("select count(*) from kine").fetchone() == (50,)
    [aside] = (new_k3s / "server").glob("db.before-restore-*")
    assert (aside / "state.db").read_text() == "the new server's own"  # kept aside, never deleted
    assert new.run_args("restore", "k3s", "apply", **env).returncode == 0  # a second drill onto the same host
    assert len(list((new_k3s / "server").glob("db.before-restore-*"))) == 2
    again = new.run_args("offsite-fetch", chosen.id, str(tmp_path / "fetched"))
    assert again.returncode == 1 and "is not empty" in again.stderr


@needs_restic
def test_a_corrupted_offsite_snapshot_fails_the_fetch_naming_it(tmp_path):
    data = seed_files(tmp_path)
    (data / "big.bin").write_bytes(os.urandom(300_000))
    host = LocalBackupHost(tmp_path / "prod")
    repo = _with_offsite(host, tmp_path / "prod", backups_files=[str(data)])
    assert host.run().returncode == 0
    chosen = newest(host.run_args("offsite-snapshots").stdout, os.uname().nodename, str(host.dir), "repo")
    for pack in (repo / "data").rglob("*"):
        if pack.is_file():
            pack.chmod(0o600)
            with pack.open("r+b") as handle:
                handle.seek(pack.stat().st_size // 2)
                handle.write(os.urandom(64))
    fetched = host.run_args("offsite-fetch", chosen.id, str(tmp_path / "fetched"))
    assert fetched.returncode == 1
    assert f"offsite-fetch: restic restore of snapshot {chosen.id} failed" in fetched.stderr


def test_restore_k3s_says_so_when_the_run_holds_no_datastore(tmp_path):
    host = LocalBackupHost(tmp_path, backups_files=[str(seed_files(tmp_path))])
    assert host.run().returncode == 0
    printed = host.run_args("restore", "k3s")
    assert printed.returncode == 1 and "holds no K3s datastore and token" in printed.stderr


# -- the audit reads the last drill's record -------------------------------------------------------------------
def _audit(record: dict | None, **v) -> tuple[str, str]:
    probe = (0, json.dumps(record)) if record else (1, "no drill recorded in inventory/dr-drills/prod.json")
    finding = drill_item(Probes({PROBE: probe}), {"backups_restic": True, "dr_drill_max_age": "90d", **v})
    return finding.status, finding.evidence


def test_the_audit_passes_only_a_recent_passed_drill():
    now = time.time()
    passed = {"started": now - 86400, "passed": True, "target": "spare1", "rto": 900, "rpo": 7200, "failures": []}
    assert _audit(passed) == ("pass", f"drill passed {time.strftime('%Y-%m-%d', time.gmtime(now - 86400))} onto "
                                      "spare1: RTO 15m 00s, RPO 2h 00m 00s")
    status, evidence = _audit({**passed, "started": now - 100 * 86400})
    assert status == "fail" and "more than dr_drill_max_age (90d 00h 00m)" in evidence
    status, evidence = _audit({**passed, "passed": False, "failures": ["RPO missed: …"]})
    assert status == "fail" and "failed: RPO missed" in evidence
    status, evidence = _audit(None)
    assert status == "fail" and "no drill recorded" in evidence and "invoke dr.drill" in evidence
    assert _audit(None, backups_restic=False)[0] == "n/a"


# -- a restored database whose rows differ from the recorded ones, on a real PostgreSQL server --------------------
def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")) if Path("/usr/lib/postgresql").is_dir() else []
    return found[-1].parent if found and os.geteuid() == 0 and shutil.which("runuser") else None


@pytest.fixture
def postgres():
    """A throwaway PostgreSQL cluster (Debian's server binaries, run as user postgres) on a Unix socket."""
    binaries = _pg_bin()
    if binaries is None:
        pytest.skip("needs Debian's PostgreSQL server (postgresql) and root")
    root = Path(tempfile.mkdtemp(prefix="vpskit-pg-"))
    shutil.chown(root, "postgres")
    data, socket, port = root / "data", root, "54329"
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_pg, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"], check=True,
                   capture_output=True)
    subprocess.run([*as_pg, str(binaries / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                    f"-k {socket} -c listen_addresses='' -p {port}", "start"], check=True, capture_output=True)
    try:
        yield {"backups_postgres_host": str(socket), "backups_postgres_port": int(port)}
    finally:
        subprocess.run([*as_pg, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_a_restored_database_must_have_the_recorded_row_counts(tmp_path, postgres):
    psql = ["psql", "-X", "-q", "-h", postgres["backups_postgres_host"], "-p", str(postgres["backups_postgres_port"]),
            "-U", "postgres", "-v", "ON_ERROR_STOP=1"]
    subprocess.run([*psql, "-d", "postgres", "-c", "create database shop"], check=True, capture_output=True)
    subprocess.run([*psql, "-d", "shop", "-c", "create table items (id serial primary key, name text); "
                    "insert into items (name) select 'item ' || g from generate_series(1, 150) g"], check=True,
                   capture_output=True)
    host = LocalBackupHost(tmp_path, backups_postgres=True, backups_postgres_databases=["shop"], **postgres)
    done = host.run()
    assert done.returncode == 0, done.stderr
    [run] = host.runs()
    assert (run / "postgres-shop.counts").read_text() == "public.items 150\n"
    good = host.run_args("restore", "postgres", "shop", "shop_back")
    assert good.returncode == 0 and "1 tables with the recorded row counts" in good.stdout, good.stderr
    refused = host.run_args("restore", "postgres", "shop", "shop")
    assert refused.returncode == 1 and "exists and has tables" in refused.stderr  # never over data
    subprocess.run([*psql, "-d", "postgres", "-c", "create database blank"], check=True, capture_output=True)
    into_empty = host.run_args("restore", "postgres", "shop", "blank")  # a new server's own, empty `postgres`
    assert into_empty.returncode == 0, into_empty.stderr
    # a dump that does not hold what was recorded when it was taken (the counts file says 151)
    (run / "postgres-shop.counts").write_text("public.items 151\n")
    bad = host.run_args("restore", "postgres", "shop", "shop_again")
    assert bad.returncode == 1
    assert "shop_again's tables or row counts differ from those recorded for shop: < public.items 150 > " \
           "public.items 151" in bad.stderr
