"""The roles by name, folder and one-line summary, and their lab layouts, read from their sources without importing
them.

The command line lists a task per role and the tasks a role's folder contributes (its tasks.py), and `lab.up` a flag
per role with a lab.yml; importing the roles (and the engine they build on) for that would make `vpskit --help` pay
for a run.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from .errors import VpskitError
from .paths import builtin_roles_dir

LAB_FILE = "lab.yml"
# which lab hosts a group of a lab layout gets
LAB_CHOICES = ("first", "others")

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


def load_alone(role: str, path: Path, kind: str) -> ModuleType | None:
    """A file of a role's folder (its tasks.py, breaks.py) as the module vpskit_role_<kind>_<role>, without
    importing the role's package: None when there is none; a VpskitError naming the file when it fails."""
    if not path.is_file():
        return None
    module_name = f"vpskit_role_{kind}_{role}"
    loaded = sys.modules.get(module_name)
    if loaded is not None and getattr(loaded, "__file__", None) == str(path):
        return loaded
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - a user's file may fail in any way: said with its path
        sys.modules.pop(module_name, None)
        raise VpskitError(f"{path} is not loaded ({type(exc).__name__}: {exc})") from None
    return module



@dataclass(frozen=True)
class LabLayout:
    """A role's groups for a lab to try it on (`invoke lab.up --<role>`): each group gets the first lab host or
    the others."""

    role: str
    help: str
    groups: tuple[tuple[str, str], ...]

    def place(self, hosts: list[str]) -> dict[str, list[str]]:
        """Group name → the lab hosts it holds (a group left empty is left out). Pure."""
        chosen = {"first": hosts[:1], "others": hosts[1:]}
        return {group: chosen[which] for group, which in self.groups if chosen[which]}


def lab_layouts(folders: dict[str, Path]) -> dict[str, LabLayout]:
    """Each role folder's lab.yml as a LabLayout, by role name; a malformed one is a VpskitError naming the file."""
    return {name: _lab_layout(name, folder / LAB_FILE) for name, folder in folders.items()
            if (folder / LAB_FILE).is_file()}


def _lab_layout(role: str, path: Path) -> LabLayout:
    import yaml  # loaded already by invoke at start-up
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise VpskitError(f"{path}: not readable as YAML: {exc}") from None
    groups = data.get("groups") if isinstance(data, dict) else None
    if (not isinstance(groups, dict) or not groups or not isinstance(data.get("help", ""), str)
            or set(data) - {"help", "groups"}):
        raise VpskitError(f"{path}: give `help` (a line of text) and `groups` (group name: first or others), "
                          "nothing else")
    for group, which in groups.items():
        if not isinstance(group, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", group) or which not in LAB_CHOICES:
            raise VpskitError(f"{path}: group {group!r}: {which!r}: a group name (letters, digits, _) takes "
                              f"{' or '.join(LAB_CHOICES)}")
    return LabLayout(role, data.get("help") or f"put the lab hosts in {role}'s groups", tuple(groups.items()))
