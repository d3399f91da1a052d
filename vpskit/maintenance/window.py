"""The maintenance window: days and hours in a time zone, parsed from the inventory and tested against a time."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import VpskitError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Window:
    days: frozenset[int]  # 0 = Monday
    start: int  # minutes after midnight
    end: int
    zone: str = "UTC"

    def contains(self, when: datetime.datetime) -> bool:
        """Pure: whether an aware datetime falls inside; a night window belongs to the day it starts on."""
        local = when.astimezone(ZoneInfo(self.zone))
        minute = local.hour * 60 + local.minute
        if self.start < self.end:
            return local.weekday() in self.days and self.start <= minute < self.end
        started_today = local.weekday() in self.days and minute >= self.start
        started_yesterday = (local.weekday() - 1) % 7 in self.days and minute < self.end
        return started_today or started_yesterday

    def describe(self) -> str:
        days = ",".join(DAYS[d] for d in sorted(self.days))
        return f"{days} {self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d} {self.zone}"


def parse_window(value) -> Window | None:
    """maintenance_window from the inventory; None when unset. A malformed one is a VpskitError saying why."""
    if value in (None, "", {}):
        return None
    if not isinstance(value, dict) or set(value) - {"days", "hours", "timezone"} or "hours" not in value:
        raise VpskitError("maintenance_window: give {days: [sat, sun], hours: \"02:00-05:00\"} "
                          "(and optionally timezone: a zone name)")
    days = _days(value.get("days") or list(DAYS))
    match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", str(value["hours"]).strip())
    if not match or int(match[1]) > 23 or int(match[3]) > 24 or int(match[2]) > 59 or int(match[4]) > 59:
        raise VpskitError(f"maintenance_window hours {value['hours']!r}: HH:MM-HH:MM, e.g. 02:00-05:00")
    start, end = int(match[1]) * 60 + int(match[2]), int(match[3]) * 60 + int(match[4])
    if start == end:
        raise VpskitError(f"maintenance_window hours {value['hours']!r}: the window is empty")
    zone = str(value.get("timezone") or "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise VpskitError(f"maintenance_window timezone {zone!r}: not a time zone name (e.g. Europe/Paris)") from None
    return Window(frozenset(days), start, end, zone)


def _days(items) -> set[int]:
    found: set[int] = set()
    for item in items if isinstance(items, list) else str(items).split(","):
        word = str(item).strip().lower()[:7]
        first, _, last = word.partition("-")
        if first[:3] not in DAYS or (last and last[:3] not in DAYS):
            raise VpskitError(f"maintenance_window days: {item!r} is not a day (mon…sun, or a range mon-fri)")
        a, b = DAYS.index(first[:3]), DAYS.index((last or first)[:3])
        found.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return found
