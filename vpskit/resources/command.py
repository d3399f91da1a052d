"""A command guarded by `creates` or `unless`, so it runs only when its effect is missing."""

from __future__ import annotations

from ..errors import RemoteError
from ..facts.base import q
from ..facts.system import CommandFact
from .base import Outcome, Resource


class Command(Resource):
    """Runs `command` unless the `creates` path exists or the `unless` probe succeeds."""

    kind = "command"

    def __init__(self, command: str, creates: str | None = None, unless: str | None = None, **kwargs):
        super().__init__(kwargs.pop("name", command[:60]), **kwargs)
        if not creates and not unless:
            raise ValueError(f"command {command!r} needs creates= or unless=, or it would run on every run")
        self.command, self.creates, self.unless = command, creates, unless

    def _probe(self) -> CommandFact:
        return CommandFact(f"test -e {q(self.creates)}" if self.creates else self.unless)

    def facts(self):
        return [self._probe()]

    def check(self, facts) -> Outcome:
        if facts.get(self._probe()) == 0:
            return Outcome.ok(f"already done: {self.creates} exists" if self.creates
                              else "already done: its `unless` check succeeds")
        return Outcome.change(f"run `{self.command}`" + (f" ({self.creates} is missing)" if self.creates
                                                          else " (its `unless` check fails)"))

    def apply(self, session, outcome) -> None:
        result = session.run(self.command, step=self.title, check=False, timeout=1800)
        if not result.ok:
            raise RemoteError(session.name, self.title, session.masker.mask(self.failure(result.rc, result.stdout,
                                                                                        result.stderr)))

    def failure(self, rc: int, stdout: str, stderr: str) -> str:
        """Why the command failed: its output's tail, or, when it printed nothing, the command and the guard."""
        tail = (stderr.strip() or stdout.strip())[-800:]
        if tail:
            return f"exit {rc}: {tail}"
        guard = (f"its `creates` path {self.creates} is missing" if self.creates
                 else f"its `unless` check `{self.unless}` failed")
        return f"exit {rc} with no output from `{self.command}` (it ran because {guard})"
