"""Pure helpers for the benchmark: statistics, counts from sshd's journal and tool output, the table."""

from __future__ import annotations

import re
import statistics


def summary(values: list[float]) -> dict:
    return {"min": min(values), "median": statistics.median(values), "n": len(values)}


def busy_seconds(proc_stat: str, ticks_per_second: int = 100) -> float:
    """CPU time the whole machine has spent not idle, from the `cpu` line of /proc/stat."""
    fields = [int(v) for v in proc_stat.split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # guest time is already counted in user
    return busy / ticks_per_second


def count_ssh(journal: str) -> dict:
    """Connections (accepted logins) and sessions (remote commands) in an sshd journal excerpt."""
    return {"connections": len(re.findall(r"Accepted publickey for ", journal)),
            "commands": len(re.findall(r"Starting session: ", journal))}


def ansible_changed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"\bchanged=(\d+)", output))


def pyinfra_changed(output: str) -> int:
    """pyinfra's results table ends with `Grand total  ops  success  error  no-change`; success = changed."""
    match = re.search(r"Grand total\s+(\d+)\s+(\d+|-)\s+(\d+|-)\s+(\d+|-)", output)
    return int(match.group(2)) if match and match.group(2) != "-" else 0


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}" if theirs else "-"


# the comparison's rows, in order, with their unit; a row no tool measured is left out
MEASURES = (("start-up: `--help`, whole process", "s"), ("first run, 1 host", "s"), ("no-op, 1 host", "s"),
            ("no-op, 1 host: controller CPU", "s"), ("no-op, 4 hosts", "s"), ("no-op, 8 hosts", "s"),
            ("no-op, 1 host, 50 ms RTT", "s"), ("no-op, 4 hosts, 50 ms RTT", "s"),
            ("no-op SSH connections per host", ""), ("no-op remote commands per host", ""),
            ("no-op changes reported", ""), ("no-op, 8 hosts: controller CPU", "s"),
            ("no-op, 8 hosts: hosts' CPU", "s"), ("controller peak RSS", "MiB"),
            ("no-op, 32 hosts", "s"), ("no-op, 32 hosts / no-op, 1 host", "x"), ("no-op, 32 hosts: controller CPU", "s"),
            ("no-op, 32 hosts: controller peak RSS", "MiB"))


def table(results: dict, tools: list[str]) -> str:
    """Markdown: one row per measure, a column per tool, then vpskit's ratio to each other tool."""
    others = [t for t in tools if t != "vpskit"]
    header = ["measure", *tools, *[f"vpskit / {t}" for t in others]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for measure, unit in MEASURES:
        if not any(measure in results.get(tool, {}) for tool in tools):
            continue
        cells, values = [], {}
        for tool in tools:
            stat = results.get(tool, {}).get(measure)
            if stat is None:
                cells.append("-")
                continue
            values[tool] = stat["median"]
            if unit == "s":
                cells.append(f"{stat['median']:.2f} s (min {stat['min']:.2f})")
            elif unit == "x":
                cells.append(f"{stat['median']:.2f}×")
            else:
                cells.append(f"{stat['median']:.0f}{' ' + unit if unit else ''}")
        ratios = [ratio(values["vpskit"], values[t]) if "vpskit" in values and t in values else "-" for t in others]
        lines.append("| " + " | ".join([measure, *cells, *ratios]) + " |")
    return "\n".join(lines) + "\n"


def bootstrap_counts(report: dict) -> dict:
    """Per-host remote commands and SSH connections, and the changes of all hosts, from a `--json` report."""
    hosts = report["hosts"].values()
    return {"hosts": len(hosts), "commands": [h["commands"] for h in hosts],
            "connections": [h["connections"] for h in hosts],
            "changed": sum(h["summary"]["changed"] for h in hosts)}


def cluster_summary(fast: dict, slow: dict, one: dict, same: dict | None = None) -> dict:
    """The whole-bootstrap rows from the no-ops at 0 ms (`fast`), at 50 ms (`slow`), of the hardening play on
    one host (`one`) and on the same hosts (`same`): each {"seconds", "cpu", "counts"}; counts per host over
    every host of every round."""
    def spread(runs, key):
        values = [v for c in runs["counts"] for v in c[key]]
        return {**summary(values), "max": max(values)}
    hosts = fast["counts"][0]["hosts"]
    whole, yardstick = summary(fast["seconds"]), summary(one["seconds"])
    rows = {f"no-op, whole bootstrap (hardening + K3s), {hosts} hosts": whole,
            f"no-op, whole bootstrap, {hosts} hosts, 50 ms RTT": summary(slow["seconds"]),
            "no-op, hardening play alone, 1 host": yardstick,
            "whole bootstrap / hardening alone (medians)": {"ratio": whole["median"] / yardstick["median"]}}
    if same is not None:
        alike = summary(same["seconds"])
        rows.update({f"no-op, hardening play alone, the same {hosts} hosts": alike,
                     f"whole bootstrap / hardening alone on the same {hosts} hosts (medians)":
                         {"ratio": whole["median"] / alike["median"]}})
    return {**rows,
            f"no-op, whole bootstrap, {hosts} hosts: controller CPU": summary(fast["cpu"]),
            "remote commands per host": spread(fast, "commands"),
            "SSH connections per host": spread(fast, "connections"),
            "changes reported": summary([c["changed"] for c in fast["counts"] + slow["counts"]])}


def cluster_table(results: dict) -> str:
    """Markdown: one row per measure, vpskit's column only; seconds as median (min), counts with their range."""
    lines = ["| measure | vpskit |", "|---|---|"]
    for measure, stat in results.items():
        if "ratio" in stat:
            cell = f"{stat['ratio']:.2f}"
        elif measure.startswith("no-op"):
            cell = f"{stat['median']:.2f} s (min {stat['min']:.2f})"
        elif stat.get("max", stat["min"]) != stat["min"]:
            cell = f"{stat['median']:.0f} (min {stat['min']:.0f}, max {stat['max']:.0f})"
        else:
            cell = f"{stat['median']:.0f}"
        lines.append(f"| {measure} | {cell} |")
    return "\n".join(lines) + "\n"


def with_section(text: str, heading: str, section: str) -> str:
    """`text` with the section starting at `heading` (up to the next `## ` heading) replaced, or appended."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip("\n") == heading), None)
    if start is None:
        return text.rstrip("\n") + "\n\n" + section if text.strip() else section
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    rest = "".join(lines[end:])
    return "".join(lines[:start]) + section + ("\n" + rest if rest else "")


def import_times(stderr: str, top: int = 8) -> dict:
    """From `python -X importtime` output: the total, and the costliest modules imported at the top level.

    Each line is `import time: self | cumulative | name`, microseconds, the name indented by nesting depth;
    top-level modules' cumulative times add up to the whole.
    """
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _self, cumulative, name = line[len("import time:"):].split("|")
        if not cumulative.strip().isdigit():
            continue  # the header line
        if name.startswith(" ") and not name.startswith("  "):  # one space: the separator only, depth 0
            rows.append((name.strip(), int(cumulative) / 1e6))
    rows.sort(key=lambda row: -row[1])
    return {"total": sum(seconds for _n, seconds in rows), "top": rows[:top]}


def imports_section(imports: dict) -> list[str]:
    """Markdown lines: per command, its total import time and the costliest top-level imports."""
    if not imports:
        return []
    lines = ["Start-up imports (`python -X importtime`, one run each; the whole process includes them):", ""]
    for label, found in imports.items():
        top = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in found["top"])
        lines.append(f"- `{label}`: {found['total'] * 1000:.0f} ms in all; {top}")
    return [*lines, ""]
