"""Hosts for unit tests of whole runs: each "host" is this machine's real shell, counted like an SSH connection.

Not a fake of a remote host's behaviour: commands really run (under `sh`), files really change (in tmp
folders), so plays, exports, fact freshness and failures are exercised end to end without lab hosts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from vpskit.connection import CommandResult, Target


class LocalConnection:
    """Connection's interface over a local `sh`: open once, run commands, count them."""

    def __init__(self, target: Target, on_retry=None):
        self.target = target
        self.user, self.port = target.user, target.port
        self.connections_opened = 0
        self.commands_run = 0

    def open(self) -> None:
        # commands run under a shell named like sshd's per-connection process, as the run's host lock expects
        self._folder = Path(tempfile.mkdtemp(prefix="vpskit-localhost-"))
        self._shell = self._folder / "sshd-session"
        # a symlink, not a copy: a copy is open for writing while other threads fork, and exec'ing it then fails
        # with ETXTBSY; the kernel names the process after the path exec'd, so the name stays sshd-session
        self._shell.symlink_to(os.path.realpath("/bin/sh"))
        self.connections_opened += 1

    def close(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)

    def local_address(self) -> str:
        return "127.0.0.1"

    def run(self, command: str, stdin: bytes | None = None, timeout: float | None = None) -> CommandResult:
        self.commands_run += 1
        done = subprocess.run([str(self._shell), "-c", 'sh -c "$1"; exit $?', "sh", command],
                              input=stdin or b"", capture_output=True, timeout=timeout or 60)
        return CommandResult(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))
