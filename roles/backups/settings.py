"""The backup program's settings file, built from the role's variables as shell assignments. Pure."""

from __future__ import annotations

import shlex

from .repository import SFTP, kind

PROGRAM = "/usr/local/sbin/vpskit-backup"
CONFIG_DIR = "/etc/vpskit-backup"
CONFIG = f"{CONFIG_DIR}/config"
PGPASS = f"{CONFIG_DIR}/pgpass"
PASSWORD = f"{CONFIG_DIR}/encryption-password"
STATE_DIR = "/var/lib/vpskit-backup"
LOCK = "/run/vpskit-backup.lock"
RESTIC_PASSWORD = f"{CONFIG_DIR}/restic-password"
RESTIC_KEY = f"{CONFIG_DIR}/restic-ssh-key"
RESTIC_KNOWN_HOSTS = f"{CONFIG_DIR}/restic-known-hosts"
SSH_CONFIG = f"{CONFIG_DIR}/ssh_config"
HEARTBEAT = f"{CONFIG_DIR}/heartbeat-url"
RESTIC_REPOSITORY_FILE = f"{CONFIG_DIR}/restic-repository"
RESTIC_ENV = f"{CONFIG_DIR}/restic-env"


def _array(values) -> str:
    return "(" + " ".join(shlex.quote(str(v)) for v in values) + ")"


def settings(v: dict, files: dict | None = None) -> str:
    """`/etc/vpskit-backup/config`: paths and switches only; secrets live in the 0600 files it names.

    `files` replaces the fixed paths (state dir, lock, pgpass, password) where a test runs the program locally.
    """
    f = {"STATE_DIR": STATE_DIR, "LOCK_FILE": LOCK, "PGPASS_FILE": PGPASS, "PASSPHRASE_FILE": PASSWORD,
         "HEARTBEAT_FILE": HEARTBEAT, **(files or {})}
    pairs = {
        "BACKUP_DIR": v["backups_dir"], "STATE_DIR": f["STATE_DIR"], "LOCK_FILE": f["LOCK_FILE"],
        "TEXTFILE_DIR": v.get("backups_textfile_dir") or "",
        "KEEP_DAILY": v["backups_keep_daily"], "KEEP_WEEKLY": v["backups_keep_weekly"],
        "KEEP_MONTHLY": v["backups_keep_monthly"], "MIN_BYTES": v["backups_min_bytes"],
        "NICE": v["backups_nice"], "IONICE_CLASS": v["backups_ionice_class"], "IONICE_LEVEL": v["backups_ionice_level"],
        "PG_ENABLED": int(bool(v["backups_postgres"])), "PG_USER": v["backups_postgres_user"],
        "PG_HOST": v.get("backups_postgres_host") or "", "PG_PORT": v["backups_postgres_port"], "PGPASS_FILE": f["PGPASS_FILE"],
        "K3S_ENABLED": int(bool(v["backups_k3s"])), "K3S_DATA_DIR": v["backups_k3s_data_dir"],
        "K3S_BIN": v["backups_k3s_bin"], "PASSPHRASE_FILE": f["PASSPHRASE_FILE"],
        "RESTIC_ENABLED": int(bool(v["backups_restic"])), "RESTIC_REPOSITORY": v.get("backups_restic_repository") or "",
        "RESTIC_PASSWORD_FILE": f.get("RESTIC_PASSWORD_FILE", RESTIC_PASSWORD),
        "RESTIC_SFTP_COMMAND": sftp_command(v, f.get("SSH_CONFIG", SSH_CONFIG)) if offsite_kind(v) == "sftp" else "",
        # a REST server's credentials ride in the URL: restic reads it from a 0600 file, never a command line
        "RESTIC_REPOSITORY_FILE": f.get("RESTIC_REPOSITORY_FILE", RESTIC_REPOSITORY_FILE)
        if offsite_kind(v) == "rest" and v.get("backups_restic_rest_user") else "",
        "RESTIC_ENV_FILE": f.get("RESTIC_ENV_FILE", RESTIC_ENV) if offsite_kind(v) == "s3" else "",
        "HEARTBEAT_FILE": f["HEARTBEAT_FILE"],
    }
    lines = ["# Written by vpskit (role backups): read by /usr/local/sbin/vpskit-backup."]
    lines += [f"{k}={shlex.quote(str(value))}" for k, value in pairs.items()]
    lines += [f"PG_DATABASES={_array(v['backups_postgres_databases'])}", f"FILES={_array(v['backups_files'])}",
              f"K8S_NAMESPACES={_array(v['backups_k8s_namespaces'])}",
              f"K8S_KINDS={shlex.quote(','.join(v['backups_k8s_kinds']))}"]
    return "\n".join(lines) + "\n"


def offsite_kind(v: dict) -> str | None:
    """sftp, rest or s3 with off-site copies on, else None."""
    return kind(v.get("backups_restic_repository")) if v["backups_restic"] else None


def pgpass(v: dict) -> str:
    """One pgpass line for the TCP server (`:` and `\\` escaped as libpq wants)."""
    def esc(value) -> str:
        return str(value).replace("\\", "\\\\").replace(":", "\\:")
    fields = [v["backups_postgres_host"], v["backups_postgres_port"], "*", v["backups_postgres_user"],
              v["backups_postgres_password"]]
    return ":".join(esc(f) for f in fields) + "\n"


def sftp_target(repository: str) -> tuple[str | None, str]:
    """(user, host) of an sftp:USER@HOST:/PATH repository; ValueError for anything else."""
    match = SFTP.match(str(repository or ""))
    if not match:
        raise ValueError(f"backups_restic_repository must be sftp:USER@HOST:/PATH, got {repository!r}")
    return match.group(1), match.group(2).strip("[]")


def sftp_command(v: dict, ssh_config: str = SSH_CONFIG) -> str:
    """How restic starts its SFTP session: ssh with vpskit's own config file (key, strict host key, port)."""
    user, host = sftp_target(v["backups_restic_repository"])
    return f"ssh -F {ssh_config} {user + '@' if user else ''}{host} -s sftp"


def ssh_config(v: dict) -> str:
    """The ssh client settings of the off-site login: its own key, only that key, the pinned host keys."""
    return "\n".join(["# Written by vpskit (role backups): restic's SFTP login.", "Host *",
                      f"    IdentityFile {RESTIC_KEY}", "    IdentitiesOnly yes",
                      f"    UserKnownHostsFile {RESTIC_KNOWN_HOSTS}", "    StrictHostKeyChecking yes",
                      "    BatchMode yes", f"    Port {int(v['backups_restic_port'])}",
                      "    ServerAliveInterval 30", "    ServerAliveCountMax 4"]) + "\n"
