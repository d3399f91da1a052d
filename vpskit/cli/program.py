"""The `vpskit` console script: the same task collection `invoke` finds in the repo's tasks.py."""

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


def main() -> None:
    invoke = _import_invoke()
    from .. import __version__
    from .tasks import ns

    invoke.Program(namespace=ns, version=__version__, name="vpskit", binary="vpskit").run()
