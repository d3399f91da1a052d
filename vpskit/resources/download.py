"""A file downloaded by the host from a URL and verified against a pinned sha256."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..facts.base import q
from ..facts.files import FileFact
from .base import Outcome, Plan, Resource
from .files import LEFTOVER_MINUTES, ON_SIGNAL, sweep_command


@dataclass(frozen=True)
class DownloadPlan(Plan):
    """Fetch the file again, or fix only its owner and mode."""

    action: Literal["fetch", "attrs"]


class Download(Resource):
    """`dest` holds the file at `url` whose sha256 is `sha256`; fetched only when the checksum differs."""

    kind = "download"

    def __init__(self, url: str, dest: str, sha256: str, owner: str = "root", group: str = "root",
                 mode: str = "0644", **kwargs):
        super().__init__(kwargs.pop("name", dest), **kwargs)
        if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
            raise ValueError(f"download {dest}: sha256 must be 64 lowercase hex digits")
        self.url, self.dest, self.sha256 = url, dest, sha256
        self.owner, self.group, self.mode = owner, group, mode.rjust(4, "0")

    def facts(self):
        return [FileFact(self.dest)]

    def check(self, facts) -> Outcome:
        state = facts.get(FileFact(self.dest))
        if state.kind not in ("absent", "file"):
            return Outcome.block(f"{self.dest} is a {state.kind}, expected a regular file; refusing to replace it")
        if state.kind == "file" and state.sha256 == self.sha256:
            if (state.owner, state.group, state.mode) == (self.owner, self.group, self.mode):
                return Outcome.ok(f"{self.dest} matches sha256 {self.sha256[:12]}…")
            return Outcome.change(f"{self.dest}: fix owner/mode", plan=DownloadPlan("attrs"))
        what = "missing" if not state.exists else f"sha256 {(state.sha256 or '?')[:12]}… differs"
        return Outcome.change(f"download {self.url} → {self.dest} ({what})", plan=DownloadPlan("fetch"))

    def apply(self, session, outcome: Outcome[DownloadPlan]) -> None:
        d = q(self.dest)
        attrs = f"chown {q(self.owner)}:{q(self.group)} {{f}} && chmod {q(self.mode)} {{f}}"
        if outcome.plan.action == "attrs":
            session.run(attrs.format(f=d), step=self.title)
            return
        script = "\n".join([
            "set -e",
            f"dest={d}",
            sweep_command('"$(dirname "$dest")"', ".vpskit-dl-??????", LEFTOVER_MINUTES),
            'tmp=$(mktemp "$(dirname "$dest")/.vpskit-dl-XXXXXX")',
            "trap 'rm -f \"$tmp\"' EXIT",
            ON_SIGNAL,
            f"if command -v curl >/dev/null; then curl -fsSL --retry 2 -o \"$tmp\" {q(self.url)}; "
            f"elif command -v wget >/dev/null; then wget -q -O \"$tmp\" {q(self.url)}; "
            "else echo 'neither curl nor wget is installed' >&2; exit 127; fi",
            'got=$(sha256sum "$tmp" | cut -d" " -f1)',
            f'if [ "$got" != {q(self.sha256)} ]; then echo "checksum mismatch: got $got, expected {self.sha256}" >&2; exit 66; fi',
            # `set -e` does not stop at a failure inside an && list: a failed chown must not reach the mv
            attrs.format(f='"$tmp"') + " || exit 1",
            'mv -fT "$tmp" "$dest"',
            "trap - EXIT",
        ])
        session.run(script, step=self.title, timeout=1800)

    def invalidate(self, facts) -> None:
        facts.invalidate(paths=[self.dest])
