"""What every task module needs when the command line is parsed: the shared option help, the run tasks' options
(RunArgs, and run_task that gives a task them), and how a task fails.

Task modules import only this and invoke when they load; each task imports what it runs in its body, so
`vpskit --help` reads no inventory, role, SSH library or template engine.
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, fields, replace
from typing import Callable

from invoke import Exit, Task, task

# hosts at once: a host's run mostly waits on its network, so 32 hosts run together rather than in waves
DEFAULT_FORKS = 50

# help texts for the options every run task takes
RUN_HELP = {
    "inventory": "inventory file or directory (default: inventory/hosts.yml)",
    "limit": "only these hosts or groups (comma-separated)",
    "check": "check mode: report what would change, change nothing (exit 2 when something would)",
    "diff": "show unified diffs of changed files",
    "set_": "override a variable: --set key=value (repeatable; highest precedence)",
    "json": "also write a machine-readable report to this file",
    "forks": f"hosts run in parallel (default {DEFAULT_FORKS})",
    "trust_new_hosts": "accept and record host keys not yet in known_hosts",
    "quiet": "show only changes and failures, not ok steps",
    "roles_path": "folders of your own roles, searched before the built-in ones (':'-separated)",
    "playbook": "a playbook of your own instead of the built-in bootstrap plays",
}


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise Exit(code=1)


@dataclass(frozen=True)
class RunArgs:
    """The options of a run task, built once from the command line (the fields' order is the options' order,
    which decides their short flags: -i, -l, -c, -d, -s, -j, -f, -t, -q, -r, -p)."""

    inventory: str | None = None
    limit: str | None = None
    check: bool = False
    diff: bool = False
    set_: list[str] | None = None
    json: str | None = None
    forks: int = DEFAULT_FORKS
    trust_new_hosts: bool = False
    quiet: bool = False
    roles_path: str | None = None
    playbook: str | None = None


def run_task(name: str | None = None, doc: str | None = None, positional: tuple[str, ...] = (),
             drop: tuple[str, ...] = (), fixed: dict | None = None, extra: dict | None = None,
             help: dict | None = None) -> Callable[[Callable], Task]:
    """A task taking RunArgs' options (but `drop`ped ones; `fixed` values override the defaults, and a fixed field
    that is also dropped is simply set), after `positional` arguments and before `extra` options (name → default).
    The body is called as body(c, args: RunArgs, **positional_and_extra)."""
    fixed, extra = dict(fixed or {}), dict(extra or {})
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    own = [f for f in fields(RunArgs) if f.name not in drop]
    signature = inspect.Signature(
        [inspect.Parameter("c", kind), *(inspect.Parameter(p, kind) for p in positional),
         *(inspect.Parameter(f.name, kind, default=fixed.get(f.name, f.default)) for f in own),
         *(inspect.Parameter(k, kind, default=v) for k, v in extra.items())])
    chosen = {k: v for k, v in RUN_HELP.items() if k not in drop}

    def decorate(body: Callable) -> Task:
        def run(c, *args, **kwargs):
            given = signature.bind(c, *args, **kwargs)
            given.apply_defaults()
            values = dict(given.arguments)
            values.pop("c")
            named = {k: values.pop(k) for k in (*positional, *extra)}
            return body(c, replace(RunArgs(), **{**fixed, **values}), **named)
        run.__signature__ = signature
        run.__name__, run.__doc__, run.__module__ = body.__name__, doc or body.__doc__, body.__module__
        return task(run, name=name, help={**chosen, **(help or {})}, iterable=["set_"])
    return decorate

