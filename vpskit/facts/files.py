"""The state of a path: kind, owner, group, mode, size, checksum and (for small files) content."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from .base import Fact, q

CONTENT_LIMIT = 262144


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
            sha = hashed[0] if hashed else (hashlib.sha256(content).hexdigest() if content is not None else None)
            return FileState("file", head[1], head[2], _mode(head[3]), size, sha, content)
        return FileState("other")


def _mode(text: str) -> str:
    return text.rjust(4, "0")
