"""backups role: a backup program run by cron (PostgreSQL, files, K3s), pruned, restore-tested, with metrics."""

from __future__ import annotations

from vpskit.errors import VpskitError
from vpskit.resources import CronJob, Directory, File, Packages, Service
from vpskit.role import RolePlan

from .settings import CONFIG, CONFIG_DIR, PASSWORD, PGPASS, STATE_DIR, pgpass, settings

PROGRAM = "/usr/local/sbin/vpskit-backup"


def packages(v: dict) -> list[str]:
    """What the program needs beyond a Debian base: cron, and the tools of the sets switched on. Pure."""
    wanted = ["cron"]
    if v["backups_k3s"]:
        wanted += ["sqlite3", "openssl"]
    if v["backups_postgres"] and v.get("backups_postgres_host"):
        wanted.append("postgresql-client")  # a local server (peer auth) brings its own client
    return wanted


def check_sets(v: dict) -> None:
    """Combinations the inventory cannot express alone: secrets a switched-on set needs."""
    if v["backups_k3s"] and not v.get("backups_encryption_password"):
        raise VpskitError("backups_k3s needs backups_encryption_password (e.g. !env VPSKIT_BACKUP_PASSWORD): the "
                          "K3s server token is stored encrypted with it, and a snapshot cannot be restored without it")
    if v["backups_postgres"] and v.get("backups_postgres_host") and not v.get("backups_postgres_password"):
        raise VpskitError("backups_postgres_host is set but backups_postgres_password is not: a server reached "
                          "over TCP needs the role's password (a secret source: !env or !file)")


def plan(ctx) -> RolePlan:
    v = ctx.vars
    check_sets(v)
    remote_pg = bool(v["backups_postgres"] and v.get("backups_postgres_host"))
    password = v.get("backups_encryption_password")
    resources = [
        Packages(packages(v)),
        Directory(CONFIG_DIR, mode="0700"),
        Directory(v["backups_dir"], mode="0700"),
        Directory(STATE_DIR, mode="0700"),
    ]
    if v.get("backups_textfile_dir"):
        resources.append(Directory(v["backups_textfile_dir"], mode="0755"))
    resources += [
        File(CONFIG, content=settings(v), mode="0600"),
        # secrets: 0600, masked, and no copy of the old version kept under /var/backups/vpskit
        File(PGPASS, content=pgpass(v), mode="0600", secret=True, backup=False) if remote_pg
        else File(PGPASS, state="absent"),
        File(PASSWORD, content=f"{password}\n", mode="0600", secret=True, backup=False) if password
        else File(PASSWORD, state="absent"),
        File(PROGRAM, content=ctx.render("backups/vpskit-backup.sh.j2"), mode="0700"),
        CronJob("backup", v["backups_schedule"], f"{PROGRAM} run >/dev/null"),
        CronJob("backup-verify", v.get("backups_verify_schedule") or "@daily", f"{PROGRAM} verify >/dev/null",
                state="present" if v.get("backups_verify_schedule") else "absent"),
        Service("cron", enabled=True, running=True),
    ]
    return RolePlan("backups", resources)
