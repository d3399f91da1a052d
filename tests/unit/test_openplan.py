"""A host's first play planned while its connection opens (vpskit/openplan.py): kept when the connection gave the
expected login and address, planned again when it did not."""

from __future__ import annotations

import io
import threading

from tests.unit.localhost import LocalConnection
from tests.unit.test_plays import inventory, role
from vpskit.connection import Target
from vpskit.inventory.model import Var
from vpskit.openplan import Background, expected_runtime
from vpskit.playbook import Play
from vpskit.report import Reporter
from vpskit.resources import File
from vpskit.role import RolePlan
from vpskit.roleloader import RoleLibrary
from vpskit.runner import Run, RunOptions
from vpskit.templating import Templates


def test_the_expected_runtime_is_the_first_login_and_the_routes_source_address():
    target = Target("h", "127.0.0.1", port=2222, user="ops", fallbacks=[("root", 22)])
    assert expected_runtime(target) == {"vpskit_login_user": "ops", "vpskit_login_port": 2222,
                                        "vpskit_controller_address": "127.0.0.1"}
    assert expected_runtime(Target("h", "no-such-host.invalid")) is None


def test_background_hands_back_the_result_or_the_exception():
    assert Background(lambda: 42, "t").result() == 42
    failing = Background(lambda: 1 / 0, "t")
    try:
        failing.result()
    except ZeroDivisionError:
        pass
    else:
        raise AssertionError("the exception was not raised in the waiting thread")


def run_with(tmp_path, connect, seen: list):
    inv = inventory(tmp_path, names=("s1",))
    inv.hosts["s1"].vars["vpskit_host"] = Var("127.0.0.1", "test")

    def plan(ctx):
        seen.append((ctx["vpskit_login_user"], ctx["vpskit_controller_address"]))
        planned.set()
        return RolePlan("r", [File(f"{ctx['root']}/f", content="1\n")])

    planned = threading.Event()
    run = Run(inv, inv.select(None), [Play("p", "all", ["r"])], RoleLibrary(given=[role("r", plan)]), Templates(),
              RunOptions(), Reporter(stream=io.StringIO()), connect=lambda target, on_retry=None:
              connect(target, planned))
    return {r.name: r for r in run.execute()}


class SlowToOpen(LocalConnection):
    """Opens only once the host's first plan has been made: a run that planned after opening would wait 10 s."""

    def __init__(self, target, planned):
        super().__init__(target)
        self.planned = planned

    def open(self) -> None:
        assert self.planned.wait(10), "the plan was not made while the connection opened"
        super().open()


def test_the_first_plan_is_made_while_the_connection_opens_and_kept(tmp_path):
    seen = []
    results = run_with(tmp_path, SlowToOpen, seen)
    assert results["s1"].error is None and (tmp_path / "s1/f").read_text() == "1\n"
    assert seen == [("root", "127.0.0.1")]  # planned once: the connection gave what was expected


class FellBack(LocalConnection):
    """Logs in as another user than the first one planned, as when the remembered login no longer works."""

    def __init__(self, target, planned):
        super().__init__(target)

    def open(self) -> None:
        super().open()
        self.user = "admin"


def test_a_connection_that_logged_in_otherwise_gets_its_plan_made_again(tmp_path):
    seen = []
    results = run_with(tmp_path, FellBack, seen)
    assert results["s1"].error is None
    assert seen == [("root", "127.0.0.1"), ("admin", "127.0.0.1")]
