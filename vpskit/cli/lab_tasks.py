"""lab.* tasks: fresh local Debian "VPS" hosts to practise on and to test against."""

from __future__ import annotations

import inspect
import ipaddress
import json as jsonlib
import os
import random
import re
import sys
from pathlib import Path

from invoke import Collection, Task, task

from ..errors import VpskitError
from ..paths import LAB_INVENTORY
from ..roleindex import LAB_FILE, LabLayout, lab_layouts, role_folders
from .optional_positional import positional_unless
from .options import fail

LAB_HELP = {"lab": "lab name (default lab): labs with different names and subnets run side by side",
            "subnet": "the lab bridge's /24 as its first three octets (default 10.213.0)"}


def _lab(name: str, subnet: str):
    """A Lab from the command line's name and subnet, refused with a clear error when either is malformed."""
    from ..lab import Lab
    if not re.fullmatch(r"[a-z][a-z0-9]{0,7}", name):
        fail(f"lab name {name!r}: 1-8 lowercase letters and digits, starting with a letter")
    try:
        ipaddress.IPv4Network(f"{subnet}.0/24")
    except ValueError:
        fail(f"lab subnet {subnet!r}: give the first three octets of a /24, e.g. 10.213.0")
    return Lab(name=name, subnet_prefix=subnet)


UP_OPTIONS = {"hosts": 1, "release": "bookworm", "lab": "lab", "subnet": "10.213.0", "inventory": None}


def up_task(layouts: dict[str, LabLayout]) -> Task:
    """lab.up, with a flag per role's lab layout (a role's lab.yml, named after the role) placing the hosts in its
    groups."""
    clashing = sorted(set(layouts) & set(UP_OPTIONS))
    for name in clashing:
        print(f"warning: role {name}'s {LAB_FILE}: {name!r} is already an option of lab.up: no flag", file=sys.stderr)
    flags = {name: layout for name, layout in layouts.items() if name not in clashing}
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    # the flags after --release, where the one flag of this kind always stood: the short options stay as they were
    order = [("hosts", 1), ("release", "bookworm"), *((name, False) for name in flags),
             *((k, v) for k, v in UP_OPTIONS.items() if k not in ("hosts", "release"))]
    signature = inspect.Signature([inspect.Parameter("c", kind),
                                   *(inspect.Parameter(k, kind, default=v) for k, v in order)])

    def up(c, *args, **kwargs):
        """Boot fresh lab hosts (root + password, like a new VPS) and write their inventory."""
        given = signature.bind(c, *args, **kwargs)
        given.apply_defaults()
        values = dict(given.arguments)
        chosen = [flags[name] for name in flags if values.pop(name)]
        _up(chosen, **{k: values[k] for k in UP_OPTIONS})
    up.__signature__ = signature
    return task(up, help={"hosts": "how many hosts (default 1)", "release": "bookworm (Debian 12) or trixie (Debian 13)",
                          **{name: layout.help for name, layout in flags.items()},
                          "inventory": f"where to write the lab's inventory (default {LAB_INVENTORY})", **LAB_HELP})


def _up(layouts: list[LabLayout], hosts, release, lab, subnet, inventory) -> None:
    target = Path(inventory) if inventory else LAB_INVENTORY
    machines = _lab(lab, subnet)
    try:
        running = machines.up(int(hosts), release)
        names = [h.name for h in running]
        groups: dict[str, list[str]] = {}
        for layout in layouts:
            for group, members in layout.place(names).items():
                placed = groups.setdefault(group, [])
                placed += [m for m in members if m not in placed]
        machines.write_inventory(target, groups)
    except VpskitError as exc:
        fail(str(exc))
    for host in running:
        print(f"{host.name}: {host.address} (Debian {host.release})")
    print(f"inventory: {os.path.relpath(target)} — next: invoke bootstrap -i {os.path.relpath(target)}")


@task(help={"inventory": f"the inventory lab.up wrote, removed too (default {LAB_INVENTORY})", **LAB_HELP})
def down(c, lab="lab", subnet="10.213.0", inventory=None):
    """Stop the lab hosts, the apt proxy and the bridge; remove the lab's inventory (the rootfs cache stays)."""
    try:
        _lab(lab, subnet).down()
    except VpskitError as exc:
        fail(str(exc))
    (Path(inventory) if inventory else LAB_INVENTORY).unlink(missing_ok=True)
    print("lab removed")


@task(help={"json": "print JSON: each host with its address, release, state, and the lab's key files", **LAB_HELP})
def status(c, lab="lab", subnet="10.213.0", json=False):
    """List lab hosts and whether each is running and answering SSH."""
    machines = _lab(lab, subnet)
    rows = machines.status()
    if json:
        print(jsonlib.dumps({"hosts": rows, "key": str(machines.key_path),
                             "known_hosts": str(machines.known_hosts_path),
                             "password_file": str(machines.password_path), "gateway": machines.gateway,
                             "bridge": machines.bridge}, indent=2))
        return
    if not rows:
        print("no lab hosts (invoke lab.up)")
    for row in rows:
        print(f"{row['name']}: {row['address']} {row['release']} running={row['running']} ssh={row['ssh']}")


@task(help={"name": "lab host name, e.g. lab1", "user": "login user (default root)", **LAB_HELP})
def ssh(c, name, user="root", lab="lab", subnet="10.213.0"):
    """Open an interactive SSH session on a lab host with the lab key."""
    machines = _lab(lab, subnet)
    host = machines.load_state().hosts.get(name)
    if host is None:
        fail(f"no lab host named {name!r} (invoke lab.status)")
    os.execvp("ssh", ["ssh", "-i", str(machines.key_path), "-o", f"UserKnownHostsFile={machines.known_hosts_path}",
                      "-o", "StrictHostKeyChecking=yes", f"{user}@{host.address}"])


@task(name="break", positional=["host"], klass=positional_unless("host", "list_"),
      help={"host": "lab host to break (its inventory name)",
            "scenario": "which misconfiguration (default: one at random, not named: find it)",
            "list_": "describe every scenario: what it does, what finds it, what repairs it",
            "inventory": f"the lab's inventory (default {LAB_INVENTORY})"})
def break_(c, host=None, scenario=None, list_=False, inventory=None):
    """Apply a named misconfiguration to a lab host, for students to find (audit, check) and repair (bootstrap)."""
    from ..lab.breaks import all_breaks, find, lab_addresses, refuse_non_lab
    from .collect import env_roles_paths
    if list_ or not host:
        try:
            breaks = all_breaks(env_roles_paths())
        except VpskitError as exc:
            fail(str(exc))
        for b in breaks:
            print(f"{b.name}: {b.what}\n    found by: {b.found_by}\n    repaired by: {b.repaired_by}")
        return
    from ..onehost import locked_session
    from .common import load_project
    try:
        project = load_project(inventory or str(LAB_INVENTORY), None)
        breaks = all_breaks(project.library.user_paths)
        chosen = find(scenario, breaks) if scenario else random.choice(breaks)
        hosts = project.inventory.select(host)
        refuse_non_lab(hosts, lab_addresses())
        for target in hosts:
            with locked_session(target, project.library.all()) as session:  # never in the middle of a run
                result = session.connection.run(chosen.command)
            if not result.ok:
                fail(session.masker.mask(f"{target.name}: scenario {chosen.name} did not apply (exit {result.rc}): "
                                         f"{(result.stderr or result.stdout).strip()[-300:]}"))
    except VpskitError as exc:
        fail(str(exc))
    named = f"scenario {chosen.name}" if scenario else "a misconfiguration (lab.break --list shows what it may be)"
    print(f"{host}: applied {named}. Find it with `invoke audit` and `invoke check`; repair it with `invoke bootstrap`.")


def namespace() -> Collection:
    """The lab's tasks; lab.up's flags from the lab layouts of the roles (VPSKIT_ROLES_PATH's first)."""
    from .collect import env_roles_paths
    try:
        layouts = lab_layouts(role_folders(env_roles_paths()))
    except VpskitError as exc:
        print(f"warning: {exc}: lab.up has no role flags", file=sys.stderr)
        layouts = {}
    return Collection(up_task(layouts), down, status, ssh, break_)
