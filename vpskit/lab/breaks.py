"""Teaching scenarios: named misconfigurations for lab hosts, each found by audit/check and repaired by bootstrap.

Each role declares its own (a `BREAKS` list in its folder's breaks.py, loaded alone by its path); the lab collects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import VpskitError
from ..roleindex import load_alone, role_folders


@dataclass(frozen=True)
class Break:
    name: str
    what: str  # what it does, as the student reads it before looking
    command: str  # run as root on the host
    found_by: str
    repaired_by: str


BREAKS_FILE = "breaks.py"


def all_breaks(user_paths: list[Path] = ()) -> list[Break]:
    """Every role's scenarios (BREAKS in the breaks.py of its folder; the user paths' roles first, as the role
    library finds them), in role order; two with one name are an error naming both files."""
    found: list[Break] = []
    where: dict[str, Path] = {}
    for role, folder in role_folders(list(user_paths)).items():
        module = load_alone(role, folder / BREAKS_FILE, "breaks")
        for scenario in getattr(module, "BREAKS", ()) if module else ():
            if scenario.name in where:
                raise VpskitError(f"lab.break scenario {scenario.name!r} is in {where[scenario.name]} and "
                                  f"{folder / BREAKS_FILE}")
            where[scenario.name] = folder / BREAKS_FILE
            found.append(scenario)
    return found


def find(name: str, breaks: list[Break]) -> Break:
    for scenario in breaks:
        if scenario.name == name:
            return scenario
    raise VpskitError(f"no lab.break scenario {name!r} (invoke lab.break --list): "
                      f"{', '.join(b.name for b in breaks)}")


def lab_addresses(state_root: Path = Path("/var/lib/vpskit")) -> set[str]:
    """Every address a lab on this machine booted (from each lab's state file)."""
    found = set()
    for state in state_root.glob("*/state.json"):
        try:
            found |= {h["address"] for h in json.loads(state.read_text()).get("hosts", {}).values()}
        except (OSError, ValueError, AttributeError):
            continue
    return found


def refuse_non_lab(hosts, addresses: set[str]) -> None:
    """Stops unless every host is a lab host this machine booted: breaking a real server is never wanted."""
    foreign = [f"{h.name} ({h.get('vpskit_host', h.name)})" for h in hosts if h.get("vpskit_host", h.name) not in addresses]
    if foreign:
        raise VpskitError(f"lab.break only breaks lab hosts booted by `invoke lab.up`; not lab hosts: {', '.join(foreign)}")
