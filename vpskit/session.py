"""Per-host state during one run: the connection, the fact cache and what later steps need to know."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .connection import CommandResult, Connection
from .errors import RemoteError
from .gather import FactCache
from .secrets import Masker


@dataclass
class HostSession:
    """What resources use to read facts and change one host."""

    name: str
    connection: Connection
    check_mode: bool = False
    masker: Masker = field(default_factory=Masker)
    # progress for long steps (large uploads): shown live, not recorded as a step
    note: Callable[[str], None] = lambda message: None
    facts: FactCache = field(init=False)

    def __post_init__(self):
        self.facts = FactCache(self.name, lambda script: self.connection.run("sh -s", stdin=script.encode(), timeout=120))

    def run(self, command: str, step: str, stdin: bytes | None = None, check: bool = True,
            timeout: float | None = None) -> CommandResult:
        """Runs a command as root; a non-zero exit fails the step with the tail of its output."""
        result = self.connection.run(command, stdin=stdin, timeout=timeout)
        if check and not result.ok:
            tail = (result.stderr.strip() or result.stdout.strip())[-800:]
            raise RemoteError(self.name, step, self.masker.mask(f"exit {result.rc}: {tail}"))
        return result
