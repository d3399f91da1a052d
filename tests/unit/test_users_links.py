"""A user's ~/.ssh/authorized_keys that is a symbolic link is never read nor written through as root.

The fact runs for real under `sh`; getent and id are stand-ins that answer for one user whose home is a tmp
folder (the test machine's own users are left alone).
"""

from __future__ import annotations

import os
import subprocess
import tempfile

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


@pytest.fixture
def nobodys_home():
    """A home owned by the machine's `nobody`, in a folder nobody can traverse (pytest's own tmp is 0700)."""
    import pwd
    import shutil
    import tempfile
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody here")
    if os.geteuid() != 0:
        pytest.skip("writing as another user needs root")
    top = tempfile.mkdtemp(prefix="vpskit-users-")
    os.chmod(top, 0o755)
    home = os.path.join(top, "home")
    os.mkdir(home)
    os.chown(home, user.pw_uid, user.pw_gid)
    yield home, user
    shutil.rmtree(top)


def write_keys(home: str, group: str) -> subprocess.CompletedProcess:
    """Run from a folder only root may enter, as a root login's home is (find must still work as the user)."""
    from vpskit.resources.users import authorized_keys_command
    with tempfile.TemporaryDirectory() as roots_own:
        return subprocess.run(["sh", "-c", authorized_keys_command(f"{home}/.ssh", "nobody", group,
                                                                   (KEY + "\n").encode())],
                              input=KEY + "\n", capture_output=True, text=True, cwd=roots_own)


def test_the_keys_are_written_by_the_user_and_a_link_swapped_in_later_is_replaced_not_followed(nobodys_home,
                                                                                            monkeypatch):
    import grp
    home, user = nobodys_home
    group = grp.getgrgid(user.pw_gid).gr_name
    # who makes the temp file in ~/.ssh: the user, so swapping it for a link gains nothing
    spy = os.path.join(os.path.dirname(home), "bin")
    os.mkdir(spy)
    with open(os.path.join(spy, "mktemp"), "w") as fh:
        fh.write(f"#!/bin/sh\nid -u >> {spy}/uids\nexec /usr/bin/mktemp \"$@\"\n")
    os.chmod(os.path.join(spy, "mktemp"), 0o755)
    os.chmod(spy, 0o777)
    monkeypatch.setenv("PATH", f"{spy}:{os.environ['PATH']}")
    assert write_keys(home, group).returncode == 0
    assert open(os.path.join(spy, "uids")).read() == f"{user.pw_uid}\n"
    keys = os.path.join(home, ".ssh", "authorized_keys")
    info = os.stat(keys)
    assert open(keys).read() == KEY + "\n" and (info.st_uid, oct(info.st_mode & 0o777)) == (user.pw_uid, "0o600")
    target = os.path.join(os.path.dirname(home), "root-only")  # a link planted after the fact was read
    with open(target, "w") as fh:
        fh.write("root:secret\n")
    os.unlink(keys)
    os.symlink(target, keys)
    assert write_keys(home, group).returncode == 0
    assert open(target).read() == "root:secret\n" and os.stat(target).st_uid == 0
    assert not os.path.islink(keys) and open(keys).read() == KEY + "\n"


def test_a_linked_ssh_folder_is_refused(nobodys_home):
    import grp
    home, user = nobodys_home
    elsewhere = os.path.join(os.path.dirname(home), "etc")
    os.mkdir(elsewhere)
    os.symlink(elsewhere, os.path.join(home, ".ssh"))
    done = write_keys(home, grp.getgrgid(user.pw_gid).gr_name)
    assert done.returncode == 1 and "symbolic link; refusing to follow it" in done.stderr
    assert os.listdir(elsewhere) == [] and os.stat(elsewhere).st_uid == 0
