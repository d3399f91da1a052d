"""A command guarded by `creates` or `unless`, so it runs only when its effect is missing."""

from __future__ import annotations

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
        session.run(self.command, step=self.title, timeout=1800)
