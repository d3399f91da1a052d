"""One lab host: its own copy of the rootfs, fresh host keys, a static address; booted with systemd-nspawn."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..errors import LabError
from .processes import children, is_ours, spawn, wait_gone

NSPAWN_MARKER = "systemd-nspawn"


def _chroot(root: Path, command: str, stdin: str | None = None) -> None:
    result = subprocess.run(["chroot", str(root), "sh", "-c", command], input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise LabError(f"preparing {root}: `{command}` failed: {result.stderr.strip()}")


def sources_list(mirror: str, release: str) -> str:
    """What a provider's Debian image lists: the release, its updates and the security archive. Pure."""
    base = mirror.rstrip("/")
    return (f"deb {base} {release} main\ndeb {base} {release}-updates main\n"
            f"deb {base}-security {release}-security main\n")


def prepare(rootfs_cache: Path, root: Path, name: str, address_cidr: str, gateway: str, proxy_url: str,
            public_key: str, root_password: str, sources: str) -> str:
    """Copies the cached rootfs and makes it a distinct fresh VPS; returns its ed25519 host public key."""
    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", "--reflink=auto", str(rootfs_cache), str(root)], check=True)
    for key in (root / "etc" / "ssh").glob("ssh_host_*"):
        key.unlink()
    subprocess.run(["ssh-keygen", "-q", "-A", "-f", str(root)], check=True, capture_output=True)
    (root / "etc" / "hostname").write_text(name + "\n")
    (root / "etc" / "hosts").write_text(f"127.0.0.1 localhost\n127.0.1.1 {name}\n::1 localhost ip6-localhost\n")
    (root / "etc" / "machine-id").write_text("")
    network = root / "etc" / "systemd" / "network"
    network.mkdir(parents=True, exist_ok=True)
    (network / "10-host0.network").write_text(
        f"[Match]\nName=host0\n\n[Network]\nAddress={address_cidr}\nGateway={gateway}\nLinkLocalAddressing=no\n"
    )
    # in this container the user manager's stop cannot kill its cgroup (EIO), hangs until its 2-minute
    # timeout, and a login arriving meanwhile waits for it: keep user managers once started
    logind = root / "etc" / "systemd" / "logind.conf.d"
    logind.mkdir(parents=True, exist_ok=True)
    (logind / "90-vpskit-lab.conf").write_text("[Login]\nUserStopDelaySec=infinity\n")
    (root / "etc" / "apt" / "sources.list").write_text(sources)
    (root / "etc" / "apt" / "apt.conf.d" / "01vpskit-lab-proxy").write_text(
        f'Acquire::http::Proxy "{proxy_url}";\nAcquire::https::Proxy "DIRECT";\n'
    )
    ssh_dir = root / "root" / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "authorized_keys").write_text(public_key.strip() + "\n")
    os.chmod(ssh_dir / "authorized_keys", 0o600)
    # as providers hand a VPS over: root may log in, and passwords are accepted
    (root / "etc" / "ssh" / "sshd_config.d" / "50-cloud-init.conf").write_text("PasswordAuthentication yes\n")
    _chroot(root, "sed -i 's/^#\\?PermitRootLogin.*/PermitRootLogin yes/' /etc/ssh/sshd_config")
    _chroot(root, "chpasswd", stdin=f"root:{root_password}\n")
    _chroot(root, "systemctl enable systemd-networkd ssh >/dev/null 2>&1 || systemctl enable systemd-networkd ssh")
    return " ".join((root / "etc" / "ssh" / "ssh_host_ed25519_key.pub").read_text().split()[:2])


def boot(root: Path, name: str, bridge: str, log_path: Path, boots: Path) -> int:
    """Boots the host under the lab's supervisor (supervisor.py), which boots it again when it reboots itself;
    returns the supervisor's PID (its command line carries --machine=NAME, as nspawn's does)."""
    argv = [
        "systemd-nspawn", "--register=no", "--keep-unit", "--boot", f"--directory={root}", f"--machine={name}",
        f"--network-bridge={bridge}", "--console=passive", "--resolv-conf=off", "--timezone=off",
    ]
    return spawn([sys.executable, "-m", "vpskit.lab.supervisor", name, str(boots), "--", *argv], log_path)


def container_inits(pid: int) -> list[int]:
    """The container's init: nspawn's children, nspawn being the supervisor's child."""
    return [init for nspawn in children(pid) for init in children(nspawn)]


def reboot(pid: int, machine: str) -> None:
    """Asks the container's own init to reboot (SIGINT: systemd starts ctrl-alt-del.target, a reboot)."""
    if not is_ours(pid, f"--machine={machine}"):
        raise LabError(f"{machine} is not running")
    for init in container_inits(pid):
        try:
            os.kill(init, signal.SIGINT)
        except ProcessLookupError:
            pass


def wait_tcp(address: str, port: int, timeout: float) -> bool:
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((address, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.3)
    return False


def power_off(pid: int, machine: str, timeout: float = 60.0) -> None:
    """Asks the container's own init to power off (SIGRTMIN+4), waits, and only then forces nspawn down."""
    marker = f"--machine={machine}"
    if not is_ours(pid, marker):
        return
    for leader in container_inits(pid):
        try:
            os.kill(leader, signal.SIGRTMIN + 4)
        except ProcessLookupError:
            pass
    if wait_gone(pid, timeout):
        return
    if is_ours(pid, marker):
        os.kill(pid, signal.SIGTERM)
        if not wait_gone(pid, 10) and is_ours(pid, marker):
            for nspawn in children(pid):
                os.kill(nspawn, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
            wait_gone(pid, 5)


INOTIFY_INSTANCES = Path("/proc/sys/fs/inotify/max_user_instances")
# each booted container's systemd, journald and udev hold inotify instances of root: Debian's default of 128
# runs out at about a dozen hosts, and the next one fails to boot with "Too many open files"
LAB_INOTIFY_INSTANCES = 1024


def raise_inotify_limit(log) -> None:
    """Raises root's inotify instance limit to what a dozen-host lab needs (never lowers it)."""
    try:
        current = int(INOTIFY_INSTANCES.read_text())
        if current < LAB_INOTIFY_INSTANCES:
            INOTIFY_INSTANCES.write_text(f"{LAB_INOTIFY_INSTANCES}\n")
            log(f"raised fs.inotify.max_user_instances from {current} to {LAB_INOTIFY_INSTANCES} (containers need them)")
    except OSError as exc:
        log(f"could not raise fs.inotify.max_user_instances ({exc}); many lab hosts may fail to boot")
