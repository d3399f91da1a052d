"""Values one host publishes for others (a server URL, a join token): declared by roles, kept per run."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from .errors import VpskitError
from .facts.base import Fact
from .secrets import MASK


@dataclass
class Export:
    """A value a role publishes after its steps: fixed, or read from a fact of the host.

    `extract(fact value)` returns None when the value is not there yet; in check mode that is expected
    (an earlier step would create it) and `predict` stands in, marked as predicted.
    """

    name: str
    value: object = None
    fact: Fact | None = None
    extract: Callable[[object], object] | None = None
    secret: bool = False
    predict: str = "(known after apply)"

    def facts(self) -> list[Fact]:
        return [self.fact] if self.fact is not None else []


@dataclass(frozen=True)
class Published:
    """An exported value as later plays see it."""

    name: str
    value: object
    host: str
    play: str
    secret: bool = False
    predicted: bool = False


class ExportStore:
    """Everything published in one run, by host; safe to use from the threads that run hosts."""

    def __init__(self, on_secret: Callable[[str], None] = lambda value: None):
        self._by_host: dict[str, dict[str, Published]] = {}
        self._lock = threading.Lock()
        self._on_secret = on_secret

    def publish(self, item: Published) -> None:
        if item.secret and isinstance(item.value, str) and not item.predicted:
            self._on_secret(item.value)
        with self._lock:
            self._by_host.setdefault(item.host, {})[item.name] = item

    def lookup(self, name: str, host: str | None = None) -> Published:
        """The value `host` published (or, without a host, the one host that published it)."""
        with self._lock:
            if host is not None:
                found = self._by_host.get(host, {}).get(name)
                if found is None:
                    raise VpskitError(f"{host} has not published {name!r} (earlier plays publish: "
                                      f"{self._describe()})")
                return found
            matches = [values[name] for values in self._by_host.values() if name in values]
        if not matches:
            raise VpskitError(f"no host has published {name!r} (earlier plays publish: {self._describe()})")
        if len({m.host for m in matches}) > 1 and len({repr(m.value) for m in matches}) > 1:
            raise VpskitError(f"{name!r} was published by several hosts ({', '.join(m.host for m in matches)}): "
                              "name the host")
        return matches[0]

    def snapshot(self) -> dict[str, dict[str, Published]]:
        with self._lock:
            return {h: dict(v) for h, v in self._by_host.items()}

    def report(self) -> dict:
        """Every published value for the JSON report; secret values masked."""
        return {host: {name: {"value": MASK if p.secret else p.value, "predicted": p.predicted, "play": p.play}
                       for name, p in values.items()} for host, values in self.snapshot().items()}

    def _describe(self) -> str:
        names = sorted({n for values in self._by_host.values() for n in values})
        return ", ".join(names) or "nothing yet"
