"""A task whose positional argument a flag makes optional: `invoke lab.break --list` needs no host.

invoke requires every positional argument (parser/context.py: missing_positional_args is any positional whose value
is None); this argument counts as given ("") once its flag is set, and still takes the first word when it is not.
"""

from __future__ import annotations

from invoke import Argument, Task


class _UnlessFlag(Argument):
    """A positional argument that is not missing while `flag` (another argument of the task) is set."""

    def __init__(self, flag: Argument, **options):
        super().__init__(**options)
        self.flag = flag

    @property
    def value(self):
        if self._value is None and self.flag.value:
            return ""
        return self.default if self._value is None else self._value

    @value.setter
    def value(self, arg) -> None:
        self.set_value(arg, cast=True)


def positional_unless(positional: str, flag: str) -> type[Task]:
    """A Task class (for `@task(klass=...)`) whose `positional` argument may be left out when `flag` is given."""

    class OptionalPositionalTask(Task):
        def get_arguments(self, ignore_unknown_help=None):
            arguments = super().get_arguments(ignore_unknown_help)
            by_name = {a.attr_name or a.name: a for a in arguments}
            old = by_name[positional]
            new = _UnlessFlag(by_name[flag], names=old.names, kind=old.kind, default=old.default, help=old.help,
                              positional=True, attr_name=old.attr_name)
            return [new if a is old else a for a in arguments]

    return OptionalPositionalTask
