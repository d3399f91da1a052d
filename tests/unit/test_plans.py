"""Resources are built once and never changed; a check returns a typed plan; facts are forgotten by fact class.

The invalidation cases run the real fact batch through a local shell (tests/unit/localhost.py), so the
"re-read" is a second batch on the host, not a stub's bookkeeping."""

from __future__ import annotations

import copy
import hashlib
import subprocess

import pytest

from tests.unit.factstub import StubFacts
from tests.unit.localhost import LocalConnection
from vpskit.connection import Target
from vpskit.facts import CommandOutputFact, FileFact, FileState
from vpskit.facts.system import SysctlFact
from vpskit.gather import FactCache
from vpskit.hostrun import PlanExecutor
from vpskit.facts.services import ServiceFact
from vpskit.resources import Block, File, ImmutableResource, Line, Outcome, Plan, Resource, Sysctl, VersionChange
from vpskit.resources.files import FilePlan
from vpskit.resources.ufw import UfwRules
from vpskit.role import RolePlan
from vpskit.session import HostSession


def local_cache() -> FactCache:
    return FactCache("h", lambda script: subprocess.run(["sh", "-c", script], capture_output=True, text=True))


# -- built once ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("attribute, value", [("guarded", True), ("path", "/etc/other"), ("notify", ("x",)),
                                              ("content", "changed\n"), ("anything_new", 1)])
def test_a_built_resource_refuses_any_change(attribute, value):
    resource = File("/etc/motd", content="hello\n")
    with pytest.raises(ImmutableResource, match="not changed after it is built"):
        setattr(resource, attribute, value)
    with pytest.raises(ImmutableResource):
        del resource.path
    assert (resource.guarded, resource.path, resource.content) == (False, "/etc/motd", "hello\n")


def test_a_users_own_resource_is_sealed_after_its_whole_constructor():
    class Mine(Resource):
        kind = "mine"

        def __init__(self, value):
            super().__init__("mine", guarded=True)
            self.value = value  # after super().__init__: still inside construction

    mine = Mine(3)
    assert mine.value == 3 and mine.guarded
    with pytest.raises(ImmutableResource, match="mine mine"):
        mine.value = 4


def test_guarded_and_its_paths_are_given_at_construction():
    rules = UfwRules([], guarded=True, guarded_paths=["/etc/ufw/user.rules"])
    assert rules.guarded and rules.paths() == ["/etc/ufw/user.rules"]
    assert File("/etc/motd", content="x").paths() == ["/etc/motd"]


def test_when_returns_a_conditioned_copy_and_leaves_the_original():
    plain = File("/etc/motd", content="x\n")
    fact = FileFact("/etc/issue")
    conditioned = plain.when(fact, lambda state: state.exists, "no /etc/issue")
    assert plain.conditions == () and conditioned is not plain
    assert conditioned.skip_reason(StubFacts([(fact, FileState("absent"))])) == "no /etc/issue"
    assert [f.key for f in conditioned.all_facts()] == [FileFact("/etc/motd").key, fact.key]
    with pytest.raises(ImmutableResource):
        conditioned.path = "/etc/other"


# -- check returns a typed plan and changes nothing ------------------------------------------------------


def _live(content: bytes, mode="0600", owner="app", group="app") -> FileState:
    return FileState("file", owner, group, mode, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                     content=content)


@pytest.mark.parametrize("resource", [Line("/etc/app.conf", "a=2", regexp="^a="),
                                      Block("/etc/app.conf", "a=2"),
                                      File("/etc/app.conf", content="a=2\n")], ids=lambda r: r.kind)
def test_a_check_leaves_the_resource_as_built(resource):
    before = copy.copy(vars(resource))
    facts = StubFacts([(FileFact("/etc/app.conf"), _live(b"a=1\n"))])
    outcome = resource.check(facts)
    assert vars(resource) == before
    assert isinstance(outcome.plan, FilePlan) and isinstance(outcome.plan, Plan) and outcome.plan.action == "write"


def test_an_edit_plans_the_live_owner_and_mode_a_file_its_declared_ones():
    facts = StubFacts([(FileFact("/etc/app.conf"), _live(b"a=1\n"))])
    edit = Line("/etc/app.conf", "a=2", regexp="^a=").check(facts).plan
    whole = File("/etc/app.conf", content="a=2\n").check(facts).plan
    assert (edit.owner, edit.group, edit.mode) == ("app", "app", "0600")
    assert (whole.owner, whole.group, whole.mode) == ("root", "root", "0644")


def test_plans_and_outcomes_are_frozen_values():
    outcome = File("/etc/motd", content="x\n").check(StubFacts([(FileFact("/etc/motd"), FileState("absent"))]))
    with pytest.raises(AttributeError):
        outcome.plan.content = b"other"
    with pytest.raises(AttributeError):
        outcome.changed = False
    assert outcome.version is None and Outcome.ok("fine").version is None


def test_a_plan_may_report_the_version_it_moves():
    class Bump(Plan):
        pass

    moved = Outcome.change("upgrade", plan=Bump(version=VersionChange("k3s", "v1.35.0+k3s1", "v1.36.0+k3s1")))
    assert moved.version == VersionChange("k3s", "v1.35.0+k3s1", "v1.36.0+k3s1")
    assert moved.upgrade == ("v1.35.0+k3s1", "v1.36.0+k3s1")


# -- facts forgotten by class ---------------------------------------------------------------------------


def test_facts_are_forgotten_by_their_class_subclasses_included(tmp_path):
    class RenamedProbe(CommandOutputFact):
        """A subclass (or a renamed class) is still the class it extends."""

    seen = tmp_path / "seen"
    seen.write_text("one")
    cache = local_cache()
    probe, other, file = RenamedProbe(f"cat {seen}"), CommandOutputFact("printf other"), FileFact(str(seen))
    cache.ensure([probe, other, file])
    seen.write_text("two")
    cache.invalidate(kinds=[SysctlFact])
    assert cache.get(probe) == (0, "one") and cache.batches == 1
    cache.invalidate(kinds=[CommandOutputFact])
    assert cache.get(probe) == (0, "two") and cache.get(other) == (0, "other") and cache.batches == 3
    assert cache.has(file)  # a FileFact is not a CommandOutputFact


def test_a_fact_itself_or_its_path_is_forgotten_alone(tmp_path):
    cache = local_cache()
    first, second = CommandOutputFact("echo 1"), CommandOutputFact("echo 2")
    file = FileFact(str(tmp_path / "f"))
    cache.ensure([first, second, file])
    cache.invalidate(facts=[first])
    assert not cache.has(first) and cache.has(second) and cache.has(file)
    cache.invalidate(paths=[str(tmp_path / "f")])
    assert not cache.has(file) and cache.has(second)


def test_resources_forget_what_they_change_by_fact_class():
    cache = local_cache()
    unit, sysctl, motd = (FileFact("/etc/systemd/system/x.service"), SysctlFact("kernel.hostname"),
                          FileFact("/etc/motd"))
    service = ServiceFact("ssh")
    for key, value in ((unit.key, FileState("absent")), (sysctl.key, {}), (motd.key, FileState("absent")),
                       (service.key, {})):
        cache._values[key] = value
    for fact in (unit, sysctl, motd, service):
        cache._facts[fact.key] = fact
    Sysctl({"kernel.hostname": "x"}, path="/etc/motd").invalidate(cache)
    assert not cache.has(sysctl) and not cache.has(motd) and cache.has(unit) and cache.has(service)
    File("/etc/systemd/system/x.service", content="[Unit]\n").invalidate(cache)
    assert not cache.has(unit) and not cache.has(service)


class Reads(Resource):
    """Reports what a probe of a file's content shows when it is checked."""

    kind = "reads"

    def __init__(self, path: str):
        super().__init__(path)
        self.path, self.probe = path, CommandOutputFact(f"cat {path}")

    def facts(self):
        return [self.probe, FileFact("/etc/hostname")]

    def check(self, facts):
        return Outcome.ok(f"reads {facts.get(self.probe)[1]}")


class Bump(Reads):
    """Writes `two` into the file, then forgets only the probes (CommandOutputFact) it may have changed."""

    kind = "bump"

    def check(self, facts):
        if facts.get(self.probe) == (0, "two"):
            return Outcome.ok("two already")
        return Outcome.change("write two")

    def apply(self, session, outcome):
        session.run(f"printf two > {self.path}", step=self.title)

    def invalidate(self, facts):
        facts.invalidate(kinds=[CommandOutputFact])


def test_a_step_that_forgets_a_fact_class_makes_the_next_check_read_it_again(tmp_path):
    seen = tmp_path / "seen"
    seen.write_text("one")
    connection = LocalConnection(Target("h", "127.0.0.1"))
    connection.open()
    records = []
    session = HostSession("h", connection)
    executor = PlanExecutor(session, False, lambda *record: records.append(record), lambda login: None)
    try:
        executor.run([RolePlan("mine", [Reads(str(seen)), Bump(str(seen)), Reads(str(seen))])])
    finally:
        connection.close()
    reasons = [(title, status, reason) for _role, title, status, reason, *_rest in records]
    assert reasons == [(f"reads {seen}", "ok", "reads one"), (f"bump {seen}", "changed", "write two"),
                       (f"reads {seen}", "ok", "reads two")]
    # the probe again, and only the probe: the file fact gathered up front was kept
    assert session.facts.batches == 2 and session.facts.has(FileFact("/etc/hostname"))


def test_a_predicate_written_against_class_names_still_forgets_what_it_names():
    """Resources of users' own written before fact classes became the key: their predicates see the old shape."""
    cache = local_cache()
    probe, other = CommandOutputFact("printf a"), FileFact("/etc/hostname")
    cache.ensure([probe, other])
    cache.invalidate(lambda key: key[0] == "CommandOutputFact")
    assert not cache.has(probe) and cache.has(other)


def test_a_plans_version_change_reaches_the_outcomes_upgrade_and_a_plain_one_may_give_it():
    class Moves(Plan):
        pass

    typed = Outcome.change("upgrade", plan=Moves(version=VersionChange("tool", "1.0", "2.0")))
    assert typed.upgrade == ("1.0", "2.0")
    assert Outcome(True, "old style", upgrade=("1.0", "2.0")).upgrade == ("1.0", "2.0")
    assert Outcome.change("no move", plan=Moves()).upgrade is None
