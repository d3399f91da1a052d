"""bench role: the benchmark's harden profile as a user role, so the bench times `vpskit role bench --roles-path …`."""

from pathlib import Path

from benchmarks.vpskit_profile import Profile


def plan(ctx):
    """The same plan the API row runs; the admin's key is the public half of the inventory's vpskit_ssh_key."""
    key = Path(str(ctx["vpskit_ssh_key"]) + ".pub").read_text().strip()
    return Profile(key).plan(ctx)
