"""An apt-cacher-ng bound to the lab bridge, so hosts install packages without direct internet access."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

from ..errors import LabError
from .processes import alive, is_ours, spawn, terminate

PORT = 3142
MARKER = "apt-cacher-ng"


def write_config(conf_dir: Path, mirror: str) -> None:
    """A private copy of the packaged configuration whose Debian backend is only the plain archive."""
    if conf_dir.exists():
        shutil.rmtree(conf_dir)
    shutil.copytree("/etc/apt-cacher-ng", conf_dir)
    (conf_dir / "zz_debconf.conf").unlink(missing_ok=True)
    # a backend list with anything but the plain archive URL makes apt-cacher-ng answer 503
    (conf_dir / "backends_debian").write_text(mirror + "\n")


def start(state_dir: Path, cache_dir: Path, address: str, mirror: str) -> int:
    conf_dir = state_dir / "acng-conf"
    write_config(conf_dir, mirror)
    (state_dir / "acng-log").mkdir(exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        "/usr/sbin/apt-cacher-ng", "-c", str(conf_dir), "ForeGround=1", f"BindAddress={address}", f"Port={PORT}",
        f"CacheDir={cache_dir}", f"LogDir={state_dir / 'acng-log'}", f"PidFile={state_dir / 'acng.pid'}",
        f"SocketPath={state_dir / 'acng.socket'}",
    ]
    pid = spawn(argv, state_dir / "acng.out")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection((address, PORT), timeout=1).close()
            return pid
        except OSError:
            if not alive(pid):
                break
            time.sleep(0.2)
    log = (state_dir / "acng.out").read_text(errors="replace")[-500:]
    raise LabError(f"apt-cacher-ng did not start on {address}:{PORT}: {log}")


def stop(pid: int | None) -> None:
    if pid:
        terminate(pid, MARKER)


def running(pid: int | None) -> bool:
    return is_ours(pid, MARKER)
