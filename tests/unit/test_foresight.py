"""Later plays' facts in a host's first round trip (vpskit/foresight.py): one command per host on a no-op, the
facts read again after a change, placeholders for exports not published yet."""

from __future__ import annotations

from vpskit.context import ExportsView
from vpskit.exports import ExportStore, Published
from vpskit.facts import FileFact
from vpskit.foresight import PLACEHOLDER, ForeseenExports, foreseen_facts
from vpskit.playbook import Play
from vpskit.resources import File, Handler
from vpskit.role import RolePlan

from tests.unit.test_plays import execute, inventory, join_role, role, token_role


def test_a_foreseen_export_is_the_published_value_or_a_predicted_placeholder():
    store = ExportStore()
    store.publish(Published("k3s_url", "https://s1:6443", "s1", "first"))
    view = ForeseenExports(store)
    assert view.get("k3s_url") == "https://s1:6443" and not view.predicted("k3s_url")
    assert view.get("k3s_token") == PLACEHOLDER and view.predicted("k3s_token")
    assert view.item("k3s_token", host="s1").predicted
    assert isinstance(view, ExportsView)


def test_each_foreseen_fact_comes_once_in_play_order():
    first = RolePlan("a", [File("/etc/a", content="1"), File("/etc/b", content="2")])
    second = RolePlan("b", [File("/etc/b", content="2"), File("/etc/c", content="3")])
    assert [f.args for f in foreseen_facts([[first], [second]])] == [("/etc/a",), ("/etc/b",), ("/etc/c",)]
    assert all(isinstance(f, FileFact) for f in foreseen_facts([[first]]))


def test_a_no_op_reads_every_plays_facts_in_the_first_round_trip_joining_hosts_included(tmp_path):
    inv = inventory(tmp_path)
    plays = [Play("first", "servers[0]", ["server"]), Play("join", "servers[1:],agents", ["join"], serial=1)]
    roles = [role("server", token_role), role("join", join_role)]
    execute(inv, plays, roles)
    run, results = execute(inv, plays, roles)
    assert all(r.error is None and r.count("changed") == 0 for r in results.values()), results
    # the joining hosts planned ahead with a placeholder token: their file's fact rode in the first batch
    assert {n: (r.commands, r.fact_batches) for n, r in results.items()} == {n: (1, 1) for n in results}
    token = (tmp_path / "s1/token").read_text().strip()
    assert (tmp_path / "s2/join.conf").read_text() == f"https://s1:6443 {token}\n"


def test_a_host_that_changes_reads_what_its_later_plays_need_again(tmp_path):
    inv = inventory(tmp_path, names=("s1",))
    root = tmp_path / "s1"
    # the handler writes a file it does not declare: only the rule "a change drops what was foreseen" saves
    # the later play from the state read before the change
    writer = RolePlan("writer", [File(f"{root}/unit", content="x\n", notify=["start"])],
                      [Handler("start", f"echo started > {root}/state", changes=[f"{root}/unit"])])
    reader = RolePlan("reader", [File(f"{root}/state", content="started\n")])
    plays = [Play("one", "all", ["writer"]), Play("two", "all", ["reader"])]
    roles = [role("writer", lambda ctx: writer), role("reader", lambda ctx: reader)]
    run, results = execute(inv, plays, roles)
    steps = {s.title: s.status for s in results["s1"].steps}
    assert steps[f"file {root}/state"] == "ok", results["s1"].steps
    assert results["s1"].fact_batches == 2
    again, results = execute(inv, plays, roles)
    assert results["s1"].count("changed") == 0 and results["s1"].fact_batches == 1 and results["s1"].commands == 1


def test_a_later_play_that_cannot_be_planned_ahead_is_planned_in_its_turn(tmp_path):
    inv = inventory(tmp_path, names=("s1",))
    calls = []

    def fussy(ctx):
        calls.append(ctx.play)
        if isinstance(ctx.exports, ForeseenExports):
            raise AttributeError("a plan that needs the real thing")
        return RolePlan("fussy", [File(f"{ctx['root']}/f", content="1\n")])

    plays = [Play("one", "all", ["plain"]), Play("two", "all", ["fussy"])]
    roles = [role("plain", lambda ctx: RolePlan("plain", [File(f"{ctx['root']}/p", content="1\n")])),
             role("fussy", fussy)]
    run, results = execute(inv, plays, roles)
    assert results["s1"].error is None and calls == ["two", "two"]
    assert (tmp_path / "s1/f").read_text() == "1\n"
