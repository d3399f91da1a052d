"""Waiting for a HelmChart K3s installs: its helm-install job completed and the workloads in its namespace ready."""

from __future__ import annotations

import json
from dataclasses import dataclass

from vpskit.facts import CommandOutputFact
from vpskit.facts.base import q
from vpskit.resources import Wait

KUBECTL = "/usr/local/bin/k3s kubectl"
MARK = "----vpskit {}----"
LOG_LINES = 20


def probe_command(chart: str, namespace: str, kubectl: str = KUBECTL) -> str:
    """One command for one round trip: the job, the namespace's workloads, the job's last log lines."""
    job, k = q(f"helm-install-{chart}"), kubectl
    return "; ".join([
        f"echo {MARK.format('job')}", f"{k} -n kube-system get job {job} -o json 2>&1",
        f"echo {MARK.format('workloads')}",
        f"{k} -n {q(namespace)} get deployments,statefulsets,daemonsets -o json 2>&1",
        f"echo {MARK.format('log')}", f"{k} -n kube-system logs job/{job} --tail={LOG_LINES} 2>&1",
        "true"])


@dataclass(frozen=True)
class ChartState:
    installed: bool  # the job completed
    failed: bool
    not_ready: list[str]  # workloads not ready yet, as kind/name
    log: str

    @property
    def ready(self) -> bool:
        return self.installed and not self.not_ready


def parse(output: str) -> ChartState:
    """What the probe printed, read. Pure."""
    parts, current = {}, None
    for line in output.splitlines():
        name = next((k for k in ("job", "workloads", "log") if line == MARK.format(k)), None)
        if name:
            current = name
            parts[current] = []
        elif current:
            parts[current].append(line)
    job = _json("\n".join(parts.get("job", [])))
    status = job.get("status", {}) if job else {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions", [])}
    installed = bool(status.get("succeeded")) or conditions.get("Complete") == "True"
    failed = conditions.get("Failed") == "True"
    workloads = _json("\n".join(parts.get("workloads", []))) or {}
    not_ready = [f"{w.get('kind', '?').lower()}/{w.get('metadata', {}).get('name')}"
                 for w in workloads.get("items", []) if not _ready(w)]
    return ChartState(installed, failed, not_ready, "\n".join(parts.get("log", [])).strip())


def _json(text: str) -> dict | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _ready(workload: dict) -> bool:
    status = workload.get("status", {})
    if workload.get("kind") == "DaemonSet":
        return status.get("numberReady", 0) >= status.get("desiredNumberScheduled", 1)
    return status.get("readyReplicas", 0) >= workload.get("spec", {}).get("replicas", 1)


def chart_wait(chart: str, namespace: str, timeout: float, kubectl: str = KUBECTL, interval: float = 3) -> Wait:
    """Waits until the chart is installed and its workloads ready; a failed job ends it with the job's log."""

    def holds(probe) -> bool:
        rc, output = probe
        return parse(output).ready

    def fails(probe) -> str | None:
        state = parse(probe[1])
        if not state.failed:
            return None
        return f"the helm-install-{chart} job failed; its last log lines:\n{state.log or '(no log)'}"

    def show(probe) -> str:
        state = parse(probe[1])
        if not state.installed:
            return f"the job helm-install-{chart} has not completed; its last log lines:\n{state.log or '(no log)'}"
        return f"not ready yet: {', '.join(state.not_ready)}"

    what = f"chart {chart} installed (job helm-install-{chart} complete) and its workloads in {namespace} ready"
    return Wait(CommandOutputFact(probe_command(chart, namespace, kubectl)), holds, what, timeout=timeout,
                interval=interval,
                fails=fails, show=show)
