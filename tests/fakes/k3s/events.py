"""Reads the fake k3s's start/stop events: when each server was down, and whether two were down at once."""

from __future__ import annotations


def down_windows(events: list[dict], now: float | None = None) -> list[tuple[str, float, float]]:
    """(node, stopped, started again) for every stop; a server still down ends its window at `now` (or never)."""
    windows, stopped = [], {}
    for event in sorted(events, key=lambda e: e["time"]):
        if event.get("role", "server") != "server":
            continue
        if event["kind"] == "stop":
            stopped[event["node"]] = event["time"]
        elif event["kind"] == "start" and event["node"] in stopped:
            windows.append((event["node"], stopped.pop(event["node"]), event["time"]))
    end = float("inf") if now is None else now
    return windows + [(node, since, end) for node, since in stopped.items()]


def overlapping_downtimes(events: list[dict]) -> list[tuple[tuple, tuple]]:
    """Pairs of windows in which two different servers were down at the same time (none in a safe upgrade)."""
    windows = sorted(down_windows(events), key=lambda w: w[1])
    return [(a, b) for i, a in enumerate(windows) for b in windows[i + 1:] if a[0] != b[0] and b[1] < a[2]]
