"""A user's ~/.ssh/authorized_keys that is a symbolic link is never read nor written through as root.

The fact runs for real under `sh`; getent and id are stand-ins that answer for one user whose home is a tmp
folder (the test machine's own users are left alone).
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.unit.factstub import StubFacts
from vpskit.facts import AuthorizedKeysFact
from vpskit.resources import AuthorizedKeys

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperatorKey operator@laptop"


@pytest.fixture
def home(tmp_path, monkeypatch):
    bin_dir, home = tmp_path / "bin", tmp_path / "home" / "eve"
    bin_dir.mkdir()
    (home / ".ssh").mkdir(parents=True)
    (bin_dir / "getent").write_text(f"#!/bin/sh\necho 'eve:x:1500:1500::{home}:/bin/bash'\n")
    (bin_dir / "id").write_text("#!/bin/sh\necho eve\n")
    for tool in ("getent", "id"):
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return home


def read_fact(fact):
    done = subprocess.run(["sh", "-c", fact.command()], capture_output=True, text=True)
    return fact.parse(done.stdout, done.returncode)


@pytest.mark.parametrize("planted", ["file", "folder"])
def test_a_planted_link_is_reported_and_blocks_the_step(home, tmp_path, planted):
    secret = tmp_path / "shadow"
    secret.write_text("root:$y$secret-hash:19000::::::\n")
    if planted == "file":
        (home / ".ssh" / "authorized_keys").symlink_to(secret)
    else:
        (home / ".ssh").rmdir()
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "authorized_keys").write_text("root:$y$secret-hash\n")
        (home / ".ssh").symlink_to(tmp_path / "elsewhere")
    fact = AuthorizedKeysFact("eve")
    live = read_fact(fact)
    assert live["link"] and live["content"] is None  # nothing read through it
    outcome = AuthorizedKeys("eve", [KEY]).check(StubFacts([(fact, live)]))
    assert outcome.blocked and "symbolic link" in outcome.reason


def test_a_plain_file_is_read_as_before(home):
    (home / ".ssh" / "authorized_keys").write_text(KEY + "\n")
    live = read_fact(AuthorizedKeysFact("eve"))
    assert live["content"] == KEY + "\n" and not live["link"]
