"""A restart notified before the step that starts the same unit is not run: the start read the new configuration.

The first run of fail2ban installs it stopped (the apt policy), writes jail.local (notifying a restart), then
starts it; restarting it at the end of the role was a second start for nothing.
"""

from __future__ import annotations

import io

from tests.unit.localhost import LocalConnection
from tests.unit.planctx import plan_context
from tests.unit.test_plays import inventory, role
from tests.unit.test_roles import defaults
from vpskit.builtin_roles import fail2ban
from vpskit.playbook import Play
from vpskit.report import Reporter
from vpskit.resources import Command, File, Handler, Service
from vpskit.resources.base import Outcome
from vpskit.resources.services import ServicePlan
from vpskit.role import RolePlan
from vpskit.roleloader import RoleLibrary
from vpskit.runner import Run, RunOptions
from vpskit.templating import Templates


class Start(Command):
    """A step that starts `unit` (a local stand-in for Service, whose facts need systemd)."""

    def __init__(self, unit: str, root):
        super().__init__(f"echo started >> {root}/starts && touch {root}/started", creates=f"{root}/started",
                         name=f"start {unit}")
        self.unit = unit

    def starts(self, outcome):
        return [self.unit]


def run_plan(tmp_path, resources, check=False):
    inv = inventory(tmp_path, names=("s1",))
    plan = RolePlan("svc", resources, [Handler.restart("svc"), Handler("log", f"echo log >> {tmp_path}/s1/log")])
    plan.handlers[0].command = f"echo restarted >> {tmp_path}/s1/starts"
    run = Run(inv, inv.select(None), [Play("p", "all", ["svc"])], RoleLibrary(given=[role("svc", lambda ctx: plan)]),
              Templates(), RunOptions(check=check), Reporter(stream=io.StringIO()), connect=LocalConnection)
    return {s.title: (s.status, s.reason) for s in {r.name: r for r in run.execute()}["s1"].steps}


def test_a_restart_notified_before_the_unit_is_started_is_not_run(tmp_path):
    root = tmp_path / "s1"
    steps = run_plan(tmp_path, [File(f"{root}/config", content="v1\n", notify=["restart svc", "log"]),
                                Start("svc", root)])
    assert (root / "starts").read_text() == "started\n"  # one start, no restart
    status, message = steps["handler restart svc"]
    assert status == "ok" and "svc was started after the change that notified it" in message
    assert steps["handler log"][0] == "changed"  # other handlers the change notified still run


def test_a_change_after_the_start_still_restarts(tmp_path):
    root = tmp_path / "s1"
    run_plan(tmp_path, [File(f"{root}/config", content="v1\n", notify=["restart svc"]), Start("svc", root),
                        File(f"{root}/late", content="v1\n", notify=["restart svc"])])
    assert (root / "starts").read_text() == "started\nrestarted\n"


def test_a_unit_already_running_is_restarted_as_before(tmp_path):
    root = tmp_path / "s1"
    root.mkdir()
    (root / "started").write_text("")  # the start step is ok: nothing started it in this run
    steps = run_plan(tmp_path, [File(f"{root}/config", content="v1\n", notify=["restart svc"]), Start("svc", root)])
    assert (root / "starts").read_text() == "restarted\n" and steps["handler restart svc"][0] == "changed"


def test_check_mode_does_not_announce_the_needless_restart(tmp_path):
    root = tmp_path / "s1"
    steps = run_plan(tmp_path, [File(f"{root}/config", content="v1\n", notify=["restart svc"]), Start("svc", root)],
                     check=True)
    assert steps["handler restart svc"][0] == "ok" and not (root / "starts").exists()


def test_a_service_says_it_starts_its_unit_only_when_its_plan_starts_it():
    service = Service("fail2ban")
    assert service.starts(Outcome.change("enable + start fail2ban", plan=ServicePlan(("enable", "start")))) == ["fail2ban"]
    assert service.starts(Outcome.change("enable fail2ban", plan=ServicePlan(("enable",)))) == []
    assert service.starts(Outcome.change("stop fail2ban", plan=ServicePlan(("stop",)))) == []
    assert service.starts(Outcome.ok("fail2ban is enabled, running")) == []


def test_fail2ban_starts_after_writing_its_jail_and_its_restart_names_the_unit():
    plan = fail2ban.plan(plan_context(defaults(fail2ban_enabled=True)))
    titles = [r.title for r in plan.resources]
    assert titles.index(f"file {fail2ban.JAIL}") < titles.index("service fail2ban")
    assert [h.restarts for h in plan.handlers] == ["fail2ban"]
