"""The tasks roles bring: a run task per role, and the tasks a role's own `tasks.py` adds (`<role>.<task>`).

Found without importing any role: roleindex lists the role folders (user roles from VPSKIT_ROLES_PATH first, then
the built-in ones), and a folder's tasks.py is loaded by its path as a module of its own, so the role's package
(and the engine it builds on) loads only when one of its tasks runs and imports it in its body.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable

from invoke import Collection, Task

from ..errors import VpskitError
from ..roleindex import load_alone, role_folders, role_summaries

# folders of the user's roles whose tasks the command line lists (':'-separated); runs search them too
ROLES_PATH_ENV = "VPSKIT_ROLES_PATH"
TASKS_FILE = "tasks.py"


def env_roles_paths(environ=None) -> list[Path]:
    """VPSKIT_ROLES_PATH's folders, as given (made absolute)."""
    value = (os.environ if environ is None else environ).get(ROLES_PATH_ENV, "")
    return [Path(p).expanduser().resolve() for p in value.split(os.pathsep) if p]


def add_role_tasks(ns: Collection, user_paths: list[Path], run_task: Callable[..., Task]) -> None:
    """Adds to `ns`, per role: `run_task(role, summary)` as a task named after the role, or, when its folder has a
    tasks.py, a collection named after the role holding that file's tasks (with the run task as its default
    unless it has one), plus the further collections it lists in COLLECTIONS under their own names."""
    folders = role_folders(user_paths)
    for name, summary in role_summaries(folders).items():
        if _taken(ns, name, f"role {folders[name]}"):
            continue
        module = load_tasks(name, folders[name] / TASKS_FILE)
        if module is None:
            ns.add_task(run_task(name, summary))
            continue
        extra = list(getattr(module, "COLLECTIONS", ()))
        in_extra = {id(t) for c in extra for t in c.tasks.values()}
        own = Collection(name, *[t for t in vars(module).values() if isinstance(t, Task) and id(t) not in in_extra])
        if own.default is None:
            own.add_task(run_task(name, summary, task_name="run"), default=True)
        ns.add_collection(own)
        for collection in extra:
            if not _taken(ns, collection.name, f"{folders[name] / TASKS_FILE}'s collection"):
                ns.add_collection(collection)


def load_tasks(role: str, path: Path) -> ModuleType | None:
    """A role's tasks.py as the module vpskit_role_tasks_<role> (None without one, or when it cannot load:
    said on stderr, so that the other tasks still work)."""
    try:
        return load_alone(role, path, "tasks")
    except VpskitError as exc:
        print(f"warning: {exc}: its tasks are missing", file=sys.stderr)
        return None


def _taken(ns: Collection, name: str, what: str) -> bool:
    if name in ns.tasks or name in ns.collections:
        print(f"warning: {what}: {name!r} is already a task: its tasks are not listed", file=sys.stderr)
        return True
    return False
