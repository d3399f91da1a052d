"""Kernel parameters: persisted in a sysctl.d file and applied live where this host allows it."""

from __future__ import annotations

from dataclasses import dataclass

from ..diffing import content_diff
from ..facts.base import q
from ..facts.files import FileFact
from ..facts.system import SysctlFact
from .base import Outcome, Plan, Resource
from .files import write_file_command


def render_sysctl(settings: dict[str, object]) -> str:
    """The sysctl.d file for these settings, keys sorted. Pure."""
    lines = ["# Managed by vpskit: kernel parameters; edits are reverted on the next run."]
    lines += [f"{key} = {_value(value)}" for key, value in sorted(settings.items())]
    return "\n".join(lines) + "\n"


def _value(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return " ".join(str(value).split())


@dataclass(frozen=True)
class SysctlPlan(Plan):
    """The file's content when it must be written (None: it is right), and each live key to set: (old, new)."""

    content: bytes | None
    drifted: dict[str, tuple[str, str]]


class Sysctl(Resource):
    """Sysctl settings in one file; keys a container cannot set are skipped with that reason."""

    kind = "sysctl"

    def __init__(self, settings: dict[str, object], path: str = "/etc/sysctl.d/90-vpskit.conf", **kwargs):
        super().__init__(kwargs.pop("name", path), **kwargs)
        self.settings, self.path = dict(settings), path

    def facts(self):
        return [FileFact(self.path), SysctlFact(*self.settings)]

    def check(self, facts) -> Outcome:
        file_state = facts.get(FileFact(self.path))
        if file_state.kind not in ("absent", "file"):
            return Outcome.block(f"{self.path} is a {file_state.kind}, expected a regular file; refusing to replace it")
        live = facts.get(SysctlFact(*self.settings))
        content = render_sysctl(self.settings).encode()
        write = file_state.content != content
        drifted, missing, readonly = {}, [], []
        for key, value in sorted(self.settings.items()):
            state = live.get(key, {"access": "missing", "value": ""})
            if state["access"] == "missing":
                missing.append(key)
            elif state["value"] == _value(value):
                continue
            elif state["access"] == "ro":
                readonly.append(key)
            else:
                drifted[key] = (state["value"], _value(value))
        skipped = missing + readonly
        skip_note = ""
        if readonly:
            skip_note += f"; skipped {len(readonly)} this host may not set (read-only /proc/sys, as in a container): {', '.join(readonly)}"
        if missing:
            skip_note += f"; skipped {len(missing)} this kernel lacks: {', '.join(missing)}"
        if not write and not drifted:
            return Outcome.ok(f"{len(self.settings) - len(skipped)} setting(s) in place{skip_note}")
        parts = ([f"write {self.path}"] if write else []) + [f"{k} {old} → {new}" for k, (old, new) in drifted.items()]
        diff = content_diff(self.path, file_state.content, content) if write else None
        return Outcome.change("; ".join(parts) + skip_note, diff, plan=SysctlPlan(content if write else None, drifted))

    def apply(self, session, outcome: Outcome[SysctlPlan]) -> None:
        content, drifted = outcome.plan.content, outcome.plan.drifted
        if content is not None:
            session.run(write_file_command(self.path, "root", "root", "0644", content=content), step=self.title,
                        stdin=content)
        if drifted:
            sets = " ".join(q(f"{k}={new}") for k, (_old, new) in drifted.items())
            session.run(f"sysctl -q -w {sets}", step=self.title)

    def invalidate(self, facts) -> None:
        facts.invalidate(kinds=[SysctlFact], paths=[self.path])
