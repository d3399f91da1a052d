"""The backup program's settings file, built from the role's variables as shell assignments. Pure."""

from __future__ import annotations

import shlex

CONFIG_DIR = "/etc/vpskit-backup"
CONFIG = f"{CONFIG_DIR}/config"
PGPASS = f"{CONFIG_DIR}/pgpass"
PASSWORD = f"{CONFIG_DIR}/encryption-password"
STATE_DIR = "/var/lib/vpskit-backup"
LOCK = "/run/vpskit-backup.lock"


def _array(values) -> str:
    return "(" + " ".join(shlex.quote(str(v)) for v in values) + ")"


def settings(v: dict, files: dict | None = None) -> str:
    """`/etc/vpskit-backup/config`: paths and switches only; secrets live in the 0600 files it names.

    `files` replaces the fixed paths (state dir, lock, pgpass, password) where a test runs the program locally.
    """
    f = {"STATE_DIR": STATE_DIR, "LOCK_FILE": LOCK, "PGPASS_FILE": PGPASS, "PASSPHRASE_FILE": PASSWORD, **(files or {})}
    pairs = {
        "BACKUP_DIR": v["backups_dir"], "STATE_DIR": f["STATE_DIR"], "LOCK_FILE": f["LOCK_FILE"],
        "TEXTFILE_DIR": v.get("backups_textfile_dir") or "",
        "KEEP_DAILY": v["backups_keep_daily"], "MIN_BYTES": v["backups_min_bytes"],
        "NICE": v["backups_nice"], "IONICE_CLASS": v["backups_ionice_class"], "IONICE_LEVEL": v["backups_ionice_level"],
        "PG_ENABLED": int(bool(v["backups_postgres"])), "PG_USER": v["backups_postgres_user"],
        "PG_HOST": v.get("backups_postgres_host") or "", "PG_PORT": v["backups_postgres_port"], "PGPASS_FILE": f["PGPASS_FILE"],
        "K3S_ENABLED": int(bool(v["backups_k3s"])), "K3S_DATA_DIR": v["backups_k3s_data_dir"],
        "K3S_BIN": v["backups_k3s_bin"], "PASSPHRASE_FILE": f["PASSPHRASE_FILE"],
    }
    lines = ["# Written by vpskit (role backups): read by /usr/local/sbin/vpskit-backup."]
    lines += [f"{k}={shlex.quote(str(value))}" for k, value in pairs.items()]
    lines += [f"PG_DATABASES={_array(v['backups_postgres_databases'])}", f"FILES={_array(v['backups_files'])}"]
    return "\n".join(lines) + "\n"


def pgpass(v: dict) -> str:
    """One pgpass line for the TCP server (`:` and `\\` escaped as libpq wants)."""
    def esc(value) -> str:
        return str(value).replace("\\", "\\\\").replace(":", "\\:")
    fields = [v["backups_postgres_host"], v["backups_postgres_port"], "*", v["backups_postgres_user"],
              v["backups_postgres_password"]]
    return ":".join(esc(f) for f in fields) + "\n"
