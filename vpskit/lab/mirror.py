"""Finds the Debian archive this machine already uses, from its apt sources (one-line or deb822)."""

from __future__ import annotations

import os
from pathlib import Path

SOURCES = [Path("/etc/apt/sources.list")]
SOURCES_DIR = Path("/etc/apt/sources.list.d")


def parse_sources(text: str) -> list[tuple[str, list[str]]]:
    """(uri, suites) of every enabled deb entry in a sources file, either format. Pure."""
    entries = []
    stanzas = [s for s in text.split("\n\n")]
    for stanza in stanzas:
        fields, one_line = {}, []
        for raw in stanza.splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("deb ") or line.startswith("deb-src "):
                one_line.append(line)
            elif ":" in line and not line.startswith(" "):
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
        for line in one_line:
            words = line.split()
            if words[0] != "deb":
                continue
            words = [w for w in words[1:] if not w.startswith("[")]
            if len(words) >= 2 and "]" not in words[0]:
                entries.append((words[0], [words[1]]))
        if "uris" in fields and "deb" in fields.get("types", "").split() and fields.get("enabled", "yes") != "no":
            for uri in fields["uris"].split():
                entries.append((uri, fields.get("suites", "").split()))
    return entries


def pick_debian_mirror(entries: list[tuple[str, list[str]]]) -> str | None:
    """The first plain Debian archive URI (not the security archive). Pure."""
    for uri, suites in entries:
        clean = uri.rstrip("/")
        if clean.endswith("/debian") and not any(s.endswith("-security") for s in suites):
            return clean + "/"
    return None


def debian_mirror() -> str | None:
    """VPSKIT_LAB_MIRROR, or the Debian archive in this machine's apt sources."""
    if os.environ.get("VPSKIT_LAB_MIRROR"):
        return os.environ["VPSKIT_LAB_MIRROR"].rstrip("/") + "/"
    files = [p for p in SOURCES if p.exists()]
    if SOURCES_DIR.is_dir():
        files += sorted(p for p in SOURCES_DIR.iterdir() if p.suffix in (".list", ".sources"))
    entries = []
    for path in files:
        try:
            entries += parse_sources(path.read_text())
        except OSError:
            continue
    return pick_debian_mirror(entries)
