"""The database items: the probe's query against a real PostgreSQL started for the test (Debian's package, as the
postgres user, on a socket in a folder of its own), with the slow query log off, on, and at 0; and the judges on
psql's output, a failing psql, a pooler and the connection share."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from vpskit.audit import items_database
from vpskit.audit.model import Probes
from tests.unit.audit.workloads import DEFAULTS

ON = {**DEFAULTS, "audit_postgres": True}
BIN = Path("/usr/lib/postgresql")


def _server_bin() -> Path | None:
    found = sorted(BIN.glob("*/bin/postgres")) if BIN.is_dir() else []
    return found[-1].parent if found else None


@pytest.fixture(scope="module")
def postgres():
    folder = _server_bin()
    if folder is None or os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs Debian's postgresql package and root (runuser to the postgres user)")
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres user")
    home = Path(tempfile.mkdtemp(prefix="vpskit-audit-pg-"))
    os.chown(home, owner.pw_uid, owner.pw_gid)
    as_pg = ["runuser", "-u", "postgres", "--"]
    data, sock = home / "data", home

    def run(*args, **kw):
        return subprocess.run([*as_pg, *map(str, args)], capture_output=True, text=True, timeout=60, **kw)
    assert run(folder / "initdb", "-D", data, "-A", "peer").returncode == 0
    # -l: the server's output to a file, so that it holds none of our pipes open
    started = run(folder / "pg_ctl", "-D", data, "-l", home / "server.log", "-w", "-o",
                  f"-k {sock} -c listen_addresses='' -p 5499", "start")
    assert started.returncode == 0, started.stderr
    env = {**os.environ, "PGHOST": str(sock), "PGPORT": "5499"}

    def probe(setting: str | None = None) -> Probes:
        if setting is not None:
            assert run("psql", "-XAtqc", f"ALTER SYSTEM SET log_min_duration_statement = '{setting}'", env=env).returncode == 0
            assert run("psql", "-XAtqc", "SELECT pg_reload_conf()", env=env).returncode == 0
        done = subprocess.run(["sh", "-c", items_database.probe(ON)], capture_output=True, text=True, timeout=60,
                              env=env)
        return Probes({"postgres": (done.returncode, done.stdout)})
    try:
        yield probe
    finally:
        run(folder / "pg_ctl", "-D", data, "-m", "fast", "stop")
    shutil.rmtree(home, ignore_errors=True)


def test_the_slow_query_log_on_a_real_server(postgres):
    off = postgres()  # initdb's default: -1
    assert items_database.slow_query_log(off, ON).status == "fail"
    assert "-1" in items_database.slow_query_log(off, ON).evidence
    assert items_database.slow_query_log(postgres("250ms"), ON).evidence == "statements slower than 250ms are logged"
    assert items_database.slow_query_log(postgres("0"), ON).status == "warn"
    found = items_database.pooler(postgres(), ON)
    assert found.status == "pass" and "of max_connections 100 in use" in found.evidence


def test_judges_on_psql_output():
    def probes(text: str) -> Probes:
        return Probes({"postgres": (0, text)})
    refused = probes('psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed\n')
    assert items_database.slow_query_log(refused, ON).status == "fail"
    assert "cannot ask PostgreSQL: psql: error" in items_database.pooler(refused, ON).evidence
    assert items_database.pooler(probes("1s|100|80\n"), ON).status == "warn"
    assert items_database.pooler(probes("1s|100|80\npooler\n"), ON).status == "pass"
    assert items_database.pooler(probes("1s|100|10\n"), ON).status == "pass"
    assert {i.id: i.judge(probes(""), DEFAULTS).status for i in items_database.items(DEFAULTS)} == \
        {"db.slow-query-log": "n/a", "db.pooler": "n/a"}
    assert items_database.items(DEFAULTS)[0].probes == {}  # nothing asked of a host without audit_postgres
