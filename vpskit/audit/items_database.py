"""Checklist items about a PostgreSQL server on the host (`audit_postgres`): the slow query log, and a pooler in
front once connections run high. One read-only psql query (peer authentication as `audit_postgres_user`, the
Debian package's way) in the host's probe command."""

from __future__ import annotations

from ..facts.base import q
from .model import Finding, Item, Probes

QUERY = ("SELECT current_setting('log_min_duration_statement'), current_setting('max_connections'), "
         "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')")


def probe(v: dict) -> str:
    """`SETTING|MAX|USED` then `pooler` when something listens on the pooler's port."""
    port = int(v["audit_postgres_pooler_port"])
    return (f"runuser -u {q(v['audit_postgres_user'])} -- psql -XAtq -F'|' -c {q(QUERY)} 2>&1; "
            f"ss -H -tln 'sport = :{port}' | grep -q . && echo pooler; true")


def _read(p: Probes) -> tuple[str, int, int] | str:
    """(log_min_duration_statement, max_connections, client connections), or what psql said instead."""
    first = p.out("postgres").splitlines()[0] if p.out("postgres").strip() else "no output"
    fields = first.split("|")
    if len(fields) != 3 or not fields[1].isdigit() or not fields[2].isdigit():
        return first[:200]
    return fields[0], int(fields[1]), int(fields[2])


def asked(judge):
    """A judge of psql's answer: n/a without audit_postgres, failed when psql did not answer."""
    def judged(p: Probes, v: dict) -> Finding:
        if not v["audit_postgres"]:
            return Finding.na("audit_postgres is false")
        found = _read(p)
        return Finding.fail(f"cannot ask PostgreSQL: {found}") if isinstance(found, str) else judge(found, p, v)
    return judged


@asked
def slow_query_log(found: tuple[str, int, int], p: Probes, v: dict) -> Finding:
    setting = found[0]
    if setting == "-1":
        return Finding.fail("log_min_duration_statement = -1: slow queries are not logged")
    if setting == "0":
        return Finding.warn("log_min_duration_statement = 0: every statement is logged (noisy, slow)")
    return Finding.ok(f"statements slower than {setting} are logged")


@asked
def pooler(found: tuple[str, int, int], p: Probes, v: dict) -> Finding:
    _, most, used = found
    share = used / most if most else 1.0
    text = f"{used} of max_connections {most} in use"
    if "pooler" in p.out("postgres").split():
        return Finding.ok(f"{text}; a pooler listens on {v['audit_postgres_pooler_port']}")
    if share >= v["audit_postgres_pooler_share"]:
        return Finding.warn(f"{text} and no pooler on port {v['audit_postgres_pooler_port']}")
    return Finding.ok(f"{text}: no pooler needed yet")


def items(v: dict) -> list[Item]:
    needs = {"postgres": probe(v)} if v["audit_postgres"] else {}
    return [
        Item("db.slow-query-log", "database", "warning", "Slow query log on (log_min_duration_statement)",
             "ALTER SYSTEM SET log_min_duration_statement = '250ms'; SELECT pg_reload_conf();", slow_query_log, needs,
             rank=10),
        Item("db.pooler", "database", "info", "A connection pooler once connections run high",
             "PgBouncer in front (transaction pooling), the application connecting to it", pooler, needs, rank=20),
    ]
