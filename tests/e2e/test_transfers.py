"""Upload, Fetch and Wait on a real lab host: large files once, drift restored, waits that end or time out."""

from __future__ import annotations

import hashlib
import os
import stat
import time

import pytest

from vpskit.connection import Connection
from vpskit.facts import CommandOutputFact, FileFact
from vpskit.resources import Directory, Fetch, Upload, Wait
from vpskit.session import HostSession
from tests.e2e.conftest import H2
from tests.e2e.helpers import apply_one, lab_host, lab_target, sh, summary

HOST = H2
ROOT = "/srv/transfers"
UPLOADER = "uploader"


def random_file(path, mib: int):
    """A file of `mib` MiB that does not compress (so the transfer is a real one)."""
    with open(path, "wb") as fh:
        for _ in range(mib):
            fh.write(os.urandom(1 << 20))
    return path


def sha256_local(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def host_stat(lab, path: str) -> str:
    return sh(lab, HOST, f"sha256sum < {path} | cut -d' ' -f1; stat -c '%U %G %a %s' {path}").stdout.split("\n", 1)


def leftovers(lab) -> str:
    return sh(lab, HOST, f"ls -A {ROOT} | grep vpskit-upload; ls -A /tmp | grep vpskit; true").stdout.strip()


@pytest.fixture(scope="module")
def host(lab):
    sh(lab, HOST, f"rm -rf {ROOT}")
    return lab_host(lab, HOST)


def test_large_upload_transfers_once(lab, host, tmp_path):
    big = random_file(tmp_path / "big.bin", 100)
    resources = [Directory(ROOT), Upload(big, f"{ROOT}/big.bin", mode="0640", group="adm")]
    started = time.monotonic()
    first = apply_one(host, resources)
    seconds = time.monotonic() - started
    assert first.error is None, first.error
    assert summary(first)["changed"] == 2
    print(f"\n100 MiB upload: {seconds:.1f}s for the run, {first.commands} commands")
    digest, attrs = host_stat(lab, f"{ROOT}/big.bin")
    assert digest == sha256_local(big)
    assert attrs.split() == ["root", "adm", "640", str(100 << 20)]
    assert leftovers(lab) == ""

    started = time.monotonic()
    second = apply_one(host, [Directory(ROOT), Upload(big, f"{ROOT}/big.bin", mode="0640", group="adm")])
    print(f"second run: {time.monotonic() - started:.2f}s, {second.commands} commands, {second.connections} connections")
    assert second.error is None and summary(second)["changed"] == 0
    assert (second.commands, second.connections) == (1, 1)


def test_upload_drift_is_seen_in_check_mode_and_restored(lab, host, tmp_path):
    data = random_file(tmp_path / "tool.bin", 3)
    path = f"{ROOT}/tool.bin"
    upload = Upload(data, path, mode="0750")
    assert apply_one(host, [Directory(ROOT), upload]).error is None

    sh(lab, HOST, f"chmod 0666 {path}")
    check = apply_one(host, [Upload(data, path, mode="0750")], check=True)
    assert summary(check)["changed"] == 1 and "mode 0666 → 0750" in check.steps[-1].reason
    assert host_stat(lab, path)[1].split()[2] == "666"  # check mode changed nothing
    assert summary(apply_one(host, [Upload(data, path, mode="0750")]))["changed"] == 1
    assert host_stat(lab, path)[1].split()[2] == "750"

    sh(lab, HOST, f"printf tampered >> {path}")
    check = apply_one(host, [Upload(data, path, mode="0750")], check=True)
    assert summary(check)["changed"] == 1 and "replace" in check.steps[-1].reason
    fixed = apply_one(host, [Upload(data, path, mode="0750")])
    assert summary(fixed)["changed"] == 1
    assert host_stat(lab, path)[0] == sha256_local(data)
    assert summary(apply_one(host, [Upload(data, path, mode="0750")]))["changed"] == 0


def test_upload_as_a_sudo_user(lab, tmp_path):
    sh(lab, HOST, f"id {UPLOADER} >/dev/null 2>&1 || useradd -m -s /bin/bash {UPLOADER}; "
                  f"echo '{UPLOADER} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{UPLOADER}; chmod 0440 /etc/sudoers.d/{UPLOADER}; "
                  f"install -d -m 0700 -o {UPLOADER} -g {UPLOADER} /home/{UPLOADER}/.ssh; "
                  f"install -m 0600 -o {UPLOADER} -g {UPLOADER} /root/.ssh/authorized_keys /home/{UPLOADER}/.ssh/")
    host = lab_host(lab, HOST, vpskit_user=UPLOADER)
    data = random_file(tmp_path / "sudo.bin", 20)
    path = f"{ROOT}/by-sudo/sudo.bin"
    first = apply_one(host, [Upload(data, path, mode="0600")])
    assert first.error is None, first.error
    assert summary(first)["changed"] == 1
    digest, attrs = host_stat(lab, path)
    assert digest == sha256_local(data) and attrs.split()[:3] == ["root", "root", "600"]
    assert leftovers(lab) == "" and sh(lab, HOST, f"ls -A {ROOT}/by-sudo").stdout.split() == ["sudo.bin"]
    again = apply_one(host, [Upload(data, path, mode="0600")])
    assert summary(again)["changed"] == 0 and again.commands == 1


def test_upload_notes_progress_and_cleans_up_after_a_failure(lab, host, tmp_path):
    data = random_file(tmp_path / "noted.bin", 24)
    notes = []
    with Connection(lab_target(lab, HOST)) as connection:
        session = HostSession(HOST, connection, note=notes.append)
        upload = Upload(data, f"{ROOT}/noted.bin")
        upload.apply(session, upload.check(session.facts))
    assert len(notes) == 10 and notes[0] == "upload noted.bin: 10% of 24 MiB" and notes[-1].endswith("100% of 24 MiB")

    failing = apply_one(host, [Upload(data, f"{ROOT}/unowned.bin", owner="nosuchuser")])
    assert failing.failed and "nosuchuser" in failing.error
    assert leftovers(lab) == "" and sh(lab, HOST, f"test -e {ROOT}/unowned.bin").rc == 1


def test_missing_source_fails_at_check_naming_it(lab, host, tmp_path):
    result = apply_one(host, [Upload(tmp_path / "absent.tar", f"{ROOT}/absent.tar")])
    assert result.failed and f"local file {tmp_path / 'absent.tar'} does not exist" in result.error
    assert sh(lab, HOST, f"test -e {ROOT}/absent.tar").rc == 1


def test_fetch_writes_a_private_local_copy(lab, host, tmp_path):
    sh(lab, HOST, f"mkdir -p {ROOT} && printf 'apiVersion: v1\\nserver: https://10.0.0.1:6443\\n' > {ROOT}/kubeconfig")
    dest = tmp_path / "kube" / "config"
    check = apply_one(host, [Fetch(f"{ROOT}/kubeconfig", dest)], check=True)
    assert summary(check)["changed"] == 1 and not dest.parent.exists()
    first = apply_one(host, [Fetch(f"{ROOT}/kubeconfig", dest)])
    assert summary(first)["changed"] == 1 and first.steps[-1].diff == "(diff hidden: secret content)\n"
    assert dest.read_bytes() == b"apiVersion: v1\nserver: https://10.0.0.1:6443\n"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600 and stat.S_IMODE(dest.parent.stat().st_mode) == 0o700
    second = apply_one(host, [Fetch(f"{ROOT}/kubeconfig", dest)])
    assert summary(second)["changed"] == 0 and second.commands == 1

    missing = apply_one(host, [Fetch(f"{ROOT}/no-such-file", tmp_path / "other")])
    assert missing.failed and "does not exist on the host" in missing.error and not (tmp_path / "other").exists()


def test_wait_for_a_file_created_later(lab, host):
    ready = f"{ROOT}/ready"
    sh(lab, HOST, f"mkdir -p {ROOT}; rm -f {ready}; "
                  # a timer's default accuracy is a minute: without this the touch may come up to 60 s late
                  f"systemd-run --on-active=3 --timer-property=AccuracySec=100ms touch {ready}")
    wait = Wait(FileFact(ready), lambda state: state.exists, "the ready file", timeout=30, interval=0.5)
    check = apply_one(host, [wait], check=True)
    assert summary(check)["changed"] == 1 and check.steps[-1].reason == "wait for the ready file"
    started = time.monotonic()
    result = apply_one(host, [wait])
    waited = time.monotonic() - started
    print(f"\nwaited {waited:.1f}s, {result.commands} commands")
    assert result.error is None and summary(result)["changed"] == 1
    assert 1 < waited < 8
    again = apply_one(host, [wait])
    assert summary(again)["ok"] == 1 and again.steps[-1].reason == "the ready file: already so"


def test_wait_that_times_out_names_the_probe(lab, host):
    probe = CommandOutputFact(f"cat {ROOT}/never")
    started = time.monotonic()
    result = apply_one(host, [Wait(probe, lambda v: v[0] == 0, "the never file", timeout=2, interval=0.5)])
    assert time.monotonic() - started < 8
    assert result.failed and "the never file not reached within 2s" in result.error
    assert f"CommandOutputFact('cat {ROOT}/never',)" in result.error and "(1, '')" in result.error
