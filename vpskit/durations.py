"""Durations as inventories write them (45s, 30m, 4h, 1d, 2w, or joined: 1h30m) to seconds and back. Pure."""

from __future__ import annotations

import re

UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
DURATION = re.compile(r"^(?:\d+[wdhms])+$")


def seconds(text) -> int:
    """Seconds of a duration; ValueError for anything else (a bare number is refused: its unit is a guess)."""
    value = str(text).strip()
    if isinstance(text, bool) or not DURATION.match(value):
        raise ValueError(f"must be a duration such as 30m, 4h, 1d or 1h30m, got {text!r}")
    total = sum(int(n) * UNITS[u] for n, u in re.findall(r"(\d+)([wdhms])", value))
    if total <= 0:
        raise ValueError(f"must be longer than 0, got {text!r}")
    return total


def human(total: float) -> str:
    """A duration for people: 1h 02m 05s, 4m 10s, 12s; days when it is that long."""
    rest = int(round(total))
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
