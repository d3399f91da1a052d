"""A built-in role's tasks module (its tasks.py), loaded as the command line loads it (vpskit/cli/collect.py)."""

from vpskit.cli.collect import TASKS_FILE, load_tasks
from vpskit.paths import builtin_roles_dir


def role_tasks(role: str):
    return load_tasks(role, builtin_roles_dir() / role / TASKS_FILE)
