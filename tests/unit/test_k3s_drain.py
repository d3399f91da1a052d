"""Drained K3s restarts (roles/k3s/drain.py): the handler's order, what a blocked drain leaves, the skips, and
which session kubectl runs on; over a scripted session (commands in, kubectl's answers out), no clock."""

from __future__ import annotations

import json

import pytest

from tests.unit.test_k3s import VERSION, ctx_for
from vpskit.builtin_roles.k3s import plan
from vpskit.builtin_roles.k3s.drain import Drained, NodeDrain, not_ready_again, plan_drain
from vpskit.connection import CommandResult
from vpskit.errors import RemoteError, VpskitError


def pod(name, node, owner=("ReplicaSet", "web-1"), ready=True, namespace="shop", volumes=()):
    return {"metadata": {"name": name, "namespace": namespace,
                         "ownerReferences": [{"kind": owner[0], "name": owner[1], "controller": True}] if owner else []},
            "spec": {"nodeName": node, "volumes": [{"name": v, "emptyDir": {}} for v in volumes]},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def node(ready=True, version=VERSION, voter=None):
    conditions = [{"type": "Ready", "status": "True" if ready else "Unknown"}]
    if voter is not None:
        conditions.append({"type": "EtcdIsVoter", "status": "True" if voter else "False"})
    return {"status": {"conditions": conditions, "nodeInfo": {"kubeletVersion": version}}}


class Cluster:
    """kubectl's answers as a cluster would give them over time; every command recorded in order."""

    def __init__(self, name="s1", pods=(), drain_rc=0, drain_err="", ready_after=1, back_after=1):
        self.name, self.log, self.pods, self.drain_rc, self.drain_err = name, [], list(pods), drain_rc, drain_err
        self.ready_after, self.back_after, self.polls, self.restarted = ready_after, back_after, 0, False
        self.notes = []

    def note(self, message):
        self.notes.append(message)

    def run(self, command, step, stdin=None, check=True, timeout=None):
        self.log.append(command)
        rc, out, err = 0, "", ""
        if " get node " in command and "-o name" in command:
            out = "node/s1"
        elif " get node " in command:
            self.polls += 1
            out = json.dumps(node(ready=self.restarted and self.polls > self.ready_after))
        elif " get pods " in command:
            moved = [p for p in self.pods if p["spec"]["nodeName"] != "s1" or p["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"]
            if self.restarted and "uncordon" in " ".join(self.log):
                self.back_after -= 1
                moved += ([pod(f"new-{i}", "s2") for i in range(2)] + [pod("cache-b", "s2", ("ReplicaSet", "cache-1"))]
                          if self.back_after < 0 else [])
            out = json.dumps({"items": self.pods if not self.restarted else moved})
        elif " drain " in command:
            rc, err = self.drain_rc, self.drain_err
        elif "systemctl" in command:
            self.restarted = True
        result = CommandResult(rc, out, err)
        if check and rc:
            raise RemoteError(self.name, step, err)
        return result


def handler(ctx):
    return plan(ctx).handlers[0]


def fast(restart):
    restart.node_drain.sleep = lambda _s: None
    return restart


def kinds(log):
    order = []
    for command in log:
        for word in ("uncordon", "cordon", "drain", "systemctl"):
            if f" {word} " in f" {command} " or command.startswith(word):
                order.append(word)
                break
    return order


def test_a_node_of_a_cluster_is_cordoned_drained_restarted_ready_uncordoned_then_its_workloads_wait():
    restart = fast(handler(ctx_for("s1", ["s1"], ["a1"])))
    session = Cluster(pods=[pod("web-a", "s1"), pod("web-b", "s2"), pod("agent-x", "s1", ("DaemonSet", "agent")),
                            pod("cache-a", "s1", ("ReplicaSet", "cache-1"), volumes=["scratch"])])
    said = restart.run(session)
    assert kinds(session.log) == ["cordon", "drain", "systemctl", "uncordon"]
    drain = next(c for c in session.log if " drain " in c)
    assert drain.endswith("drain s1 --ignore-daemonsets --delete-emptydir-data --timeout=300s")
    ready_polls = [i for i, c in enumerate(session.log) if " get node s1 -o json" in c]
    assert ready_polls and min(ready_polls) > session.log.index(next(c for c in session.log if "systemctl" in c))
    assert max(ready_polls) < session.log.index(next(c for c in session.log if " uncordon " in c))
    assert " get pods " in session.log[-1]  # the workloads were waited for after the uncordon
    assert "2 pod(s) evicted" in said and "shop/cache-a (scratch)" in said
    assert session.notes == ["draining s1 deletes the emptyDir data of shop/cache-a (scratch)"]


def test_a_blocked_drain_uncordons_and_restarts_nothing():
    restart = fast(handler(ctx_for("s1", ["s1"], ["a1"])))
    session = Cluster(pods=[pod("db-a", "s1")], drain_rc=1, drain_err=(
        'evicting pod shop/db-a\nerror when evicting pods/"db-a" -n "shop" (will retry after 5s): Cannot evict pod '
        "as it would violate the pod's disruption budget.\n"
        'error: unable to drain node "s1" due to error: error when evicting pods/"db-a" -n "shop": global timeout '
        "reached: 300s, continuing command...\n"))
    with pytest.raises(RemoteError) as failed:
        restart.run(session)
    assert kinds(session.log) == ["cordon", "drain", "uncordon"]
    assert not session.restarted
    message = str(failed.value)
    assert "PodDisruptionBudget allows no eviction of db-a within 300s (k3s_drain_timeout)" in message
    assert "uncordoned again, nothing restarted" in message


def test_workloads_that_never_come_back_fail_the_wait_naming_them():
    restart = handler(ctx_for("s1", ["s1"], ["a1"]))
    ticks = iter(range(0, 10_000, 100))
    restart.node_drain.sleep, restart.node_drain.clock = (lambda _s: None), (lambda: next(ticks))
    session = Cluster(pods=[pod("web-a", "s1"), pod("web-b", "s2")], back_after=10_000)
    with pytest.raises(RemoteError, match=r"the drained workloads ready again not reached within 300s .*"
                                          r"still short: shop/ReplicaSet/web-1 \(1/2 ready\)"):
        restart.run(session)


def test_single_nodes_and_k3s_drain_off_restart_without_a_drain_and_say_so():
    single = handler(ctx_for("s1", ["s1"]))
    session = Cluster()
    assert "single-node cluster: not drained" in single.run(session)
    assert kinds(session.log) == ["systemctl"]
    off = handler(ctx_for("s1", ["s1"], ["a1"], k3s_drain=False))
    assert "k3s_drain is off" in off.run(Cluster())
    assert "would cordon and drain s1" in handler(ctx_for("s1", ["s1"], ["a1"])).would


def test_a_node_not_registered_yet_is_restarted_without_a_drain():
    restart = handler(ctx_for("s1", ["s1"], ["a1"]))
    session = Cluster()
    session.run = (lambda original: lambda c, step, **kw: CommandResult(1, "", "NotFound") if "-o name" in c
                   else original(c, step, **kw))(session.run)
    assert "not in the cluster yet" in restart.run(session)


def test_an_agent_is_drained_through_the_first_servers_session():
    ctx = ctx_for("a1", ["s1"], ["a1"], k3s_agent_token="agent-secret")
    server = Cluster("s1", pods=[pod("web-a", "a1")])
    ctx.sessions = {"s1": server}.__getitem__
    restart = fast(handler(ctx))
    agent = Cluster("a1")
    agent.run = (lambda original: lambda c, step, **kw: (setattr(server, "restarted", True), original(c, step, **kw))[1])(agent.run)
    restart.run(agent)
    assert kinds(server.log) == ["cordon", "drain", "uncordon"] and "drain a1 " in " ".join(server.log)
    assert kinds(agent.log) == ["systemctl"] and "k3s-agent" in agent.log[0]

    lonely = handler(ctx_for("a1", ["s1"], ["a1"], k3s_agent_token="agent-secret"))  # no sessions: says what to do
    with pytest.raises(VpskitError, match="include s1 in --limit, or set k3s_drain: false"):
        lonely.run(Cluster("a1"))


def test_what_a_drain_moves_and_what_ready_again_means():
    pods = [pod("web-a", "s1"), pod("web-b", "s2"), pod("web-c", "s2", ready=False),
            pod("agent-x", "s1", ("DaemonSet", "agent"), namespace="kube-system"), pod("bare", "s1", owner=None)]
    drained = plan_drain(pods, "s1")
    assert drained.owners == {("shop", "ReplicaSet", "web-1"): 2}
    assert drained.evicted == 2  # web-a and the bare pod; the DaemonSet's stays
    assert not_ready_again([pod("web-b", "s2"), pod("web-d", "s3", ready=False)], drained) == \
        ["shop/ReplicaSet/web-1 (1/2 ready)"]
    assert not_ready_again([pod("web-b", "s2"), pod("web-d", "s3")], drained) == []
    assert not_ready_again([], Drained("s1")) == []
    assert NodeDrain("s1", 5, 5).drain_timeout == 5
