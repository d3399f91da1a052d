"""Unified diffs of file contents for check mode and --diff, with binary files summarised."""

from __future__ import annotations

import difflib


def _as_text(data: bytes | None) -> str | None:
    if data is None:
        return ""
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def content_diff(path: str, old: bytes | None, new: bytes, old_known: bool = True) -> str:
    """A unified diff from the live content to the desired one; a one-line note when not text."""
    if not old_known:
        return f"--- {path} (too large to show)\n+++ {path} (desired, {len(new)} bytes)\n"
    old_text, new_text = _as_text(old), _as_text(new)
    if old_text is None or new_text is None:
        return f"Binary content of {path} differs ({len(old or b'')} → {len(new)} bytes)\n"
    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
        fromfile=f"{path} (live)" if old is not None else "/dev/null", tofile=f"{path} (desired)",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
