"""sshd overrides: lines elsewhere in sshd's configuration that beat a managed drop-in are neutralised."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..diffing import content_diff
from ..facts.base import Fact, q
from ..facts.files import FileFact
from ..facts.sshd import SSHD_CONFIG, SshdConfigFact, SshdEffectiveFact
from ..sshdconfig import Setting, effective_drift, overrides, reaches, reading_order, split_line, wanted_settings
from .base import Outcome, Plan, Resource
from .files import BACKUP_ROOT

DISABLED = "# disabled by vpskit (overrode a managed setting): "


def edits(files: dict[str, list[str]], found: list[Setting]) -> list[tuple[str, str, list[int]]]:
    """(path, "aside" or "comment", line numbers) per file: a file (other than sshd_config) holding nothing but
    overrides is moved aside, otherwise its offending lines are commented out. Pure."""
    by_path: dict[str, list[int]] = {}
    for setting in found:
        by_path.setdefault(setting.path, []).append(setting.line)
    plan = []
    for path, lines in by_path.items():
        active = {n for n, text in enumerate(files[path], start=1)
                  if (parsed := split_line(text)) and parsed[0] != "match"}
        how = "aside" if path != SSHD_CONFIG and active <= set(lines) else "comment"
        plan.append((path, how, sorted(set(lines))))
    return plan


def neutralise_command(plan: list[tuple[str, str, list[int]]]) -> str:
    """Shell that backs up each file under the backup root, moves it aside or comments lines out, then `sshd -t`."""
    lines = ["set -e", "stamp=$(date -u +%Y%m%dT%H%M%SZ)"]
    for path, how, numbers in plan:
        lines += [f"p={q(path)}", f'mkdir -p {BACKUP_ROOT}"$(dirname "$p")"']
        if how == "aside":
            lines.append(f'mv -f "$p" {BACKUP_ROOT}"$p.$stamp"')
        else:
            expressions = " ".join(f"-e {q(f'{n}s/^/{DISABLED}/')}" for n in numbers)
            lines += [f'cp -p "$p" {BACKUP_ROOT}"$p.$stamp"', f'sed -i {expressions} "$p"']
    lines.append('if ! out=$(sshd -t 2>&1); then echo "sshd -t failed after neutralising: $out" >&2; exit 65; fi')
    return "\n".join(lines)


@dataclass(frozen=True)
class NeutralisePlan(Plan):
    """Per file: (path, "aside" or "comment", line numbers), as `edits` gives them."""

    edits: tuple[tuple[str, str, list[int]], ...]


class SshdOverrides(Resource):
    """No line outside `drop_in` gives a setting it manages another value where sshd would use it.

    `wanted` is the drop-in's text (or a function of facts); `address` and `users` are the connections whose
    effective settings (`sshd -T -C`, so Match blocks count) are compared with it.
    """

    kind = "sshd-overrides"

    def __init__(self, drop_in: str, wanted: str | Callable, address: str | None = None, users=(),
                 needs: list[Fact] | None = None, **kwargs):
        super().__init__(kwargs.pop("name", drop_in), **kwargs)
        self.drop_in, self.wanted, self.needs = drop_in, wanted, list(needs or [])
        self.effective = SshdEffectiveFact(address, *users)

    def facts(self) -> list[Fact]:
        return [SshdConfigFact(), self.effective, FileFact(self.drop_in), *self.needs]

    def _wanted_text(self, facts) -> str:
        return self.wanted(facts) if callable(self.wanted) else self.wanted

    def _found(self, facts) -> tuple[dict, dict, list[Setting]]:
        config = facts.get(SshdConfigFact())
        text = self._wanted_text(facts)
        wanted = wanted_settings(text)
        settings = reading_order(config, {self.drop_in: text.splitlines()})
        return config, wanted, overrides(settings, wanted, self.drop_in)

    def paths_for(self, facts) -> list[str]:
        return sorted({s.path for s in self._found(facts)[2]})

    def check(self, facts) -> Outcome:
        config, wanted, found = self._found(facts)
        if not reaches(config, self.drop_in):
            return Outcome.block(f"sshd does not read {self.drop_in}: no Include in {SSHD_CONFIG} matches it")
        effective = facts.get(self.effective)
        drift = effective_drift(effective, wanted)
        shown = "; ".join(drift[:6]) + (f"; … {len(drift) - 6} more" if len(drift) > 6 else "")
        errors = sorted({result["error"] for result in effective.values() if result["rc"] != 0})
        if errors:  # sshd would not start with this configuration either
            shown = (shown + "; " if shown else "") + "sshd -T fails: " + " / ".join(errors)
        if found:
            plan = edits(config["files"], found)
            diff = "".join(_diff(config["files"][path], path, how, numbers) for path, how, numbers in plan)
            return Outcome.change(
                "neutralise " + "; ".join(s.label() for s in found)
                + (f" (effective: {shown})" if shown else ""), diff, plan=NeutralisePlan(tuple(plan)))
        failed = [spec or "sshd -T" for spec, result in effective.items() if result["rc"] != 0]
        if drift:
            state = facts.get(FileFact(self.drop_in))
            if state.content != self._wanted_text(facts).encode():
                return Outcome.ok(f"effective settings differ only where {self.drop_in} does (the drop-in step "
                                  f"rewrites it): {shown}")
            return Outcome.block(f"sshd's effective settings differ from {self.drop_in} and no line sshd reads "
                                 f"from {SSHD_CONFIG} explains it (sshd started with -o?): {shown}")
        note = f"; could not ask sshd for {', '.join(failed)}" if failed else ""
        return Outcome.ok(f"{len(wanted)} managed setting(s) in effect for {len(effective) - len(failed)} "
                          f"connection(s) checked; no line overrides {self.drop_in}{note}")

    def apply(self, session, outcome: Outcome[NeutralisePlan]) -> None:
        session.run(neutralise_command(list(outcome.plan.edits)), step=self.title)


def _diff(lines: list[str], path: str, how: str, numbers: list[int]) -> str:
    old = ("\n".join(lines) + "\n").encode()
    if how == "aside":
        return f"moved aside to {BACKUP_ROOT}{path}.<time>\n" + content_diff(path, old, b"")
    new = [DISABLED + text if n in numbers else text for n, text in enumerate(lines, start=1)]
    return content_diff(path, old, ("\n".join(new) + "\n").encode())
