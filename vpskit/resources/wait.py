"""Waiting until a probe fact on the host satisfies a condition (a service answering, a file appearing)."""

from __future__ import annotations

import time
from typing import Callable

from ..errors import RemoteError
from ..facts.base import Fact
from .base import Outcome, Resource

# how much of the last probe value a timeout error shows
VALUE_SHOWN = 200


class Wait(Resource):
    """Polls `probe` every `interval` seconds until `until(value)` holds; fails after `timeout` seconds.

    `fails(value)`, when given, may end the wait early: a message (a failed install job's log) fails the step;
    `show(value)` says what a timeout saw last (default: the probe's value, shortened). `after_change`: wait only
    when an earlier step of the play changed the host (see Resource.after_change).
    """

    kind = "wait"

    def __init__(self, probe: Fact, until: Callable[[object], bool], what: str, timeout: float = 120,
                 interval: float = 2, fails: Callable[[object], str | None] | None = None,
                 show: Callable[[object], str] | None = None, after_change: bool = False, **kwargs):
        super().__init__(kwargs.pop("name", what), **kwargs)
        self.after_change = after_change
        if timeout <= 0 or interval <= 0:
            raise ValueError(f"wait for {what}: timeout and interval must be positive")
        self.probe, self.until, self.what = probe, until, what
        self.timeout, self.interval, self.fails, self.show = timeout, interval, fails, show

    def facts(self) -> list[Fact]:
        return [self.probe]

    def check(self, facts) -> Outcome:
        if self.until(facts.get(self.probe)):
            return Outcome.ok(f"{self.what}: already so")
        return Outcome.change(f"wait for {self.what}")

    def apply(self, session, outcome: Outcome) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            self.invalidate(session.facts)
            value = session.facts.get(self.probe)  # one round trip
            if self.until(value):
                return
            failure = self.fails(value) if self.fails else None
            if failure:
                raise RemoteError(session.name, self.title, failure)
            left = deadline - time.monotonic()
            if left <= 0:
                if self.show:
                    seen = self.show(value)
                else:
                    shown = repr(value)
                    shown = shown if len(shown) <= VALUE_SHOWN else shown[:VALUE_SHOWN] + "…"
                    seen = f"last {self.probe!r}: {shown}"
                raise RemoteError(session.name, self.title, f"{self.what} not reached within {self.timeout:g}s; {seen}")
            time.sleep(min(self.interval, left))  # the last poll falls on the deadline, not an interval before it

    def invalidate(self, facts) -> None:
        """Waiting changes nothing on the host: only the probe is stale."""
        facts.invalidate(facts=[self.probe])
