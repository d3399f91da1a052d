"""The Fact base class: a command to run on the host and a pure function that parses its output."""

from __future__ import annotations

import shlex


class Fact:
    """One thing to know about a host. Subclasses set `command()` and `parse()`; args make the key."""

    # from this many facts of the class, one `command_for_many` gathers them (where it is cheaper than one each)
    merge_from = 3
    # True when the class's commands leave the shell they run in as they found it (no variable, option,
    # positional parameter, folder, trap or exit): the batch then runs them without a subshell of their own
    shares_shell = False

    def __init__(self, *args):
        self.args = tuple(args)

    @property
    def key(self) -> tuple:
        """The class itself and the args: typed, so two classes of one name never share a value."""
        return (type(self), self.args)

    def command(self) -> str:
        raise NotImplementedError

    def parse(self, output: str, rc: int):
        raise NotImplementedError

    @classmethod
    def gathered_with(cls):
        """What gathers many facts of this class at once, with those of other classes it names (its own
        `merge_from`, `command_for_many` and `parse_many`): the class itself unless it says otherwise."""
        return cls

    @classmethod
    def command_for_many(cls, facts: list["Fact"]) -> str | None:
        """One command that gathers all these facts of this class at once; None if the class has none."""
        return None

    @classmethod
    def parse_many(cls, facts: list["Fact"], output: str, rc: int) -> list:
        """The value of each fact, in order, from the output of `command_for_many(facts)`."""
        raise NotImplementedError

    def about_path(self) -> str | None:
        """The filesystem path this fact describes, if any (used to invalidate it after a write)."""
        return None

    def affected_by(self, paths: set[str]) -> bool:
        """Whether a change to these paths makes this fact stale (beyond the file facts about them)."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self.args!r}"


def q(value: str) -> str:
    """Shell-quotes one word."""
    return shlex.quote(str(value))
