"""Starting and stopping the lab's own background processes, always by recorded PID."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


def spawn(argv: list[str], log_path: Path) -> int:
    """Starts a detached process writing to a log; returns its PID."""
    log = open(log_path, "ab")
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    finally:
        log.close()
    return process.pid


def is_ours(pid: int | None, marker: str) -> bool:
    """True when PID is alive and its command line contains marker (guards against PID reuse)."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return marker in cmdline


def alive(pid: int) -> bool:
    """True while the process exists and has not exited (a zombie counts as gone)."""
    return Path(f"/proc/{pid}").exists() and not _is_zombie(pid)


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            reaped, _ = os.waitpid(pid, os.WNOHANG)
            if reaped == pid:
                return True
        except ChildProcessError:
            pass
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            return True
        time.sleep(0.2)
    return False


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def terminate(pid: int, marker: str, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after timeout; only if the PID is still the process we started."""
    if not is_ours(pid, marker):
        return
    os.kill(pid, signal.SIGTERM)
    if not wait_gone(pid, timeout) and is_ours(pid, marker):
        os.kill(pid, signal.SIGKILL)
        wait_gone(pid, 5)
