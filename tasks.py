"""invoke entry point: `invoke --list` shows vpskit's tasks (the `vpskit` command runs the same ones)."""

from vpskit.cli.tasks import ns  # noqa: F401  (invoke looks for `ns`)
