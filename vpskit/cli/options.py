"""What every task module needs when the command line is parsed: the shared option help and how a task fails.

Task modules import only this and invoke when they load; each task imports what it runs in its body, so
`vpskit --help` reads no inventory, role, SSH library or template engine.
"""

from __future__ import annotations

import sys

from invoke import Exit

# hosts at once: a host's run mostly waits on its network, so 32 hosts run together rather than in waves
DEFAULT_FORKS = 50

# help texts for the options every run task takes
RUN_HELP = {
    "inventory": "inventory file or directory (default: inventory/hosts.yml)",
    "limit": "only these hosts or groups (comma-separated)",
    "check": "check mode: report what would change, change nothing (exit 2 when something would)",
    "diff": "show unified diffs of changed files",
    "set_": "override a variable: --set key=value (repeatable; highest precedence)",
    "json": "also write a machine-readable report to this file",
    "forks": f"hosts run in parallel (default {DEFAULT_FORKS})",
    "trust_new_hosts": "accept and record host keys not yet in known_hosts",
    "quiet": "show only changes and failures, not ok steps",
    "roles_path": "folders of your own roles, searched before the built-in ones (':'-separated)",
    "playbook": "a playbook of your own instead of the built-in bootstrap plays",
}


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise Exit(code=1)
