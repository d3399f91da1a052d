"""A session that records the commands resources run instead of sending them to a host."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

from vpskit.connection import CommandResult
from vpskit.errors import RemoteError
from vpskit.secrets import Masker


@dataclass
class RecordedCommand:
    command: str
    step: str
    stdin: bytes | None
    check: bool
    timeout: float | None


@dataclass
class RecordedPut:
    local: str
    remote: str


@dataclass
class RecordingConnection:
    """Looks like Connection to a resource that transfers files: records each put; `put_fails` makes it raise."""

    user: str = "root"
    put_fails: str | None = None
    puts: list[RecordedPut] = field(default_factory=list)

    def put(self, local_path, remote_path: str, progress: Callable[[int, int], None] | None = None) -> None:
        self.puts.append(RecordedPut(os.fspath(local_path), remote_path))
        if self.put_fails is not None:
            raise OSError(self.put_fails)  # as Connection.put fails


@dataclass
class RecordingSession:
    """Looks like HostSession to a resource; `results` scripts what each run returns (default: success)."""

    facts: object
    name: str = "recorded-host"
    check_mode: bool = False
    masker: Masker = field(default_factory=Masker)
    note: Callable[[str], None] = lambda message: None
    results: list[CommandResult] = field(default_factory=list)
    commands: list[RecordedCommand] = field(default_factory=list)
    connection: RecordingConnection = field(default_factory=RecordingConnection)

    def run(self, command: str, step: str, stdin: bytes | None = None, check: bool = True,
            timeout: float | None = None) -> CommandResult:
        self.commands.append(RecordedCommand(command, step, stdin, check, timeout))
        index = len(self.commands) - 1
        result = self.results[index] if index < len(self.results) else CommandResult(0, "", "")
        if check and not result.ok:  # as HostSession does
            tail = (result.stderr.strip() or result.stdout.strip())[-800:]
            raise RemoteError(self.name, step, self.masker.mask(f"exit {result.rc}: {tail}"))
        return result
