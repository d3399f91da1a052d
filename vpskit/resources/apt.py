"""Debian packages: install or remove in one apt transaction, put back missing conffiles; refresh the cache only
when stale."""

from __future__ import annotations

from dataclasses import dataclass

from ..facts.base import q
from ..facts.packages import APT_STAMP, AptCacheAgeFact, ConffilesFact, PackagesFact
from .base import Outcome, Plan, Resource

APT_ENV = "DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a"
APT_OPTS = "-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"


def update_command() -> str:
    return f"{APT_ENV} apt-get update -q && mkdir -p /var/lib/vpskit && touch {APT_STAMP}"


@dataclass(frozen=True)
class PackagesPlan(Plan):
    """The packages one apt transaction installs, purges or reinstalls, and whether the lists refresh first."""

    names: tuple[str, ...]
    refresh: bool = False


def _age(seconds: int) -> str:
    return "never refreshed" if seconds >= 10**9 else f"{seconds}s old"


class AptCache(Resource):
    """The package lists are at most `valid_time` seconds old."""

    kind = "apt-cache"

    def __init__(self, valid_time: int = 3600, **kwargs):
        super().__init__(kwargs.pop("name", "package lists"), **kwargs)
        self.valid_time = valid_time

    def facts(self):
        return [AptCacheAgeFact()]

    def check(self, facts) -> Outcome:
        age = facts.get(AptCacheAgeFact())
        if age <= self.valid_time:
            return Outcome.ok(f"package lists are {age}s old (limit {self.valid_time}s)")
        return Outcome.change(f"refresh package lists ({_age(age)}, limit {self.valid_time}s)")

    def apply(self, session, outcome) -> None:
        session.run(update_command(), step=self.title, timeout=900)


class Packages(Resource):
    """These packages are installed (or absent), changed in a single apt transaction."""

    kind = "packages"

    def __init__(self, names: list[str], state: str = "present", cache_valid_time: int = 3600, **kwargs):
        names = sorted(set(names))
        super().__init__(kwargs.pop("name", ", ".join(names)), **kwargs)
        if state not in ("present", "absent"):
            raise ValueError(f"packages: state must be present or absent, not {state!r}")
        self.names, self.state, self.cache_valid_time = names, state, cache_valid_time

    def facts(self):
        return [PackagesFact(*self.names), AptCacheAgeFact()]

    def check(self, facts) -> Outcome:
        installed = facts.get(PackagesFact(*self.names))
        if self.state == "present":
            todo = [n for n in self.names if n not in installed]
            if not todo:
                return Outcome.ok(f"installed: {', '.join(f'{n} {installed[n]}' for n in self.names)}")
            age = facts.get(AptCacheAgeFact())
            refresh = age > self.cache_valid_time
            note = f" (refresh package lists first: {_age(age)})" if refresh else ""
            return Outcome.change(f"install {' '.join(todo)}{note}", plan=PackagesPlan(tuple(todo), refresh))
        todo = [n for n in self.names if n in installed]
        if not todo:
            return Outcome.ok(f"not installed: {', '.join(self.names)}")
        return Outcome.change(f"remove {' '.join(todo)}", plan=PackagesPlan(tuple(todo)))

    def apply(self, session, outcome: Outcome[PackagesPlan]) -> None:
        names = " ".join(q(n) for n in outcome.plan.names)
        verb = "install" if self.state == "present" else "purge"
        command = f"{APT_ENV} apt-get {verb} {APT_OPTS} {names}"
        if outcome.plan.refresh:
            command = f"{update_command()} && {command}"
        session.run(command, step=self.title, timeout=1800)


class Conffiles(Resource):
    """The configuration files these installed packages ship are all there; missing ones are reinstalled."""

    kind = "conffiles"

    def __init__(self, names: list[str], cache_valid_time: int = 3600, **kwargs):
        names = sorted(set(names))
        super().__init__(kwargs.pop("name", ", ".join(names)), **kwargs)
        self.names, self.cache_valid_time = names, cache_valid_time

    def facts(self):
        return [ConffilesFact(*self.names), AptCacheAgeFact()]

    def check(self, facts) -> Outcome:
        missing = facts.get(ConffilesFact(*self.names))
        absent = [n for n in self.names if n not in missing]
        todo = {n: paths for n, paths in missing.items() if paths}
        if not todo:
            note = f" ({', '.join(absent)} not installed)" if absent else ""
            return Outcome.ok(f"every configuration file the packages ship is there{note}")
        age = facts.get(AptCacheAgeFact())
        refresh = age > self.cache_valid_time
        note = f" (refresh package lists first: {_age(age)})" if refresh else ""
        shown = "; ".join(f"{n}: {', '.join(paths)}" for n, paths in todo.items())
        return Outcome.change(f"restore missing configuration files by reinstalling {' '.join(todo)}{note}: {shown}",
                              plan=PackagesPlan(tuple(todo), refresh))

    def apply(self, session, outcome: Outcome[PackagesPlan]) -> None:
        names = " ".join(q(n) for n in outcome.plan.names)
        # --force-confmiss (dpkg) and UCF_FORCE_CONFFMISS (ucf) put back the missing files; the others stay as they are
        command = (f"UCF_FORCE_CONFFOLD=1 UCF_FORCE_CONFFMISS=1 {APT_ENV} apt-get install --reinstall {APT_OPTS} "
                   f"-o Dpkg::Options::=--force-confmiss {names}")
        if outcome.plan.refresh:
            command = f"{update_command()} && {command}"
        session.run(command, step=self.title, timeout=1800)

