"""The `vpskit` console script: the same task collection `invoke` finds in the repo's tasks.py."""

import os
import sys
import types


def _import_invoke():
    """invoke, without the unittest.mock its context module imports for MockContext alone (asyncio with it:
    a third of invoke's import time). vpskit never makes a MockContext; were one made, the real Mock is
    imported then. Once invoke is loaded the stand-in leaves sys.modules, so `import unittest.mock` is real."""
    def mock(*args, **kwargs):
        from unittest.mock import Mock
        return Mock(*args, **kwargs)

    stand_in = types.ModuleType("unittest.mock")
    stand_in.Mock = mock
    placed = sys.modules.setdefault("unittest.mock", stand_in) is stand_in
    try:
        import invoke
    finally:
        if placed and sys.modules.get("unittest.mock") is stand_in:
            del sys.modules["unittest.mock"]
    return invoke


def _is_the_command(names=("vpskit",)) -> bool:
    """This process is one of these console scripts itself, not Python code calling main()."""
    return os.path.basename(getattr(sys.modules.get("__main__"), "__file__", None) or "") in names


def end_fast_under_invoke(program_class) -> None:
    """Under the `invoke` (or `inv`) command, which loads tasks.py before it executes the tasks: once they all
    succeeded the process ends as the `vpskit` command's does (_end_now). A failure still takes invoke's own
    way out, with its exit code; Python code that imports tasks.py is left alone."""
    if not _is_the_command(("invoke", "inv")) or getattr(program_class.execute, "ends_fast", False):
        return
    execute = program_class.execute

    def execute_then_end(self, *args, **kwargs):
        execute(self, *args, **kwargs)
        _end_now(0)

    execute_then_end.ends_fast = True
    program_class.execute = execute_then_end


def _end_now(code) -> None:
    """Ends the process as the task finished: atexit handlers run and output is flushed, but the interpreter's
    teardown of the ~500 modules a run loaded (40 ms of CPU, every run) is skipped."""
    import atexit
    atexit._run_exitfuncs()
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120  # what Python itself exits with when its final flush fails
    os._exit(code)


def main() -> None:
    invoke = _import_invoke()
    from .. import __version__
    from .tasks import ns

    program = invoke.Program(namespace=ns, version=__version__, name="vpskit", binary="vpskit")
    if not _is_the_command():
        program.run()
        return
    try:
        program.run()
    except SystemExit as exc:
        _end_now(exc.code)
    _end_now(0)
