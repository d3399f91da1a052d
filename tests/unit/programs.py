"""Counting the programs a fact's shell starts: a folder of logging stand-ins put first on PATH.

Each stand-in appends its name to a log and then runs the real program of that name (or a fake's script, for
a program this machine lacks, such as iptables here); builtins never reach PATH, so the log lists exactly the
programs the shell started by name.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class Programs:
    """A PATH folder of logging stand-ins; `run` runs a script under this machine's sh with only it on PATH."""

    def __init__(self, folder: Path):
        self.folder = folder / "bin"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / "started.log"

    def real(self, *names: str) -> "Programs":
        for name in names:
            path = shutil.which(name)
            assert path, f"{name} is not installed here"
            self._write(name, f'exec {path} "$@"')
        return self

    def fake(self, name: str, body: str) -> "Programs":
        self._write(name, body)
        return self

    def _write(self, name: str, body: str) -> None:
        stand_in = self.folder / name
        stand_in.write_text(f"#!/bin/sh\necho {name} >> {self.log}\n{body}\n")
        stand_in.chmod(0o755)

    def run(self, script: str) -> subprocess.CompletedProcess:
        self.log.write_text("")
        return subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True,
                              env={"PATH": str(self.folder), "LC_ALL": "C"})

    def started(self) -> list[str]:
        return self.log.read_text().split()
