"""Shows a run as it happens (rich on a terminal, plain lines otherwise), a recap table, and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
import sys
import threading
from pathlib import Path

from .results import STATUSES, HostResult, PlayResult, StepResult, drift_summary

def _console(stream):
    """rich for a terminal only: a run whose output goes to a file or a pipe does not import it."""
    from rich.console import Console
    return Console(file=stream, highlight=False, soft_wrap=True)


STYLES = {"ok": "green", "changed": "yellow", "failed": "bold red", "skipped": "cyan", "blocked": "bold magenta"}


class Reporter:
    """Thread-safe progress lines per host and step; `diff` adds unified diffs of changed files."""

    def __init__(self, diff: bool = False, verbose_ok: bool = True, stream=None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.console = _console(self.stream) if self.tty else None
        self.diff = diff
        self.verbose_ok = verbose_ok
        self.check = False
        self._lock = threading.Lock()

    def _print(self, plain: str, rich=None) -> None:
        """`rich`: a function giving the marked-up line, called only on a terminal (escaping imports rich)."""
        with self._lock:
            if self.console:
                self.console.print(rich() if rich else plain, markup=rich is not None)
            else:
                print(plain, file=self.stream, flush=True)

    def start(self, hosts: list[str], check: bool) -> None:
        self.check = check
        mode = "check mode (nothing will be changed)" if check else "apply"
        self._print(f"vpskit: {len(hosts)} host(s), {mode}")

    def play_start(self, name: str, hosts: list[str], serial=None) -> None:
        batch = f", {serial} at a time" if serial else ""
        who = ", ".join(hosts) if hosts else "no hosts match"
        self._print(f"PLAY {name} ({who}{batch})",
                    lambda: f"[bold blue]PLAY {_esc(name)}[/] [dim]({_esc(who)}{batch})[/]")

    def step(self, host: str, step: StepResult) -> None:
        if step.status == "ok" and not self.verbose_ok:
            return
        status = "would change" if (self.check and step.status == "changed") else step.status
        plain = f"{host} | {step.role} | {step.title} | {status}: {step.reason}"
        style = STYLES[step.status]
        self._print(plain, lambda: f"[bold]{_esc(host)}[/] {_esc(step.role)} › {_esc(step.title)}: "
                                   f"[{style}]{status}[/] — {_esc(step.reason)}")
        if self.diff and step.diff:
            self._print(step.diff.rstrip("\n"), None)

    def note(self, host: str, message: str) -> None:
        self._print(f"{host} | note: {message}", lambda: f"[bold]{_esc(host)}[/] [dim]{_esc(message)}[/]")

    def host_done(self, result: HostResult) -> None:
        if result.error:
            kind = "UNREACHABLE" if result.unreachable else "FAILED"
            self._print(f"{result.name} | {kind}: {result.error}",
                        lambda: f"[bold red]{_esc(result.name)} {kind}[/]: {_esc(result.error)}")

    def finish(self, results: list[HostResult], plays: list[PlayResult] = ()) -> None:
        header = ["host", *STATUSES, "connections", "commands", "fact batches", "seconds"]
        rows = [[r.name, *(str(r.count(s)) for s in STATUSES), str(r.connections), str(r.commands),
                 str(r.fact_batches), f"{r.seconds:.2f}"] for r in results]
        with self._lock:
            if self.console:
                from rich.table import Table
                table = Table(title="recap")
                for column in header:
                    table.add_column(column, justify="left" if column == "host" else "right")
                for row in rows:
                    table.add_row(*row)
                self.console.print(table)
                for play in plays:
                    if play.stopped:
                        self.console.print(f"[bold red]play {_esc(play.name)}[/]: {_esc(play.stopped)}")
            else:
                print("recap:", file=self.stream)
                for row in rows:
                    print("  " + " ".join(f"{h}={v}" for h, v in zip(header, row)), file=self.stream)
                for play in plays:
                    if play.stopped:
                        print(f"play {play.name}: {play.stopped}", file=self.stream)
                self.stream.flush()
        if self.check:
            self._print(drift_text(drift_summary(results)))


def drift_text(summary: dict) -> str:
    """The fleet's drift after a check: per host and role, steps in place and drifted, and a percentage."""
    lines = [f"drift: {summary['drifted']} of {summary['checked']} checked steps ({summary['percent']}%)"]
    for host, roles in summary["hosts"].items():
        parts = [f"{role} {c['in_place']}/{c['in_place'] + c['drifted']} in place" +
                 (f" ({c['drifted']} drifted)" if c["drifted"] else "") for role, c in roles.items()]
        lines.append(f"  {host}: " + ", ".join(parts))
    return "\n".join(lines)


def _esc(text: str) -> str:
    from rich.markup import escape
    return escape(str(text))


def write_json(path: str, results: list[HostResult], check: bool, code: int, plays: list[PlayResult] = (),
               exports: dict | None = None) -> None:
    """Writes the machine-readable report atomically (secret exports appear masked)."""
    data = {"check": check, "exit_code": code, "hosts": {r.name: r.to_dict() for r in results},
            "plays": [asdict(p) for p in plays], "exports": exports or {}}
    if check:
        data["drift"] = drift_summary(results)
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(target)
