"""The lab's bridge: created with an address for the proxy, removed with the lab."""

from __future__ import annotations

import subprocess

from ..errors import LabError


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


def bridge_exists(name: str) -> bool:
    return _ip("link", "show", "dev", name, check=False).returncode == 0


def ensure_bridge(name: str, address_cidr: str) -> bool:
    """Creates the bridge with its address; returns False when it already existed."""
    if bridge_exists(name):
        if address_cidr.split("/")[0] not in _ip("-4", "addr", "show", "dev", name).stdout:
            _ip("addr", "add", address_cidr, "dev", name)
        _ip("link", "set", name, "up")
        return False
    _ip("link", "add", name, "type", "bridge")
    _ip("addr", "add", address_cidr, "dev", name)
    _ip("link", "set", name, "up")
    return True


def remove_bridge(name: str) -> None:
    remove_link(name)


def remove_link(name: str) -> None:
    """Deletes a network interface if it exists (e.g. a host-side veth left by a container that died)."""
    if bridge_exists(name):
        _ip("link", "del", name)


def veth_name(machine: str) -> str:
    """The host-side interface systemd-nspawn creates for --network-bridge (IFNAMSIZ allows 15 characters)."""
    return f"vb-{machine}"[:15]
