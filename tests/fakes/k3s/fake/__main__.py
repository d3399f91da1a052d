"""`python -m tests.fakes.k3s.fake ARGS`: runs the fake from the source tree, as the built zipapp does."""

from .cli import run

run()
