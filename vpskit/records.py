"""Records a task keeps on the controller, beside the inventory: <folder>/<host>.json, the latest of each host.

Kept there, not on the host: `dr.drill`'s report proves a host can be lost, so its evidence must not be lost with
it; the audit (run from the controller) reads it. A record holds no secret: keep it with the inventory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# dr.drill's reports (written by the drill, read by the audit's drill item)
DRILLS = "dr-drills"


def path(inventory: str | Path, folder: str, host: str) -> Path:
    return Path(inventory).resolve().parent / folder / f"{host}.json"


def write(inventory: str | Path, folder: str, host: str, report: dict) -> Path:
    """Written whole through a temporary file and a rename, so the audit never reads half a record."""
    target = path(inventory, folder, host)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, target)
    return target


def read(inventory: str | Path, folder: str, host: str) -> tuple[int, str]:
    """(0, the record's JSON) or (1, why there is none): the shape of an audit probe's answer."""
    target = path(inventory, folder, host)
    try:
        return 0, target.read_text()
    except FileNotFoundError:
        return 1, f"no drill recorded in {target}" if folder == DRILLS else f"no record in {target}"
    except OSError as exc:
        return 1, f"{target}: {exc}"
