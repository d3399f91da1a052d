"""Files on the operator's machine: streamed checksums, private directories and atomic writes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from .errors import VpskitError

CHUNK = 1 << 20


def sha256_of(path: Path) -> tuple[str, int]:
    """The sha256 and size of a local file, read in chunks (it may be hundreds of MiB)."""
    digest, size = hashlib.sha256(), 0
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        raise VpskitError(f"local file {path} does not exist") from None
    except OSError as exc:
        raise VpskitError(f"cannot read local file {path}: {exc.strerror or exc}") from None
    return digest.hexdigest(), size


def make_private_dirs(directory: Path) -> None:
    """Creates `directory` and any missing parents with mode 0700 (os.makedirs gives parents the default)."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:  # created meanwhile by another run
            pass


def write_atomically(path: Path, content: bytes, mode: int) -> None:
    """Replaces `path` with `content` at once: a temp file beside it, fsynced, chmodded, then renamed."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".vpskit")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    # the rename itself is durable once the directory is synced
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

