"""lab.* tasks: fresh local Debian "VPS" hosts to practise on and to test against."""

from __future__ import annotations

import os

from invoke import Collection, task

from ..errors import VpskitError
from ..lab import Lab
from ..paths import LAB_INVENTORY
from .common import fail



@task(help={"hosts": "how many hosts (default 1)", "release": "bookworm (Debian 12) or trixie (Debian 13)",
            "k3s": "put the first host in k3s_servers and the others in k3s_agents (K3s is downloaded: needs "
                   "the internet, or k3s_airgap_dir)"})
def up(c, hosts=1, release="bookworm", k3s=False):
    """Boot fresh lab hosts (root + password, like a new VPS) and write inventory/lab.yml."""
    lab = Lab()
    try:
        running = lab.up(int(hosts), release)
        lab.write_inventory(LAB_INVENTORY, k3s=k3s)
    except VpskitError as exc:
        fail(str(exc))
    for host in running:
        print(f"{host.name}: {host.address} (Debian {host.release})")
    print(f"inventory: {os.path.relpath(LAB_INVENTORY)} — next: invoke bootstrap -i {os.path.relpath(LAB_INVENTORY)}")


@task
def down(c):
    """Stop the lab hosts, the apt proxy and the bridge; remove inventory/lab.yml (the rootfs cache stays)."""
    try:
        Lab().down()
    except VpskitError as exc:
        fail(str(exc))
    LAB_INVENTORY.unlink(missing_ok=True)
    print("lab removed")


@task
def status(c):
    """List lab hosts and whether each is running and answering SSH."""
    rows = Lab().status()
    if not rows:
        print("no lab hosts (invoke lab.up)")
    for row in rows:
        print(f"{row['name']}: {row['address']} {row['release']} running={row['running']} ssh={row['ssh']}")


@task(help={"name": "lab host name, e.g. lab1", "user": "login user (default root)"})
def ssh(c, name, user="root"):
    """Open an interactive SSH session on a lab host with the lab key."""
    lab = Lab()
    host = lab.load_state().hosts.get(name)
    if host is None:
        fail(f"no lab host named {name!r} (invoke lab.status)")
    os.execvp("ssh", ["ssh", "-i", str(lab.key_path), "-o", f"UserKnownHostsFile={lab.known_hosts_path}",
                      "-o", "StrictHostKeyChecking=yes", f"{user}@{host.address}"])


def namespace() -> Collection:
    return Collection(up, down, status, ssh)
