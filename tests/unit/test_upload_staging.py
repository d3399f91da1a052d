"""An upload as a login user that is not root, into a folder only root may enter (as K3s's air-gap staging).

Over this machine's real shell: the commands run as root (what sudo gives vpskit), and the SFTP write is done
by the machine's `nobody` (what the SSH server does for a login that is not root). Before, the upload's temp
file was made beside the destination, where `nobody` cannot reach it.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import tempfile

import pytest

from vpskit.connection import CommandResult
from vpskit.errors import RemoteError
from vpskit.facts import FileFact, FileState
from vpskit.resources import Upload
from tests.unit.factstub import StubFacts


class SftpAsNobody:
    """Connection.put as the SSH server does it for a login that is not root: the file is written as that user."""

    user = "nobody"

    def __init__(self, before_install=None):
        self.before_install = before_install

    def put(self, local_path, remote_path, progress=None):
        with open(local_path, "rb") as data:
            done = subprocess.run(["runuser", "-u", "nobody", "--", "sh", "-c", 'cat > "$1"', "sh", remote_path],
                                  stdin=data, capture_output=True, text=True)
        if done.returncode:
            raise OSError(done.stderr.strip())
        if self.before_install:
            self.before_install(remote_path)


class RootShell:
    """A session whose commands run as root under `sh`, as vpskit's do through sudo."""

    name = "h1"

    def __init__(self, connection):
        self.connection, self.commands = connection, []

    def note(self, message):
        pass

    def run(self, command, step, stdin=None, check=True, timeout=None):
        self.commands.append(command)
        done = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
        result = CommandResult(done.returncode, done.stdout, done.stderr)
        if check and not result.ok:
            raise RemoteError(self.name, step, result.stderr.strip())
        return result


@pytest.fixture
def host():
    """A root-only destination folder (0700, as /var/lib/vpskit/k3s) and a staging root, in a folder all may traverse."""
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody here")
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("writing as another user needs root and runuser")
    top = tempfile.mkdtemp(prefix="vpskit-upload-")
    os.chmod(top, 0o755)
    os.mkdir(os.path.join(top, "stage"), 0o700)
    yield top
    shutil.rmtree(top)


def upload(top, tmp_path, data=b"k3s binary\n" * 100, before_install=None):
    source = tmp_path / "k3s"
    source.write_bytes(data)
    res = Upload(source, f"{top}/stage/k3s", mode="0600", staging=f"{top}/uploads")
    session = RootShell(SftpAsNobody(before_install))
    res.apply(session, res.check(StubFacts([(FileFact(res.path), FileState("absent"))])))
    return res


def test_a_login_that_is_not_root_uploads_into_a_root_only_folder(host, tmp_path):
    data = b"k3s binary\n" * 100
    upload(host, tmp_path, data)
    info = os.stat(f"{host}/stage/k3s")
    assert open(f"{host}/stage/k3s", "rb").read() == data
    assert (info.st_uid, oct(info.st_mode & 0o777)) == (0, "0o600")
    staging = os.stat(f"{host}/uploads")
    assert (staging.st_uid, oct(staging.st_mode & 0o7777)) == (0, "0o711")  # nobody lists or writes nothing there
    assert os.listdir(f"{host}/uploads") == [] and os.listdir(f"{host}/stage") == ["k3s"]


def test_a_staged_copy_swapped_for_a_link_is_refused_and_nothing_is_installed(host, tmp_path):
    secret = f"{host}/shadow"
    with open(secret, "w") as fh:
        fh.write("root:$y$secret\n")
    os.chmod(secret, 0o600)

    def swap(staged):  # what the login user could do in its own folder between the write and the install
        os.unlink(staged)
        os.symlink(secret, staged)

    with pytest.raises(RemoteError, match="not a plain file with one link"):
        upload(host, tmp_path, before_install=swap)
    assert oct(os.stat(secret).st_mode & 0o777) == "0o600" and not os.path.exists(f"{host}/stage/k3s")
    assert os.listdir(f"{host}/uploads") == []


def test_a_staged_copy_hard_linked_elsewhere_is_refused(host, tmp_path):
    def link(staged):
        os.link(staged, f"{host}/kept")

    with pytest.raises(RemoteError, match="not a plain file with one link"):
        upload(host, tmp_path, before_install=link)
    assert not os.path.exists(f"{host}/stage/k3s")


def test_a_changed_copy_is_refused_by_its_sha256(host, tmp_path):
    def change(staged):
        with open(staged, "ab") as fh:
            fh.write(b"tampered")

    with pytest.raises(RemoteError, match="expected " + hashlib.sha256(b"k3s binary\n" * 100).hexdigest()):
        upload(host, tmp_path, before_install=change)
    assert not os.path.exists(f"{host}/stage/k3s")


def test_a_killed_runs_staging_folder_is_swept_by_the_next_upload(host, tmp_path):
    os.makedirs(f"{host}/uploads/run.killed")
    old = os.stat(f"{host}/uploads").st_mtime - 2 * 3600
    os.utime(f"{host}/uploads/run.killed", (old, old))
    os.makedirs(f"{host}/uploads/run.recent")
    upload(host, tmp_path)
    assert os.listdir(f"{host}/uploads") == ["run.recent"]
