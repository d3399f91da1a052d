"""The built-in roles by name and one-line summary, read from their sources without importing them.

The command line lists a task per role; importing the roles (and the engine they build on) for that would
make `vpskit --help` pay for a run.
"""

from __future__ import annotations

import re
from pathlib import Path

from .paths import builtin_roles_dir

# a module's docstring: its first statement, after comments and blank lines
DOCSTRING = re.compile(r'\A(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*[rRuU]?("""|\'\'\')(.*?)\1', re.DOTALL)


def builtin_role_summaries() -> dict[str, str]:
    """Each built-in role's name and the first line of its docstring."""
    return {d.name: summary_of(_docstring(d / "__init__.py"), d.name) for d in sorted(builtin_roles_dir().iterdir())
            if (d / "__init__.py").is_file()}


def summary_of(doc: str | None, name: str) -> str:
    """A role's one-line summary: the first line of its module's docstring, else its name."""
    return (doc or name).strip().splitlines()[0]


def _docstring(path: Path) -> str | None:
    match = DOCSTRING.match(path.read_text())
    return match.group(2) if match else None
