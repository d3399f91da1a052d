"""Tasks from roles: the command line collects each role's run task and the tasks of its own tasks.py (built-in
and from VPSKIT_ROLES_PATH), without importing any role's package; vpskit/cli names no role."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from invoke import Collection, Context, Task

from vpskit.cli.collect import add_role_tasks
from vpskit.cli.tasks import build_namespace, role_task

ROOT = Path(__file__).resolve().parents[2]

# importing the role's package when the command line lists its tasks would be a mistake: it says so loudly
GREET_ROLE = '''"""greet role: says hello."""
raise SystemExit("the greet role's package was imported by the command line")
'''
GREET_TASKS = '''"""greet.* tasks."""
from invoke import Collection, task


@task(help={"who": "whom to greet"})
def hello(c, who="world"):
    """Say hello to WHO."""
    print(f"hello {who}")


@task
def sweep(c):
    """Sweep up after the greeting."""
    print("swept")


COLLECTIONS = [Collection("tidy", sweep)]
'''


def _role(root: Path, name: str, init: str, tasks: str | None = None) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text(init)
    if tasks is not None:
        (root / name / "tasks.py").write_text(tasks)


def _vpskit(*args: str, roles: Path | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "VPSKIT_ROLES_PATH": str(roles)} if roles else {
        k: v for k, v in os.environ.items() if k != "VPSKIT_ROLES_PATH"}
    return subprocess.run([sys.executable, "-c", "from vpskit.cli.program import main; main()", *args],
                          capture_output=True, text=True, env=env, cwd=cwd)


def test_a_user_roles_tasks_appear_in_the_list_and_run_without_the_role_imported(tmp_path):
    roles = tmp_path / "roles"
    _role(roles, "greet", GREET_ROLE, GREET_TASKS)
    _role(roles, "plain", '"""plain role: nothing but a plan."""\ndef plan(ctx):\n    return None\n')
    listed = _vpskit("--list", roles=roles)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout
    assert "greet.hello" in lines and "Say hello to WHO." in lines
    assert "greet.run (greet)" in lines and "greet role: says hello." in lines  # the role itself, by default
    assert "tidy.sweep" in lines and "greet.sweep" not in lines  # a further collection, under its own name
    assert "  plain " in lines and "plain role: nothing but a plan." in lines  # a role without tasks.py: its run
    assert "k3s.upgrade" in lines and "dr.drill" in lines  # the built-in roles' tasks still there
    ran = _vpskit("greet.hello", "--who", "operator", roles=roles)
    assert ran.returncode == 0 and ran.stdout == "hello operator\n", ran.stderr
    assert "greet.hello" not in _vpskit("--list").stdout  # without VPSKIT_ROLES_PATH: not listed


def test_a_broken_tasks_file_is_named_and_the_other_tasks_still_work(tmp_path):
    roles = tmp_path / "roles"
    _role(roles, "broken", '"""broken role."""\n', "import no_such_module\n")
    listed = _vpskit("--list", roles=roles)
    assert listed.returncode == 0
    assert f"{roles / 'broken' / 'tasks.py'} is not loaded (ModuleNotFoundError" in listed.stderr
    assert "bootstrap" in listed.stdout and "k3s.upgrade" in listed.stdout
    assert "  broken " in listed.stdout  # its run task stays


def test_a_role_named_like_a_shipped_task_is_named_and_the_shipped_task_stays(tmp_path, capsys):
    _role(tmp_path, "facts", '"""facts role."""\n')
    shipped = Task(lambda c: None, name="facts")
    ns = Collection(shipped)
    add_role_tasks(ns, [tmp_path], role_task)
    assert ns.tasks["facts"] is shipped and "base" in ns.tasks
    assert f"role {tmp_path / 'facts'}: 'facts' is already a task: its tasks are not listed" in capsys.readouterr().err


def test_the_built_in_roles_tasks_keep_their_names():
    ns = build_namespace()
    assert set(ns.collections["k3s"].tasks) == {"run", "upgrade", "kubeconfig", "uninstall", "replace"}
    assert set(ns.collections["backups"].tasks) == {"run", "verify", "list", "restore"}
    assert set(ns.collections["dr"].tasks) == {"drill"}
    assert ns.collections["k3s"].default == "run" and ns.collections["backups"].default == "run"
    assert "base" in ns.tasks and "k3s" not in ns.tasks and "backups" not in ns.tasks


def test_the_command_line_names_no_built_in_role():
    from vpskit.roleindex import builtin_role_summaries
    words = "|".join(builtin_role_summaries())
    found = subprocess.run(["grep", "-rnwE", words, "vpskit/cli", "--include=*.py"], capture_output=True,
                           text=True, cwd=ROOT).stdout
    # `ssh` in lab_tasks is the program (lab.ssh), not the role
    assert [line for line in found.splitlines() if not re.search(r"lab_tasks.py:\d+:.*\bssh\b", line)] == [], found


def test_k3s_upgrade_reads_the_typed_upgrade_field_not_the_reason(monkeypatch, capsys):
    """The moves come from StepResult.upgrade (K3sBinary's Outcome.upgrade): a reason that reads like an upgrade
    without the field is no upgrade, and the field is enough whatever the reason says."""
    from tests.unit.roletasks import role_tasks
    from vpskit.results import HostResult, StepResult
    k3s = role_tasks("k3s")
    results = [HostResult("s1", [StepResult("k3s", "k3s v1.36.4+k3s1", "changed", "replace the binary",
                                            upgrade=("v1.35.0+k3s1", "v1.36.4+k3s1"))]),
               HostResult("s2", [StepResult("k3s", "k3s v1.36.4+k3s1", "changed",
                                            "upgrade k3s from v1.0.0+k3s1 to v1.36.4+k3s1")])]
    ran = []
    monkeypatch.setattr(k3s, "_project", lambda *args: None)
    monkeypatch.setattr(k3s, "_execute", lambda project, limit, options: results)
    monkeypatch.setattr("vpskit.cli.common.run_roles", lambda *args: ran.append(args))
    k3s.upgrade(Context(), yes=True)
    assert capsys.readouterr().out == "s1: upgrade k3s from v1.35.0+k3s1 to v1.36.4+k3s1\n" and len(ran) == 1
    results[0].steps[0].upgrade = None
    k3s.upgrade(Context(), yes=True)
    assert capsys.readouterr().out == "nothing to upgrade: every host runs k3s_version\n" and len(ran) == 1


UPGRADING_ROLE = '''"""upgrading role: one step that moves a version."""
from vpskit.resources import Outcome, Resource
from vpskit.role import RolePlan


class Moves(Resource):
    kind = "moves"

    def facts(self):
        return []

    def check(self, facts):
        return Outcome(True, "a sentence nobody parses", upgrade=("1.0", "2.0"))


def plan(ctx):
    return RolePlan("upgrading", [Moves("tool 2.0")])
'''


def test_a_steps_upgrade_reaches_the_run_result_in_check_mode(tmp_path):
    """The engine carries Outcome.upgrade to the step's result (a user role's resource on this machine)."""
    import io

    from tests.unit.localhost import LocalConnection
    from vpskit.cli.common import load_project
    from vpskit.report import Reporter
    from vpskit.runner import Run, RunOptions
    os.makedirs("/run/vpskit-tests", mode=0o700, exist_ok=True)  # the lock may not be under /tmp
    _role(tmp_path / "roles", "upgrading", UPGRADING_ROLE)
    (tmp_path / "hosts.yml").write_text(f"all:\n  vars:\n    vpskit_lock_path: /run/vpskit-tests/{tmp_path.name}.lock\n"
                                        "  hosts:\n    h1: {}\n")
    project = load_project(str(tmp_path / "hosts.yml"), None, str(tmp_path / "roles"), only=["upgrading"])
    run = Run(project.inventory, list(project.inventory.hosts.values()), project.plays, project.library,
              project.templates, RunOptions(check=True), Reporter(stream=io.StringIO()), connect=LocalConnection)
    [result] = run.execute()
    [step] = [s for s in result.steps if s.role == "upgrading"]
    assert result.error is None and step.status == "changed" and step.upgrade == ("1.0", "2.0")



def test_run_tasks_take_one_options_object_built_from_their_arguments(monkeypatch):
    """bootstrap, check, role, a role's run and k3s.upgrade get a RunArgs; their options (names, order, so short
    flags, and defaults) are RunArgs' fields, as the 11-parameter signatures they replace had them."""
    from vpskit.cli.options import DEFAULT_FORKS, RunArgs
    ran = []
    monkeypatch.setattr("vpskit.cli.common.run_roles", lambda names, args: ran.append((names, args)))
    ns = build_namespace()
    order = ["inventory", "limit", "check", "diff", "set_", "json", "forks", "trust_new_hosts", "quiet", "roles_path",
             "playbook"]
    assert list(ns.tasks["bootstrap"].argspec(ns.tasks["bootstrap"].body).parameters) == order
    assert [a.name for a in ns.tasks["role"].get_arguments()][0] == "names"
    ns.tasks["bootstrap"](Context(), limit="web", set_=["a=1"], forks=3)
    ns.tasks["check"](Context())
    ns.tasks["role"](Context(), "ssh, firewall", quiet=True)
    ns.tasks["base"](Context(), check=True)
    assert ran == [(None, RunArgs(limit="web", set_=["a=1"], forks=3)), (None, RunArgs(check=True, diff=True)),
                   (["ssh", "firewall"], RunArgs(quiet=True)), (["base"], RunArgs(check=True))]
    assert RunArgs().forks == DEFAULT_FORKS
    check_options = {a.name: a.default for a in ns.tasks["check"].get_arguments()}
    assert "check" not in check_options and check_options["diff"] is True
    upgrade = {a.name: a.default for a in ns.collections["k3s"].tasks["upgrade"].get_arguments()}
    assert list(upgrade) == ["inventory", "limit", "set_", "forks", "trust_new_hosts", "roles_path", "yes"]


def test_lab_breaks_are_declared_by_their_roles_and_collected_by_the_lab(tmp_path):
    """Each scenario lives in its role's breaks.py (the same seven as when the lab listed them), a role of one's
    own adds one, and a name two roles use is refused naming both files."""
    import json

    import pytest

    from vpskit.errors import VpskitError
    from vpskit.lab.breaks import all_breaks, find
    from vpskit.paths import builtin_roles_dir
    shipped = all_breaks()
    assert {b.name: b for b in shipped}.keys() == {"password-login", "ufw-disabled", "fail2ban-stopped",
                                                   "redirects-accepted", "updates-off", "kubeconfig-readable",
                                                   "stale-backup"}
    assert find("ufw-disabled", shipped).command == "ufw --force disable"
    assert json.loads(json.dumps(find("updates-off", shipped).command)) == \
        "sed -i 's/\"1\"/\"0\"/' /etc/apt/apt.conf.d/20auto-upgrades"
    _role(tmp_path, "web", '"""web role."""\n', None)
    (tmp_path / "web" / "breaks.py").write_text(
        "from vpskit.lab.breaks import Break\n"
        "BREAKS = [Break('nginx-stopped', 'the web server is stopped', 'systemctl stop nginx', 'audit', 'bootstrap')]\n")
    assert [b.name for b in all_breaks([tmp_path])][0] == "nginx-stopped"
    _role(tmp_path / "other", "shop", '"""shop role."""\n', None)
    (tmp_path / "other" / "shop" / "breaks.py").write_text(
        "from vpskit.lab.breaks import Break\nBREAKS = [Break('ufw-disabled', 'x', 'true', 'a', 'b')]\n")
    with pytest.raises(VpskitError, match=f"'ufw-disabled' is in {tmp_path / 'other' / 'shop' / 'breaks.py'} and "
                                          f"{builtin_roles_dir() / 'firewall' / 'breaks.py'}"):
        all_breaks([tmp_path / "other"])
