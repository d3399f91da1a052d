"""The state of a path: kind, owner, group, mode, size, checksum and (for small files) content."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from dataclasses import dataclass

from .base import Fact, q

CONTENT_LIMIT = 262144
CONTENT_MARKER = "@@contents"


@dataclass(frozen=True)
class FileState:
    kind: str  # absent, file, directory, link, other
    owner: str | None = None
    group: str | None = None
    mode: str | None = None
    size: int | None = None
    sha256: str | None = None
    content: bytes | None = None
    link_target: str | None = None

    @property
    def exists(self) -> bool:
        return self.kind != "absent"


class FileFact(Fact):
    """stat and the base64 content of one path (only the sha256 of a large file)."""

    def __init__(self, path: str):
        super().__init__(path)
        self.path = path

    def about_path(self) -> str:
        return self.path

    def command(self) -> str:
        # two programs for a small file (stat, base64): the controller hashes the content itself
        p = q(self.path)
        return (
            f"p={p}; if [ -L \"$p\" ]; then echo link; readlink \"$p\"; "
            f"elif [ -f \"$p\" ]; then set -- $(stat -c '%U %G %a %s' \"$p\"); echo \"file $1 $2 $3 $4\"; "
            f"if [ \"$4\" -le {CONTENT_LIMIT} ]; then echo; base64 -w0 < \"$p\"; else sha256sum < \"$p\"; fi; echo; "
            f"elif [ -d \"$p\" ]; then stat -c 'directory %U %G %a' \"$p\"; "
            f"elif [ -e \"$p\" ]; then echo other; else echo absent; fi"
        )

    @classmethod
    def command_for_many(cls, facts: list[FileFact]) -> str:
        # four programs for any number of paths: find lists them (and hashes large files), find+tar+base64
        # carry every small regular file's content
        paths = " ".join(q(f.path) for f in facts)
        return (
            f"set -- {paths}; "
            "find \"$@\" -maxdepth 0 -printf '%y\\t%u\\t%g\\t%m\\t%s\\t%l\\t%p\\n' "
            f"\\( -type f -size +{CONTENT_LIMIT}c -exec sha256sum -- {{}} + \\) 2>/dev/null; echo {CONTENT_MARKER}; "
            f"find \"$@\" -maxdepth 0 -type f -size -{CONTENT_LIMIT + 1}c -print0 2>/dev/null | "
            "tar --create --file=- --blocking-factor=1 --absolute-names --no-recursion --null --files-from=- "
            "2>/dev/null | base64 -w0"
        )

    @classmethod
    def parse_many(cls, facts: list[FileFact], output: str, rc: int) -> list[FileState]:
        listing, _, encoded = ("\n" + output).partition(f"\n{CONTENT_MARKER}\n")
        contents = _untar(base64.b64decode(encoded.strip())) if encoded.strip() else {}
        found, sums = {}, {}
        for line in listing.split("\n"):
            if len(line) > 1 and line[1] == "\t":
                kind, owner, group, mode, size, target, path = line.split("\t", 6)
                found[path] = (kind, owner, group, _mode(mode), int(size), target)
            elif line:
                digest, _, path = line.partition("  ")
                sums[path] = digest.lstrip("\\")
        states = []
        for fact in facts:
            if fact.path not in found:
                states.append(FileState("absent"))
                continue
            kind, owner, group, mode, size, target = found[fact.path]
            if kind == "l":
                states.append(FileState("link", link_target=target))
            elif kind == "d":
                states.append(FileState("directory", owner, group, mode))
            elif kind == "f":
                states.append(_regular_file(owner, group, mode, size, sums.get(fact.path), contents.get(fact.path)))
            else:
                states.append(FileState("other"))
        return states

    def parse(self, output: str, rc: int) -> FileState:
        lines = output.split("\n")
        head = lines[0].split()
        if not head or head[0] == "absent":
            return FileState("absent")
        kind = head[0]
        if kind == "link":
            return FileState("link", link_target=lines[1] if len(lines) > 1 else "")
        if kind == "directory":
            return FileState("directory", head[1], head[2], _mode(head[3]))
        if kind == "file":
            hashed = lines[1].split() if len(lines) > 1 else []
            raw = lines[2].strip() if len(lines) > 2 else ""
            size = int(head[4])
            content = base64.b64decode(raw) if (raw or size == 0) and size <= CONTENT_LIMIT else None
            return _regular_file(head[1], head[2], _mode(head[3]), size, hashed[0] if hashed else None, content)
        return FileState("other")


def _regular_file(owner: str, group: str, mode: str, size: int, digest: str | None,
                  content: bytes | None) -> FileState:
    """The host sends a small file's content (hashed here) or only a large file's sha256."""
    sha = hashlib.sha256(content).hexdigest() if content is not None else digest
    return FileState("file", owner, group, mode, size, sha, content)


def _untar(data: bytes) -> dict[str, bytes]:
    # "r:" as the command writes it, uncompressed: the default "r:*" tries (and imports) gzip, bz2 and lzma
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        return {m.name if m.name.startswith("/") else "/" + m.name: archive.extractfile(m).read()
                for m in archive.getmembers() if m.isfile()}


def _mode(text: str) -> str:
    return text.rjust(4, "0")
