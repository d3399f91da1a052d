"""Per-host state during one run: the connection, the fact cache and what later steps need to know."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .connection import CommandResult, Connection, ShScript
from .errors import RemoteError
from .gather import FactCache
from .secrets import Masker

# a fact script up to this size travels in the exec request itself: sshd opens a session channel with no room
# for input until the command has started, so a script sent as input waits a round trip for that room. Below
# Linux's 128 KiB limit on one argument, quoted once (for the sh -c that sudo starts, or root's login shell); facts
# only read the host, so their scripts hold no secrets for the host's process list
INLINE_SCRIPT_LIMIT = 48 * 1024


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
        self.facts = FactCache(self.name, self._read_facts)

    def _read_facts(self, script: str) -> CommandResult:
        """Runs a fact batch's script under sh: in the command line when small, as input otherwise."""
        if len(script) <= INLINE_SCRIPT_LIMIT:
            return self.connection.run(ShScript(script), timeout=120)
        return self.connection.run("sh -s", stdin=script.encode(), timeout=120)

    def run(self, command: str, step: str, stdin: bytes | None = None, check: bool = True,
            timeout: float | None = None) -> CommandResult:
        """Runs a command as root; a non-zero exit fails the step with the tail of its output."""
        result = self.connection.run(command, stdin=stdin, timeout=timeout)
        if check and not result.ok:
            tail = (result.stderr.strip() or result.stdout.strip())[-800:]
            raise RemoteError(self.name, step, self.masker.mask(f"exit {result.rc}: {tail}"))
        return result
