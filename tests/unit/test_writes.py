"""Whole-file writes under faults, run for real under `sh`: a dropped connection (stdin ends early), a signal,
and the temp file a killed run left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from vpskit.resources.files import write_file_command

NEW = b"the whole new content\n"


def command(path) -> str:
    return write_file_command(str(path), "root", "root", "0644", backup=False, content=NEW)


def leftovers(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith(".vpskit-"))


def test_a_content_cut_short_replaces_nothing(tmp_path):
    target = tmp_path / "app.conf"
    target.write_bytes(b"old\n")
    done = subprocess.run(["sh", "-c", command(target)], input=NEW[:9], capture_output=True)
    assert done.returncode == 66 and b"arrived incomplete" in done.stderr
    assert target.read_bytes() == b"old\n" and leftovers(tmp_path) == []
    assert subprocess.run(["sh", "-c", command(target)], input=NEW).returncode == 0
    assert target.read_bytes() == NEW


def children_of(pid: int) -> list[str]:
    """The command names of pid's children (mktemp's and dirname's subshells come and go before the traps)."""
    names = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            names.append(Path(f"/proc/{child}/comm").read_text().strip())
        except OSError:  # gone meanwhile
            pass
    return names


def test_a_signal_mid_write_removes_the_temp_file(tmp_path):
    target = tmp_path / "app.conf"
    target.write_bytes(b"old\n")
    writer = subprocess.Popen(["sh", "-c", command(target)], stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    while "cat" not in children_of(writer.pid):  # the traps are set: the shell waits on its cat
        time.sleep(0.01)
    writer.send_signal(signal.SIGTERM)
    writer.stdin.close()
    assert writer.wait() == 129
    assert target.read_bytes() == b"old\n" and leftovers(tmp_path) == []


def test_the_next_write_sweeps_what_a_killed_run_left(tmp_path):
    target = tmp_path / "app.conf"
    old, fresh = tmp_path / ".vpskit-Ab3dE9", tmp_path / ".vpskit-Zz9yX8"
    for leftover in (old, fresh):
        leftover.write_text("half a file")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert subprocess.run(["sh", "-c", command(target)], input=NEW).returncode == 0
    assert leftovers(tmp_path) == [fresh.name]  # a temp file this young may be another writer's
