"""What killed runs of other writers leave (downloads, uploads, K3s's work folders) is swept by the next one.

Over this machine's real `sh`: a download from a file:// URL (curl reads it), with a dead run's temp file
beside the destination (two hours old) and one a running writer could still own (new).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time

import pytest

from vpskit.facts import FileFact, FileState
from vpskit.resources import Download
from vpskit.resources.files import sweep_command
from tests.unit.factstub import StubFacts


class Shell:
    name = "h1"

    def run(self, command, step, stdin=None, check=True, timeout=None):
        done = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
        assert done.returncode == 0 or not check, done.stderr
        return done


def age(path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_a_download_sweeps_a_killed_downloads_temp_file_and_keeps_a_recent_one(tmp_path):
    if not shutil.which("curl"):
        pytest.skip("curl is not installed here")
    source, dest = tmp_path / "release.bin", tmp_path / "bin" / "tool"
    source.write_bytes(b"tool\n")
    dest.parent.mkdir()
    (dest.parent / ".vpskit-dl-Dead01").write_bytes(b"half")
    age(dest.parent / ".vpskit-dl-Dead01", 2)
    (dest.parent / ".vpskit-dl-Live01").write_bytes(b"arriving")
    res = Download(f"file://{source}", str(dest), hashlib.sha256(b"tool\n").hexdigest(), owner="root",
                   group="root", mode="0755")
    res.apply(Shell(), res.check(StubFacts([(FileFact(str(dest)), FileState("absent"))])))
    assert sorted(os.listdir(dest.parent)) == [".vpskit-dl-Live01", "tool"]


def test_a_folder_sweep_removes_old_work_folders_with_their_content_and_nothing_else(tmp_path):
    dead, live, other = tmp_path / ".vpskit-k3s-Dead01", tmp_path / ".vpskit-k3s-Live01", tmp_path / "k3s"
    dead.mkdir()
    (dead / "k3s").write_bytes(b"half a binary")
    live.mkdir()
    other.write_bytes(b"the binary")
    for path in (dead, other):
        age(path, 2)
    subprocess.run(["sh", "-c", sweep_command(str(tmp_path), ".vpskit-k3s-??????", 60, kind="d")], check=True)
    assert sorted(os.listdir(tmp_path)) == [".vpskit-k3s-Live01", "k3s"]


def test_the_k3s_install_sweeps_its_work_folders_and_cleans_up_on_a_signal():
    from roles.k3s.binary import install_script
    script = install_script("v1.36.4+k3s1", "https://example.org/dl", "amd64", airgap=False)
    assert "find /usr/local/bin -maxdepth 1 -type d -name '.vpskit-k3s-??????' -mmin +60" in script
    assert script.index("trap 'exit 129'") < script.index("fetch ")
