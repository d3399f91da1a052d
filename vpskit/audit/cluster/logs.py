"""Structured logs: the last lines of a sample of the audited workloads' pods parse as JSON objects.

The probe lets kubectl pick one pod per workload (`kubectl logs KIND/NAME` takes the first of its pods, as
k8s.io/kubectl's logs.go does through polymorphichelpers.AttachablePodForObjectFn), every container
(`--all-containers --prefix`: each line opens with `[pod/POD/CONTAINER] `), `--tail` lines each, cut in width,
for at most `audit_log_sample_workloads` workloads: bounded, read-only."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ...facts.base import q
from .objects import scope

MARK = "=== "
PREFIX = re.compile(r"^\[pod/[^/\]]+/[^\]]+\] ")
LINE_WIDTH = 2000  # characters kept of a log line


def probe(v: dict, kubectl: str) -> str:
    """One shell pipeline (`kubectl`: the cluster's command line): list the workloads, keep the audited namespaces' first N, tail each one's logs."""
    chosen = scope(v)
    if chosen.listed is not None:
        keep = "|".join(q(n) for n in chosen.listed) or "''"
        skip = f'case "$ns" in {keep}) ;; *) continue ;; esac'
    else:
        skip = f'case "$ns" in {"|".join(q(n) for n in sorted(chosen.platform)) or "-"}) continue ;; esac'
    listing = (f"{kubectl} get deployments,statefulsets,daemonsets -A -o "
               "jsonpath='{range .items[*]}{.metadata.namespace} {.kind}/{.metadata.name}{\"\\n\"}{end}'")
    tail, most = int(v["audit_log_tail_lines"]), int(v["audit_log_sample_workloads"])
    return (f"{listing} | while read -r ns w; do {skip}; echo \"$ns $w\"; done | head -n {most} | "
            f"while read -r ns w; do echo \"{MARK}$ns $w\"; timeout 20 {kubectl} logs -n \"$ns\" "
            f"\"$(echo \"$w\" | tr A-Z a-z)\" --all-containers --prefix --tail={tail} 2>&1 | cut -c1-{LINE_WIDTH}; done")


@dataclass
class Sample:
    """What one workload's pod printed: its lines (prefix removed), and kubectl's error if it printed one."""

    ref: str
    lines: list[str] = field(default_factory=list)
    error: str = ""


def parse(text: str) -> list[Sample]:
    samples: list[Sample] = []
    for line in text.splitlines():
        if line.startswith(MARK):
            ns, _, workload = line[len(MARK):].partition(" ")
            samples.append(Sample(f"{ns}/{workload.lower()}"))
        elif samples and PREFIX.match(line):
            samples[-1].lines.append(PREFIX.sub("", line, count=1))
        elif samples and line.strip():
            samples[-1].error = samples[-1].error or line.strip()[:200]
    return samples


def is_structured(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def unstructured(sample: Sample) -> str | None:
    """Why a workload's sampled lines are not structured logs, or None when every one is a JSON object."""
    plain = [line for line in sample.lines if not is_structured(line)]
    if not plain:
        return None
    return f"{len(plain)} of {len(sample.lines)} line(s) not JSON, e.g. {plain[0][:80]!r}"
