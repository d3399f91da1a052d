"""Drained restarts: a node is cordoned and drained before K3s restarts on it, and uncordoned after it is Ready
again, as `kubectl drain` does it (k8s.io/kubectl pkg/cmd/drain/drain.go), so its pods move first and the
PodDisruptionBudgets decide whether they may.

kubectl runs on a server (a node's own when it is one, else the first server's session: an agent holds no
cluster credentials). The order per node: cordon → drain (evictions respecting budgets, DaemonSet pods left,
emptyDir data named first, bounded by k3s_drain_timeout) → restart → Ready (and an etcd voter) → uncordon →
the drained pods' controllers ready again. A drain that fails stops there: the node is uncordoned again and
nothing was restarted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Callable

from vpskit.errors import RemoteError
from vpskit.facts.base import q
from vpskit.resources import Handler

from .binary import BINARY

KUBECTL = f"{BINARY} kubectl"
# kubectl's own retry delay after a 429 is 5 s; the waits poll at this interval
POLL_SECONDS = 2.0


@dataclass
class Drained:
    """What a drain moved: each controller's ready pods before it, and the pods whose emptyDir data went."""

    node: str
    owners: dict[tuple[str, str, str], int] = field(default_factory=dict)
    emptydir: list[str] = field(default_factory=list)
    evicted: int = 0


def pods_of(output: str) -> list[dict]:
    try:
        return json.loads(output).get("items", [])
    except ValueError:
        return []


def _owner(pod: dict) -> tuple[str, str, str] | None:
    ref = next((o for o in pod.get("metadata", {}).get("ownerReferences") or [] if o.get("controller")), None)
    return (pod["metadata"].get("namespace", "default"), ref["kind"], ref["name"]) if ref else None


def _ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in pod.get("status", {}).get("conditions") or [])


def plan_drain(pods: list[dict], node: str) -> Drained:
    """From every pod in the cluster: the controllers whose pods on `node` the drain will evict (DaemonSets
    stay), with how many of their pods are ready now, and the pods whose emptyDir volumes will be lost. Pure."""
    drained = Drained(node)
    ready_by_owner: dict[tuple, int] = {}
    for pod in pods:
        owner = _owner(pod)
        if owner and _ready(pod):
            ready_by_owner[owner] = ready_by_owner.get(owner, 0) + 1
    for pod in pods:
        if pod.get("spec", {}).get("nodeName") != node:
            continue
        owner = _owner(pod)
        if owner and owner[1] == "DaemonSet":
            continue
        if owner:
            drained.owners[owner] = ready_by_owner.get(owner, 0)
        drained.evicted += 1
        volumes = [v["name"] for v in pod.get("spec", {}).get("volumes") or [] if "emptyDir" in v]
        if volumes:
            drained.emptydir.append(f"{pod['metadata'].get('namespace', 'default')}/{pod['metadata']['name']} "
                                    f"({', '.join(volumes)})")
    return drained


def not_ready_again(pods: list[dict], drained: Drained) -> list[str]:
    """The drained controllers with fewer ready pods than before the drain. Pure."""
    now: dict[tuple, int] = {}
    for pod in pods:
        owner = _owner(pod)
        if owner in drained.owners and _ready(pod):
            now[owner] = now.get(owner, 0) + 1
    return [f"{ns}/{kind}/{name} ({now.get((ns, kind, name), 0)}/{before} ready)"
            for (ns, kind, name), before in sorted(drained.owners.items()) if now.get((ns, kind, name), 0) < before]


def drain_command(node: str, timeout: int) -> str:
    """kubectl's drain: DaemonSet pods stay (their controller would put them back), emptyDir data goes (named
    before), evictions (never deletions) so budgets are respected; no --force: a bare pod stops the drain."""
    return (f"{KUBECTL} drain {q(node)} --ignore-daemonsets --delete-emptydir-data "
            f"--timeout={int(timeout)}s")


def blocked_reason(output: str, timeout: int) -> str:
    """Why a drain failed, in words, from kubectl's output. Pure."""
    lines = [line for line in output.splitlines() if line.strip()]
    if "violate the pod's disruption budget" in output:
        pods = sorted({line.split('"')[1] for line in lines if line.startswith("error when evicting pods/")})
        return (f"a PodDisruptionBudget allows no eviction of {', '.join(pods) or 'a pod'} within {timeout}s "
                f"(k3s_drain_timeout): the budget needs more ready replicas elsewhere first (scale the workload "
                f"up, or relax the budget)")
    if "cannot delete Pods that declare no controller" in output:
        return ("a pod without a controller runs there, which a drain would delete for good: delete or move it "
                "yourself, then rerun")
    return lines[-1] if lines else "kubectl drain failed"


@dataclass
class NodeDrain:
    """Drains a node through a session that runs kubectl, and brings it back; `sleep`/`clock` for tests."""

    node: str
    drain_timeout: int
    ready_timeout: int
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def member(self, kube) -> bool:
        """True when the node is registered (a first install has nothing to drain yet)."""
        return kube.run(f"{KUBECTL} get node {q(self.node)} -o name", step="drain", check=False).ok

    def drain(self, kube, host: str) -> Drained:
        step = f"drain node {self.node}"
        pods = pods_of(kube.run(f"{KUBECTL} get pods -A -o json", step=step).stdout)
        drained = plan_drain(pods, self.node)
        if drained.emptydir:
            getattr(kube, "note", lambda _m: None)(f"draining {self.node} deletes the emptyDir data of "
                                                   f"{', '.join(drained.emptydir)}")
        kube.run(f"{KUBECTL} cordon {q(self.node)}", step=step)
        result = kube.run(drain_command(self.node, self.drain_timeout), step=step, check=False,
                          timeout=self.drain_timeout + 60)
        if not result.ok:
            kube.run(f"{KUBECTL} uncordon {q(self.node)}", step=step, check=False)
            raise RemoteError(host, step, f"{blocked_reason(result.stderr + result.stdout, self.drain_timeout)}; "
                                          f"uncordoned again, nothing restarted")
        return drained

    def wait_node_ready(self, kube, host: str, holds: Callable[[dict], bool], what: str) -> None:
        self._poll(lambda: holds(_json(kube.run(f"{KUBECTL} get node {q(self.node)} -o json", step="ready",
                                                check=False))), host, f"wait for {what}", what)

    def restore(self, kube, host: str, drained: Drained) -> None:
        kube.run(f"{KUBECTL} uncordon {q(self.node)}", step=f"uncordon node {self.node}")
        if drained.owners:
            last: list[list[str]] = [[]]

            def back() -> bool:
                last[0] = not_ready_again(pods_of(kube.run(f"{KUBECTL} get pods -A -o json", step="pods",
                                                           check=False).stdout), drained)
                return not last[0]
            self._poll(back, host, "wait for the drained workloads",
                       "the drained workloads ready again", lambda: f"; still short: {', '.join(last[0])}")

    def _poll(self, done: Callable[[], bool], host: str, step: str, what: str, seen=lambda: "") -> None:
        deadline = self.clock() + self.ready_timeout
        while not done():
            if self.clock() >= deadline:
                raise RemoteError(host, step, f"{what} not reached within {self.ready_timeout}s "
                                              f"(k3s_ready_timeout){seen()}")
            self.sleep(POLL_SECONDS)


def _json(result) -> dict:
    if not result.ok:
        return {}
    try:
        return json.loads(result.stdout)
    except ValueError:
        return {}


class DrainedRestart(Handler):
    """The K3s restart handler on a cluster of more than one node: drain, restart, Ready, uncordon, workloads.

    `kube()` gives the session kubectl runs on (this host's for a server, the first server's for an agent);
    `skip` is why there is no drain (a single node, k3s_drain off), said in the step's result."""

    def __init__(self, name: str, command: str, drain: NodeDrain, kube: Callable[[object], object],
                 holds: Callable[[dict], bool], what: str, skip: str | None = None):
        super().__init__(name, command)
        self.restart, self.node_drain, self.kube, self.holds, self.what, self.skip = \
            command, drain, kube, holds, what, skip
        self.would = (f"would restart ({skip})" if skip else
                      f"would cordon and drain {drain.node}, restart, wait for {what}, uncordon")

    def run(self, session) -> str:
        if self.skip:
            session.run(self.restart, step=f"handler {self.name}")
            return f"restarted; {self.skip}"
        kube = self.kube(session)
        if not self.node_drain.member(kube):
            session.run(self.restart, step=f"handler {self.name}")
            return f"restarted; node {self.node_drain.node} not in the cluster yet: nothing to drain"
        drained = self.node_drain.drain(kube, session.name)
        session.run(self.restart, step=f"handler {self.name}")
        self.node_drain.wait_node_ready(kube, session.name, self.holds, self.what)
        self.node_drain.restore(kube, session.name, drained)
        said = f"; emptyDir data deleted: {', '.join(drained.emptydir)}" if drained.emptydir else ""
        return (f"cordoned and drained {drained.node} ({drained.evicted} pod(s) evicted), restarted, "
                f"{self.what}, uncordoned, drained workloads ready again{said}")
