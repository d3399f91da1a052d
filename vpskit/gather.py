"""Gathers many facts in one remote invocation and caches them until a change invalidates them."""

from __future__ import annotations

import secrets as _random
from dataclasses import dataclass
from typing import Callable, Iterable

from .errors import RemoteError
from .facts.base import Fact



@dataclass
class Section:
    """One part of a batch: a single fact, or several of one class gathered by one command."""

    facts: list[Fact]

    def command(self) -> str:
        if len(self.facts) == 1:
            return self.facts[0].command()
        return type(self.facts[0]).gathered_with().command_for_many(self.facts)

    def shares_shell(self) -> bool:
        return all(type(fact).shares_shell for fact in self.facts)

    def parse(self, output: str, rc: int) -> list:
        if len(self.facts) == 1:
            return [self.facts[0].parse(output, rc)]
        return type(self.facts[0]).gathered_with().parse_many(self.facts, output, rc)


def sections_for(facts: list[Fact]) -> list[Section]:
    """Groups the facts that one command can gather at once (every program started costs host CPU): those of a
    class, or of the classes one gatherer serves (`Fact.gathered_with`)."""
    by_gatherer: dict[type, list[Fact]] = {}
    for fact in facts:
        by_gatherer.setdefault(type(fact).gathered_with(), []).append(fact)
    sections = []
    for gatherer, members in by_gatherer.items():
        if len(members) >= gatherer.merge_from and gatherer.command_for_many(members) is not None:
            sections.append(Section(members))
        else:
            sections.extend(Section([fact]) for fact in members)
    return sections


def batch_script(sections: list[Section], nonce: str) -> str:
    """One shell script that runs every section's command, framing each output with nonce markers; a section
    runs in a subshell of its own unless its class's commands leave the shell as they found it (a fork saved)."""
    parts = []
    for index, section in enumerate(sections):
        opened, closed = ("{ ", "; }") if section.shares_shell() else ("( ", " )")
        parts.append(
            f"echo '@@{nonce} {index} begin'; {opened}{section.command()}{closed} </dev/null 2>/dev/null; rc=$?; "
            f"echo; echo \"@@{nonce} {index} end $rc\""
        )
    return "\n".join(parts) + "\n"


def parse_batch(output: str, count: int, nonce: str) -> list[tuple[str, int]]:
    """Splits batch output back into (output, rc) per fact; raises if a section is missing."""
    results: list[tuple[str, int] | None] = [None] * count
    current, buffer = None, []
    for line in output.split("\n"):
        if line.startswith(f"@@{nonce} "):
            _, index, marker, *rest = line.split(" ")
            if marker == "begin":
                current, buffer = int(index), []
            elif marker == "end" and current == int(index):
                text = "\n".join(buffer)
                results[current] = (text[:-1] if text.endswith("\n") else text, int(rest[0]))
                current = None
        elif current is not None:
            buffer.append(line)
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        raise ValueError(f"fact batch output lacks sections {missing}")
    return results  # type: ignore[return-value]


class FactCache:
    """Facts of one host, fetched in batches; a fetch asks only for what is not cached."""

    def __init__(self, host_name: str, run: Callable[[str], "object"]):
        self.host_name = host_name
        self._run = run
        self._values: dict[tuple, object] = {}
        self._facts: dict[tuple, Fact] = {}
        self.batches = 0
        self.gathered = 0

    def ensure(self, facts: Iterable[Fact]) -> None:
        wanted: dict[tuple, Fact] = {}
        for fact in facts:
            if fact.key not in self._values:
                wanted.setdefault(fact.key, fact)
        if not wanted:
            return
        sections = sections_for(list(wanted.values()))
        nonce = _random.token_hex(8)
        result = self._run(batch_script(sections, nonce))
        try:
            outputs = parse_batch(result.stdout, len(sections), nonce)
        except ValueError as exc:
            raise RemoteError(self.host_name, "gathering facts", f"{exc}; stderr: {result.stderr.strip()[:500]}") from None
        for section, (text, rc) in zip(sections, outputs):
            try:
                values = section.parse(text, rc)
            except Exception as exc:  # noqa: BLE001 - a parser bug must name the fact
                raise RemoteError(self.host_name, f"parsing fact {section.facts!r}", str(exc)) from None
            for fact, value in zip(section.facts, values, strict=True):
                self._values[fact.key] = value
                self._facts[fact.key] = fact
        self.batches += 1
        self.gathered += len(wanted)

    def has(self, fact: Fact) -> bool:
        return fact.key in self._values

    def get(self, fact: Fact):
        if fact.key not in self._values:
            self.ensure([fact])
        return self._values[fact.key]

    def invalidate(self, predicate: Callable[[tuple], bool] | None = None, paths: Iterable[str] = (),
                   kinds: Iterable[type[Fact]] = (), facts: Iterable[Fact] = ()) -> None:
        """Drops every fact (no arguments), or only those about the given paths, of the given fact classes
        (subclasses included), the given facts themselves, or those `predicate` picks: it is asked with
        (class name, args), the shape keys had before they named the class itself (resources written then)."""
        paths, kinds, keys = set(paths), tuple(kinds), {fact.key for fact in facts}
        if predicate is None and not (paths or kinds or keys):
            self._values.clear()
            return
        for key in list(self._values):
            if stale(self._facts.get(key), key, predicate, paths, kinds, keys):
                del self._values[key]


def stale(fact: Fact | None, key: tuple, predicate, paths: set[str], kinds: tuple, keys: set[tuple]) -> bool:
    """Whether an invalidation (see FactCache.invalidate) drops this cached fact. Pure."""
    if key in keys or (predicate is not None and predicate((key[0].__name__, key[1]))):
        return True
    if fact is None:
        return False
    return isinstance(fact, kinds) or bool(paths and (fact.about_path() in paths or fact.affected_by(paths)))


def has_all(cache: FactCache, facts: Iterable[Fact]) -> bool:
    """True when every one of these facts is cached (so checking them costs no round trip)."""
    return all(cache.has(f) for f in facts)
