"""The roles by name, folder and one-line summary, read from their sources without importing them.

The command line lists a task per role and the tasks a role's folder contributes (its tasks.py); importing the
roles (and the engine they build on) for that would make `vpskit --help` pay for a run.
"""

from __future__ import annotations

import re
from pathlib import Path

from .paths import builtin_roles_dir

# a module's docstring: its first statement, after comments and blank lines
DOCSTRING = re.compile(r'\A(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*[rRuU]?("""|\'\'\')(.*?)\1', re.DOTALL)


def builtin_role_summaries() -> dict[str, str]:
    """Each built-in role's name and the first line of its docstring."""
    return role_summaries(role_folders([], builtin=True))


def role_folders(user_paths: list[Path], builtin: bool = True) -> dict[str, Path]:
    """Each role's folder by name: the user paths' first (a user role replaces the built-in of its name), in
    the order RoleLibrary.names gives."""
    found: dict[str, Path] = {}
    for path in [*user_paths, *([builtin_roles_dir()] if builtin else [])]:
        if path.is_dir():
            for folder in sorted(path.iterdir()):
                if (folder / "__init__.py").is_file():
                    found.setdefault(folder.name, folder)
    return found


def role_summaries(folders: dict[str, Path]) -> dict[str, str]:
    """The first line of each role folder's docstring, by name."""
    return {name: summary_of(_docstring(folder / "__init__.py"), name) for name, folder in folders.items()}


def summary_of(doc: str | None, name: str) -> str:
    """A role's one-line summary: the first line of its module's docstring, else its name."""
    return (doc or name).strip().splitlines()[0]


def _docstring(path: Path) -> str | None:
    match = DOCSTRING.match(path.read_text())
    return match.group(2) if match else None
