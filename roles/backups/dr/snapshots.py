"""Choosing the off-site snapshot a drill restores: the newest of the production host's backup runs. Pure."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

STAMP = re.compile(r"/(\d{8}T\d{6}Z)$")


@dataclass(frozen=True)
class Snapshot:
    id: str
    host: str
    time: float  # when restic took it (epoch seconds)
    run: str  # the backup run it holds (its UTC start, e.g. 20261203T020000Z)

    @property
    def taken(self) -> float:
        """When the data in it was read: the run's start (the run's name), else restic's own time."""
        try:
            return datetime.strptime(self.run, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            return self.time


class NoSnapshot(Exception):
    """The repository holds no snapshot of the host's backup runs (the message says what it does hold)."""


def _epoch(text: str) -> float:
    # restic writes RFC 3339 with nanoseconds; Python reads microseconds
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return datetime.fromisoformat(text).timestamp()


def newest(listing: str, host: str, runs_dir: str, repository: str) -> Snapshot:
    """The newest vpskit snapshot of `host` whose one path is a run folder under `runs_dir`."""
    try:
        found = json.loads(listing or "[]") or []
    except ValueError as exc:
        raise NoSnapshot(f"restic's snapshot list of {repository} is not JSON ({exc})") from None
    chosen = []
    for item in found:
        paths = item.get("paths") or []
        match = STAMP.search(paths[0]) if len(paths) == 1 else None
        if item.get("hostname") == host and "vpskit" in (item.get("tags") or []) and match \
                and paths[0].rsplit("/", 1)[0] == runs_dir.rstrip("/"):
            chosen.append(Snapshot(item["id"], host, _epoch(item["time"]), match.group(1)))
    if not chosen:
        hosts = sorted({str(i.get("hostname")) for i in found})
        held = f"it holds snapshots of {', '.join(hosts)}" if hosts else "it holds no snapshot"
        raise NoSnapshot(f"no off-site snapshot of host {host!r} ({runs_dir}) in {repository}: {held} "
                         "(dr_snapshot_host names the host's hostname there)")
    return max(chosen, key=lambda s: (s.time, s.run))
