"""The backup program run on this machine's real bash, in a folder of its own: for unit tests of its logic."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from vpskit.builtin_roles.backups.settings import settings
from vpskit.roleloader import RoleLibrary
from vpskit.templating import Templates


def role_defaults() -> dict:
    return {k: v.value for k, v in RoleLibrary().load("backups").defaults.items()}


class LocalBackupHost:
    """The program, its settings file and its folders under `root`; `run("verify")` runs it as cron would."""

    def __init__(self, root: Path, **values):
        self.root = root
        self.dir, self.state, self.metrics = root / "backups", root / "state", root / "metrics"
        for folder in (self.dir, self.state, self.metrics):
            folder.mkdir(parents=True, exist_ok=True)
        self.program = root / "vpskit-backup"
        self.program.write_text(Templates().render("backups/vpskit-backup.sh.j2", {}))
        self.program.chmod(0o700)
        self.config = root / "config"
        self.configure(**values)

    def configure(self, **values) -> None:
        v = {**role_defaults(), "backups_dir": str(self.dir), "backups_textfile_dir": str(self.metrics), **values}
        files = {"STATE_DIR": str(self.state), "LOCK_FILE": str(self.root / "lock"),
                 "PGPASS_FILE": str(self.root / "pgpass"), "PASSPHRASE_FILE": str(self.root / "password"),
                 "HEARTBEAT_FILE": str(self.root / "heartbeat-url")}
        self.config.write_text(settings(v, files))

    def env(self, **extra) -> dict:
        return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "VPSKIT_BACKUP_CONFIG": str(self.config), **extra}

    def run(self, command: str = "run", **env) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.program), command], env=self.env(**env), capture_output=True, text=True,
                              timeout=120)

    def run_args(self, *args: str, **env) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.program), *args], env=self.env(**env), capture_output=True, text=True,
                              timeout=120)

    def runs(self) -> list[Path]:
        return sorted(p for p in self.dir.iterdir() if (p / "VPSKIT-BACKUP").is_file())

    def metric(self, name: str, file: str = "vpskit_backup.prom") -> str | None:
        for line in (self.metrics / file).read_text().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return line.split()[-1]
        return None


def seed_files(root: Path) -> Path:
    data = root / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.txt").write_text("alpha\n")
    (data / "sub" / "b with space.bin").write_bytes(os.urandom(2048))
    return data
