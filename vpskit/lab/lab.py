"""The Lab: brings hosts up one after another, records them, writes their inventory, tears it all down."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..connection import Connection, Target
from ..errors import ConnectError, LabError
from ..knownlogins import FILE_NAME as KNOWN_LOGINS, KnownLogins, host_key
from . import machine, network, proxy
from .mirror import debian_mirror
from .processes import is_ours
from .rootfs import ensure_rootfs

REQUIRED_COMMANDS = {"systemd-nspawn": "systemd-container", "mmdebstrap": "mmdebstrap",
                     "apt-cacher-ng": "apt-cacher-ng", "ssh-keygen": "openssh-client", "ip": "iproute2"}


@dataclass
class LabHost:
    name: str
    address: str
    release: str
    pid: int | None = None


@dataclass
class LabState:
    bridge: str
    subnet_prefix: str
    proxy_pid: int | None = None
    hosts: dict[str, LabHost] = field(default_factory=dict)


class Lab:
    """A named lab: its state, keys and hosts under state_dir; rootfs and apt cache under cache_dir."""

    def __init__(self, name: str = "lab", subnet_prefix: str = "10.213.0", state_root: Path = Path("/var/lib/vpskit"),
                 cache_dir: Path = Path("/var/cache/vpskit"), log=print):
        self.name = name
        self.state_dir = state_root / name
        self.cache_dir = cache_dir
        self.bridge = f"vpskit-{name}"[:15]
        self.subnet_prefix = subnet_prefix
        self.gateway = f"{subnet_prefix}.1"
        self.log = log

    # -- files ---------------------------------------------------------------------------------
    @property
    def key_path(self) -> Path:
        return self.state_dir / "id_ed25519"

    @property
    def known_hosts_path(self) -> Path:
        return self.state_dir / "known_hosts"

    @property
    def password_path(self) -> Path:
        return self.state_dir / "root-password"

    def _state_file(self) -> Path:
        return self.state_dir / "state.json"

    def load_state(self) -> LabState:
        path = self._state_file()
        if not path.exists():
            return LabState(self.bridge, self.subnet_prefix)
        data = json.loads(path.read_text())
        hosts = {n: LabHost(**h) for n, h in data.pop("hosts", {}).items()}
        return LabState(**data, hosts=hosts)

    def save_state(self, state: LabState) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._state_file().with_suffix(".tmp")
        data = asdict(state)
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        tmp.replace(self._state_file())

    # -- checks --------------------------------------------------------------------------------
    @staticmethod
    def preflight() -> None:
        """Fails with what to install when this machine cannot run a lab."""
        if os.uname().sysname != "Linux":
            raise LabError("the lab needs Linux with systemd-nspawn")
        if os.geteuid() != 0:
            raise LabError("the lab needs root (it creates a bridge and boots containers); rerun as root")
        missing = [pkg for cmd, pkg in REQUIRED_COMMANDS.items() if not shutil.which(cmd) and
                   not Path(f"/usr/sbin/{cmd}").exists()]
        if missing:
            raise LabError(f"the lab needs these Debian packages: apt-get install {' '.join(sorted(set(missing)))}")

    # -- up ------------------------------------------------------------------------------------
    def up(self, count: int = 1, release: str = "bookworm", first: int = 1) -> list[LabHost]:
        """Ensures hosts <name><first>..<name><count> run (new ones from `release`); returns every host."""
        self.preflight()
        state = self.load_state()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._ensure_key()
        mirror = debian_mirror()
        if not mirror:
            raise LabError("no Debian archive found in /etc/apt/sources.list*; set VPSKIT_LAB_MIRROR to its URL")
        machine.raise_inotify_limit(self.log)
        if network.ensure_bridge(self.bridge, f"{self.gateway}/24"):
            self.log(f"created bridge {self.bridge} ({self.gateway}/24)")
        if not proxy.running(state.proxy_pid):
            state.proxy_pid = proxy.start(self.state_dir, self.cache_dir / f"apt-cacher-ng-{self.name}",
                                          self.gateway, mirror)
            self.log(f"apt-cacher-ng listening on {self.gateway}:{proxy.PORT} (pid {state.proxy_pid})")
        self.save_state(state)
        for index in range(first, count + 1):
            name = f"{self.name}{index}"
            host = state.hosts.get(name)
            # a running host is kept even if its sshd moved off port 22
            if host and is_ours(host.pid, f"--machine={name}"):
                continue
            host = self._start_host(name, index, release, mirror, state)
            state.hosts[name] = host
            self.save_state(state)
        self.write_known_hosts(state)
        return list(state.hosts.values())

    def _ensure_key(self) -> None:
        if not self.key_path.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"vpskit-{self.name}",
                            "-f", str(self.key_path)], check=True)
        if not self.password_path.exists():
            self.password_path.write_text(secrets.token_urlsafe(12) + "\n")
            os.chmod(self.password_path, 0o600)

    def _start_host(self, name: str, index: int, release: str, mirror: str, state: LabState) -> LabHost:
        rootfs = ensure_rootfs(self.cache_dir, release, mirror, self.log)
        address = f"{self.subnet_prefix}.{10 + index}"
        root = self.state_dir / "hosts" / name
        started = time.monotonic()
        host_key = machine.prepare(
            rootfs, root, name, f"{address}/24", self.gateway, f"http://{self.gateway}:{proxy.PORT}",
            Path(f"{self.key_path}.pub").read_text(), self.password_path.read_text().strip(),
            machine.sources_list(mirror, release),
        )
        (self.state_dir / f"{name}.hostkey").write_text(f"{address} {host_key}\n")
        network.remove_link(network.veth_name(name))  # left behind when an earlier container died
        self.boots_path(name).unlink(missing_ok=True)
        pid = machine.boot(root, name, self.bridge, self.state_dir / f"{name}.console.log", self.boots_path(name))
        host = LabHost(name, address, release, pid)
        state.hosts[name] = host
        self.write_known_hosts(state)
        self._wait_ready(host)
        self.log(f"{name}: Debian {release} at {address} ready in {time.monotonic() - started:.1f}s (pid {pid})")
        return host

    def _wait_ready(self, host: LabHost, timeout: float = 180) -> None:
        """Waits for sshd (a loaded 2-core machine once took over 90 s), then for systemd to finish booting
        (one host at a time avoids failed units)."""
        if not machine.wait_tcp(host.address, 22, timeout):
            raise LabError(f"{host.name}: sshd did not answer on {host.address}:22 within {timeout:.0f}s; "
                           f"see {self.state_dir / (host.name + '.console.log')}")
        target = Target(host.name, host.address, key_file=str(self.key_path),
                        known_hosts=[str(self.known_hosts_path)], connect_timeout=5, connect_retries=5)
        try:
            with Connection(target) as conn:
                result = conn.run("timeout 60 systemctl is-system-running --wait; systemctl --failed --no-legend --plain")
        except ConnectError as exc:
            raise LabError(f"{host.name}: cannot log in: {exc}") from None
        lines = result.stdout.split()
        if lines and lines[0] not in ("running",):
            self.log(f"{host.name}: system state {result.stdout.strip()}")

    # -- restarts ------------------------------------------------------------------------------
    def boots_path(self, name: str) -> Path:
        return self.state_dir / f"{name}.boots"

    def boots(self, name: str) -> list[float]:
        """When the lab (re)booted host NAME, UTC seconds, oldest first: one entry per boot."""
        try:
            return [float(line) for line in self.boots_path(name).read_text().split()]
        except OSError:
            return []

    def reboot(self, name: str, timeout: float = 180, port: int = 22) -> None:
        """Reboots host NAME as `systemctl reboot` inside it would, and waits until it is back and sshd answers
        on `port` (a hardened host's may have moved); the host keeps its disk, address and keys."""
        host = self.load_state().hosts.get(name)
        if host is None:
            raise LabError(f"no lab host named {name!r}")
        before = len(self.boots(name))
        machine.reboot(host.pid, name)
        self.wait_booted(name, before, timeout, port)

    def wait_booted(self, name: str, boots_before: int, timeout: float = 180, port: int = 22) -> None:
        """Waits until host NAME has booted again since it had `boots_before` boots, and sshd answers on port."""
        host = self.load_state().hosts[name]
        deadline = time.monotonic() + timeout
        while len(self.boots(name)) <= boots_before:
            if not is_ours(host.pid, f"--machine={name}"):
                raise LabError(f"{name}: the host ended instead of rebooting; see "
                               f"{self.state_dir / (name + '.console.log')}")
            if time.monotonic() > deadline:
                raise LabError(f"{name}: not booted again within {timeout:.0f}s")
            time.sleep(0.3)
        if not machine.wait_tcp(host.address, port, max(5.0, deadline - time.monotonic())):
            raise LabError(f"{name}: booted again but sshd did not answer on {host.address}:{port}")

    def write_known_hosts(self, state: LabState) -> None:
        lines = []
        for name in state.hosts:
            keyfile = self.state_dir / f"{name}.hostkey"
            if keyfile.exists():
                lines.append(keyfile.read_text().strip())
        self.known_hosts_path.write_text("\n".join(lines) + ("\n" if lines else ""))

    # -- inventory -----------------------------------------------------------------------------
    def inventory_text(self, state: LabState | None = None, groups: dict[str, list[str]] | None = None) -> str:
        """The lab's inventory; `groups`: further groups (name → lab hosts), as a role's lab layout places them."""
        state = state or self.load_state()
        lines = [
            "# Written by `invoke lab.up`, removed by `invoke lab.down`: the local lab hosts.",
            "all:",
            "  children:",
            f"    {self.name}:",
            "      vars:",
            "        vpskit_user: root",
            f"        vpskit_ssh_key: {self.key_path}",
            f"        vpskit_known_hosts: {self.known_hosts_path}",
            "      hosts:",
        ]
        for host in state.hosts.values():
            lines += [f"        {host.name}:", f"          vpskit_host: {host.address}"]
        for group, members in (groups or {}).items():
            if members:
                lines += [f"    {group}:", "      hosts:", *(f"        {name}:" for name in members)]
        return "\n".join(lines) + "\n"

    def write_inventory(self, path: Path, groups: dict[str, list[str]] | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(self.inventory_text(groups=groups))
        tmp.replace(path)

    # -- down / status -------------------------------------------------------------------------
    def stop_host(self, name: str) -> None:
        state = self.load_state()
        host = state.hosts.pop(name, None)
        if host is None:
            return
        if host.pid:
            machine.power_off(host.pid, name)
        network.remove_link(network.veth_name(name))
        shutil.rmtree(self.state_dir / "hosts" / name, ignore_errors=True)
        for suffix in (".hostkey", ".console.log", ".boots"):
            (self.state_dir / f"{name}{suffix}").unlink(missing_ok=True)
        self.save_state(state)
        self.write_known_hosts(state)
        # a host booted again at this address is fresh: no login of the old one applies to it
        logins = KnownLogins(self.state_dir / KNOWN_LOGINS)
        if logins.path.exists():
            logins.update({host_key(host.address, 22): None})

    def down(self) -> None:
        """Stops every host, the proxy and the bridge, and removes the lab's state (the rootfs cache stays)."""
        state = self.load_state()
        for name in list(state.hosts):
            self.log(f"stopping {name}")
            self.stop_host(name)
        proxy.stop(state.proxy_pid)
        network.remove_bridge(self.bridge)
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def status(self) -> list[dict]:
        state = self.load_state()
        rows = []
        for host in state.hosts.values():
            rows.append({
                "name": host.name, "address": host.address, "release": host.release, "pid": host.pid,
                "running": is_ours(host.pid, f"--machine={host.name}"),
                "ssh": machine.wait_tcp(host.address, 22, 0.5),
            })
        return rows
