"""`invoke runbooks`: the Markdown runbooks of the roles that declare them, written next to the inventory."""

from __future__ import annotations

from pathlib import Path

from invoke import task

from ..errors import VpskitError
from .options import RUN_HELP, fail


@task(help={"inventory": RUN_HELP["inventory"], "limit": "the host whose variables the runbooks use (default: the "
            "first host)", "set_": RUN_HELP["set_"], "roles_path": RUN_HELP["roles_path"]}, iterable=["set_"])
def runbooks(c, inventory=None, limit=None, set_=None, roles_path=None):
    """Write one runbook per alert (symptoms, investigation, resolution, prevention) with this inventory's commands."""
    from .common import inventory_file, load_project
    path = inventory_file(inventory)
    try:
        project = load_project(inventory, set_, roles_path)
        host = project.inventory.select(limit)[0]
        pages = {}
        for role in project.library.all():
            declare = getattr(role.module, "runbooks", None)
            if declare:
                pages.update(declare(host.values, str(path)))
    except VpskitError as exc:
        fail(str(exc))
    changed = write(path.parent, pages)
    print(f"runbooks: {len(pages)} from {host.name}'s variables in {path.parent}, {len(changed)} written"
          + "".join(f"\n  {name}" for name in changed))


def write(folder: Path, pages: dict[str, str]) -> list[str]:
    """Writes each page whose content differs; the relative paths it changed."""
    changed = []
    for name, text in sorted(pages.items()):
        target = folder / name
        if target.is_file() and target.read_text() == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        changed.append(name)
    return changed
