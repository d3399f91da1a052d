"""Reads the fake k3s's events: when each server was down and whether two were down at once; per node, the order
of cordon, evictions, stop, start, Ready and uncordon, and whether two nodes were cordoned at once."""

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


DRAIN_KINDS = ("cordon", "evict", "stop", "start", "ready", "uncordon")


def node_sequences(events: list[dict], since: float = 0.0) -> dict[str, list[str]]:
    """Per node, the kinds of its events since `since`, in time order, evictions counted once per run of them."""
    sequences: dict[str, list[str]] = {}
    for event in sorted(events, key=lambda e: e["time"]):
        if event["time"] < since or event["kind"] not in DRAIN_KINDS:
            continue
        kinds = sequences.setdefault(event["node"], [])
        if not (event["kind"] == "evict" and kinds[-1:] == ["evict"]):
            kinds.append(event["kind"])
    return sequences


def cordoned_windows(events: list[dict], now: float = float("inf")) -> list[tuple[str, float, float]]:
    """(node, cordoned, uncordoned) for every cordon; a node still cordoned ends its window at `now`."""
    windows, since = [], {}
    for event in sorted(events, key=lambda e: e["time"]):
        if event["kind"] == "cordon":
            since[event["node"]] = event["time"]
        elif event["kind"] == "uncordon" and event["node"] in since:
            windows.append((event["node"], since.pop(event["node"]), event["time"]))
    return windows + [(node, start, now) for node, start in since.items()]


def overlapping_drains(events: list[dict]) -> list[tuple[tuple, tuple]]:
    """Pairs of nodes cordoned at the same time (none when nodes are drained one after another)."""
    windows = sorted(cordoned_windows(events), key=lambda w: w[1])
    return [(a, b) for i, a in enumerate(windows) for b in windows[i + 1:] if a[0] != b[0] and b[1] < a[2]]
