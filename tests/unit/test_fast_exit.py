"""The `invoke` command ends as the `vpskit` command does once its tasks succeeded (vpskit/cli/program.py)."""

from __future__ import annotations

import sys
import types

from vpskit.cli import program


class FakeProgram:
    """Stands in for invoke.Program: execute() records that the tasks ran."""

    def __init__(self):
        self.ran = False

    def execute(self):
        self.ran = True


def fake_main(monkeypatch, path: str) -> None:
    monkeypatch.setitem(sys.modules, "__main__", types.SimpleNamespace(__file__=path))


def test_under_invoke_the_process_ends_right_after_the_tasks(monkeypatch):
    ended = []
    monkeypatch.setattr(program, "_end_now", ended.append)
    fake_main(monkeypatch, "/venv/bin/invoke")
    cls = type("Program", (FakeProgram,), {})
    program.end_fast_under_invoke(cls)
    program.end_fast_under_invoke(cls)  # loading tasks.py twice wraps once
    instance = cls()
    instance.execute()
    assert instance.ran and ended == [0]


def test_a_failing_task_leaves_by_invokes_own_way(monkeypatch):
    ended = []
    monkeypatch.setattr(program, "_end_now", ended.append)
    fake_main(monkeypatch, "/venv/bin/inv")

    class Failing(FakeProgram):
        def execute(self):
            raise SystemExit(3)

    program.end_fast_under_invoke(Failing)
    try:
        Failing().execute()
    except SystemExit as exc:
        assert exc.code == 3
    assert ended == []


def test_python_code_importing_tasks_py_is_left_alone(monkeypatch):
    fake_main(monkeypatch, "/venv/bin/pytest")
    cls = type("Program", (FakeProgram,), {})
    original = cls.execute
    program.end_fast_under_invoke(cls)
    assert cls.execute is original
