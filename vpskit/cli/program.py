"""The `vpskit` console script: the same task collection `invoke` finds in the repo's tasks.py."""

from invoke import Program

from .. import __version__
from .tasks import ns


def main() -> None:
    Program(namespace=ns, version=__version__, name="vpskit", binary="vpskit").run()
