"""A large file's sha256 from the host's digest cache while the file's identity holds, and the small files'
content gzipped on the way (an uncompressed stream, as captured before, still read)."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import subprocess
import tarfile

import pytest

from tests.unit.test_shell import run_shellcheck
from vpskit.facts.files import _DIGESTS, CONTENT_MARKER, FileFact

BIG = 300_000


def gather(facts, now: int | None = None):
    """The facts' values through a local shell; `now` stands in for the host's clock (the script's `now`)."""
    env = {**os.environ, **({"now": str(now)} if now is not None else {})}
    done = subprocess.run(["sh", "-s"], input=FileFact.command_for_many(facts), capture_output=True, text=True,
                          env=env)
    assert done.returncode == 0, done.stderr
    return FileFact.parse_many(facts, done.stdout, 0)


def later() -> int:
    return int(os.path.getmtime("/")) + 10**9  # far after any file's change


def test_a_large_file_is_hashed_and_recorded_once_its_change_is_not_recent(tmp_path):
    (tmp_path / "state").mkdir()
    cache = tmp_path / "state" / "digests"
    (tmp_path / "big").write_bytes(b"x" * BIG)
    facts = [FileFact(str(tmp_path / "big"), digests=str(cache)), FileFact(str(tmp_path / "none"), digests=str(cache))]
    right = hashlib.sha256(b"x" * BIG).hexdigest()

    assert gather(facts, now=int(os.stat(tmp_path / "big").st_ctime))[0].sha256 == right
    assert not cache.exists()  # changed this very second: it may change again within the same timestamp

    assert gather(facts, now=later())[0].sha256 == right
    line = cache.read_text()
    assert line.startswith(right + " ") and line.rstrip().endswith(f" {tmp_path / 'big'}")
    assert oct(cache.stat().st_mode & 0o777) == "0o600"


def test_the_recorded_sum_is_used_while_the_identity_holds_and_dropped_when_the_file_changes(tmp_path):
    (tmp_path / "state").mkdir()
    cache = tmp_path / "state" / "digests"
    big = tmp_path / "big"
    big.write_bytes(b"x" * BIG)
    facts = [FileFact(str(big), digests=str(cache))]
    gather(facts, now=later())
    # a recorded sum stands for the file: the cache is what is read while the identity is the same
    forged = "f" * 64
    cache.write_text(forged + cache.read_text()[64:])
    assert gather(facts, now=later())[0].sha256 == forged

    big.write_bytes(b"y" * BIG)  # same size and inode, new ctime
    assert gather(facts, now=later())[0].sha256 == hashlib.sha256(b"y" * BIG).hexdigest()
    assert cache.read_text().count(str(big)) == 1  # the path's old entry replaced, not kept beside it


def test_other_paths_entries_are_kept_and_the_cache_is_bounded(tmp_path):
    (tmp_path / "state").mkdir()
    cache = tmp_path / "state" / "digests"
    kept = "a" * 64 + " 1:2:3:4.0:5.0 /elsewhere/big\n"
    cache.write_text(kept + "".join(f"{'b' * 64} 1:{i}:3:4.0:5.0 /other/{i}\n" for i in range(400)))
    (tmp_path / "big").write_bytes(b"x" * BIG)
    gather([FileFact(str(tmp_path / "big"), digests=str(cache))], now=later())
    lines = cache.read_text().splitlines()
    assert lines[0].endswith(str(tmp_path / "big")) and lines[1] == kept.rstrip() and len(lines) == 257


def test_no_cache_is_written_where_vpskit_has_never_written(tmp_path):
    cache = tmp_path / "missing-folder" / "digests"
    (tmp_path / "big").write_bytes(b"x" * BIG)
    values = gather([FileFact(str(tmp_path / "big"), digests=str(cache))], now=later())
    assert values[0].sha256 == hashlib.sha256(b"x" * BIG).hexdigest()
    assert not (tmp_path / "missing-folder").exists()


def test_one_large_file_alone_uses_the_cache_too(tmp_path):
    (tmp_path / "state").mkdir()
    cache = tmp_path / "state" / "digests"
    (tmp_path / "big").write_bytes(b"x" * BIG)
    fact = FileFact(str(tmp_path / "big"), digests=str(cache))
    run = lambda: subprocess.run(["sh", "-s"], input=fact.command(), capture_output=True, text=True,  # noqa: E731
                                 env={**os.environ, "now": str(later())}).stdout
    assert fact.parse(run(), 0).sha256 == hashlib.sha256(b"x" * BIG).hexdigest()
    cache.write_text("f" * 64 + cache.read_text()[64:])
    assert fact.parse(run(), 0).sha256 == "f" * 64


def test_small_files_travel_gzipped_and_an_uncompressed_stream_still_reads(tmp_path):
    (tmp_path / "a").write_text("hello\n" * 1000)
    facts = [FileFact(str(tmp_path / n)) for n in "abc"]
    command = FileFact.command_for_many(facts)
    output = subprocess.run(["sh", "-s"], input=command, capture_output=True, text=True).stdout
    encoded = output.partition(CONTENT_MARKER + "\n")[2].strip()
    assert base64.b64decode(encoded)[:2] == b"\x1f\x8b" and len(encoded) < 1000
    assert gather(facts)[0].content == b"hello\n" * 1000

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:") as archive:
        archive.add(str(tmp_path / "a"))
    listing = output.partition(CONTENT_MARKER)[0]
    old = f"{listing}{CONTENT_MARKER}\n{base64.b64encode(raw.getvalue()).decode()}"
    assert FileFact.parse_many(facts, old, 0)[0].content == b"hello\n" * 1000


def test_the_digests_script_passes_shellcheck(tmp_path):
    checker = shutil.which("shellcheck")
    if checker is None:
        pytest.skip("shellcheck is not installed")
    script = tmp_path / "digests.sh"
    script.write_text(_DIGESTS.replace("@LINES@", "256"))
    assert not run_shellcheck(checker, [script], shell="sh")
