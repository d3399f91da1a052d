"""The drills' records on the controller, beside the inventory: dr-drills/<host>.json, the latest drill's report.

Kept there, not on the production host: a drill proves that host can be lost, so its evidence must not be lost
with it; the audit (run from the controller) reads it. The file holds no secret: keep it with the inventory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FOLDER = "dr-drills"


def path(inventory: str | Path, host: str) -> Path:
    return Path(inventory).resolve().parent / FOLDER / f"{host}.json"


def write(inventory: str | Path, host: str, report: dict) -> Path:
    """Written whole through a temporary file and a rename, so the audit never reads half a record."""
    target = path(inventory, host)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, target)
    return target


def read(inventory: str | Path, host: str) -> tuple[int, str]:
    """(0, the record's JSON) or (1, why there is none): the shape of an audit probe's answer."""
    target = path(inventory, host)
    try:
        return 0, target.read_text()
    except FileNotFoundError:
        return 1, f"no drill recorded in {target}"
    except OSError as exc:
        return 1, f"{target}: {exc}"
