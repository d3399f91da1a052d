"""backups role: a backup program run by cron (PostgreSQL, files, K3s), pruned, restore-tested, with metrics."""

from __future__ import annotations

from vpskit.errors import VpskitError
from vpskit.resources import CronJob, Directory, File, Packages, Service
from vpskit.role import RolePlan

from .repository import environment, location, missing
from .settings import (CONFIG, CONFIG_DIR, HEARTBEAT, PASSWORD, PGPASS, PROGRAM, RESTIC_ENV, RESTIC_KEY,
                       RESTIC_KNOWN_HOSTS, RESTIC_PASSWORD, RESTIC_REPOSITORY_FILE, SSH_CONFIG, STATE_DIR, offsite_kind, pgpass, settings,
                       ssh_config)


def packages(v: dict) -> list[str]:
    """What the program needs beyond a Debian base: cron, and the tools of the sets switched on. Pure."""
    wanted = ["cron"]
    if v["backups_k3s"]:
        wanted += ["sqlite3", "openssl"]
    if v["backups_postgres"] and v.get("backups_postgres_host"):
        wanted.append("postgresql-client")  # a local server (peer auth) brings its own client
    if v["backups_restic"]:
        wanted += ["restic", "openssh-client"] if offsite_kind(v) == "sftp" else ["restic"]
    if v.get("backups_heartbeat_url"):
        wanted.append("curl")
    return wanted


def check_sets(v: dict) -> None:
    """Combinations the inventory cannot express alone: secrets a switched-on set needs."""
    if v["backups_k3s"] and not v.get("backups_encryption_password"):
        raise VpskitError("backups_k3s needs backups_encryption_password (e.g. !env VPSKIT_BACKUP_PASSWORD): the "
                          "K3s server token is stored encrypted with it, and a snapshot cannot be restored without it")
    if v["backups_postgres"] and v.get("backups_postgres_host") and not v.get("backups_postgres_password"):
        raise VpskitError("backups_postgres_host is set but backups_postgres_password is not: a server reached "
                          "over TCP needs the role's password (a secret source: !env or !file)")
    if v["backups_restic"]:
        try:
            absent = [k for k in ("backups_restic_repository", "backups_restic_password") if not v.get(k)]
            absent += missing(v) if v.get("backups_restic_repository") else []
        except ValueError as exc:
            raise VpskitError(str(exc)) from None
        if absent:
            raise VpskitError(f"backups_restic needs {', '.join(absent)} (the password and key from secret "
                              "sources: !env or !file)")


GROUP = "backups"


def plan(ctx) -> RolePlan:
    v = ctx.vars
    if GROUP not in ctx.inventory.host(ctx.host).groups:
        return RolePlan("backups", [])  # hosts outside group `backups` get no backup program
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
        *offsite(v),
        # the heartbeat URL is its own secret (a healthchecks check's URL is all it takes to ping it)
        File(HEARTBEAT, content=f"{v['backups_heartbeat_url']}\n", mode="0600", secret=True, backup=False)
        if v.get("backups_heartbeat_url") else File(HEARTBEAT, state="absent"),
        File(PROGRAM, content=ctx.render("backups/vpskit-backup.sh.j2"), mode="0700"),
        CronJob("backup", v["backups_schedule"], f"{PROGRAM} run >/dev/null"),
        CronJob("backup-verify", v.get("backups_verify_schedule") or "@daily", f"{PROGRAM} verify >/dev/null",
                state="present" if v.get("backups_verify_schedule") else "absent"),
        CronJob("backup-check", v.get("backups_restic_check_schedule") or "@weekly", f"{PROGRAM} check >/dev/null",
                state="present" if v["backups_restic"] and v.get("backups_restic_check_schedule") else "absent"),
        Service("cron", enabled=True, running=True),
    ]
    return RolePlan("backups", resources)


def offsite(v: dict) -> list:
    """restic's password and what its repository's kind needs (SFTP: key, pinned host keys, ssh settings; REST
    with a login: the repository file; S3: the keys' environment file); the others absent."""
    secret = {"mode": "0600", "secret": True, "backup": False}
    wanted = {}
    if v["backups_restic"]:
        wanted[RESTIC_PASSWORD] = File(RESTIC_PASSWORD, content=f"{v['backups_restic_password']}\n", **secret)
        on = offsite_kind(v)
        if on == "sftp":
            key = str(v["backups_restic_ssh_key"]).strip() + "\n"
            wanted[RESTIC_KEY] = File(RESTIC_KEY, content=key, **secret)
            wanted[RESTIC_KNOWN_HOSTS] = File(RESTIC_KNOWN_HOSTS, content=str(v["backups_restic_known_hosts"]).strip()
                                              + "\n", mode="0600")
            wanted[SSH_CONFIG] = File(SSH_CONFIG, content=ssh_config(v), mode="0600")
        elif on == "rest" and v.get("backups_restic_rest_user"):
            wanted[RESTIC_REPOSITORY_FILE] = File(RESTIC_REPOSITORY_FILE, content=location(v) + "\n", **secret)
        elif on == "s3":
            wanted[RESTIC_ENV] = File(RESTIC_ENV, content=environment(v), **secret)
    paths = (RESTIC_PASSWORD, RESTIC_KEY, RESTIC_KNOWN_HOSTS, SSH_CONFIG, RESTIC_REPOSITORY_FILE, RESTIC_ENV)
    return [wanted.get(path) or File(path, state="absent") for path in paths]
