"""The state of a path: kind, owner, group, mode, size, checksum and (for small files) content.

A large file's sha256 is kept on the host beside the file's identity (device, inode, size, mtime and ctime:
DIGEST_CACHE) and read from there while that identity holds: a no-op on a K3s server would otherwise hash
the ~70 MB binary (and an air-gap upload its images) on every run, ~0.3 s of the host's CPU each. Any write
to the file moves its ctime, which no program sets back short of changing the clock. The cache is written
only where vpskit has written before (its folder exists), so a check of a fresh host leaves nothing.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zlib
from dataclasses import dataclass

from .base import Fact, q

CONTENT_LIMIT = 262144
CONTENT_MARKER = "@@contents"
DIGEST_CACHE = "/var/lib/vpskit/digests"
DIGEST_CACHE_LINES = 256

# sh -c SCRIPT vpskit-digests CACHE PATH...: "sha256  path" for each regular file, from the cache while the
# file's identity is the recorded one, else hashed (and recorded: the new entries first, then the old ones of
# other paths, bounded); every line of the cache is "sha256 device:inode:size:mtime:ctime path"
_DIGESTS = r"""
c=$1; shift
umask 077
find "$@" -maxdepth 0 -type f -printf '%D:%i:%s:%T@:%C@ %p\n' 2>/dev/null | {
  fresh=
  while IFS= read -r e; do
    sum=
    if [ -f "$c" ]; then
      while IFS= read -r k; do
        if [ "${k#* }" = "$e" ]; then sum=${k%% *}; break; fi
      done < "$c"
    fi
    p=${e#* }
    if [ -z "$sum" ]; then
      sum=$(sha256sum < "$p") || continue
      sum=${sum%% *}
      # a file changed within the last seconds may change again within its timestamps' granularity (git's
      # "racy clean" case): hashed, but not recorded
      id=${e%% *}; changed=${id##*:}; now=${now:-$(date +%s)}
      if [ $((now - ${changed%.*})) -ge 2 ]; then fresh="$fresh$sum $e
"; fi
    fi
    printf '%s  %s\n' "$sum" "$p"
  done
  [ -n "$fresh" ] && [ -d "${c%/*}" ] || exit 0
  {
    printf '%s' "$fresh"
    n=0
    if [ -f "$c" ]; then
      while IFS= read -r k && [ "$n" -lt @LINES@ ]; do
        rest=${k#* }
        case $fresh in *" ${rest#* }
"*) continue ;; esac
        n=$((n + 1))
        printf '%s\n' "$k"
      done < "$c"
    fi
  } > "$c.new" 2>/dev/null && mv -f "$c.new" "$c"
} 2>/dev/null
exit 0
"""


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

    def __init__(self, path: str, digests: str = DIGEST_CACHE):
        super().__init__(path)
        self.path = path
        self.digests = digests  # where the host keeps large files' sha256 (not part of the key)

    def about_path(self) -> str:
        return self.path

    def command(self) -> str:
        # two programs for a small file (stat, base64): the controller hashes the content itself
        p = q(self.path)
        return (
            f"p={p}; if [ -L \"$p\" ]; then echo link; readlink \"$p\"; "
            f"elif [ -f \"$p\" ]; then set -- $(stat -c '%U %G %a %s' \"$p\"); echo \"file $1 $2 $3 $4\"; "
            f"if [ \"$4\" -le {CONTENT_LIMIT} ]; then echo; base64 -w0 < \"$p\"; else {_digests(self.digests)} \"$p\"; fi; echo; "
            f"elif [ -d \"$p\" ]; then stat -c 'directory %U %G %a' \"$p\"; "
            f"elif [ -e \"$p\" ]; then echo other; else echo absent; fi"
        )

    @classmethod
    def command_for_many(cls, facts: list[FileFact]) -> str:
        # five programs for any number of paths: find lists them (and hands large files to the digests' shell),
        # find+tar+gzip+base64 carry every small regular file's content (compressed: tar pads each file to
        # 512-byte blocks, and a K3s server's files come to ~100 KB that would cost a slow link round trips)
        paths = " ".join(q(f.path) for f in facts)
        return (
            f"set -- {paths}; "
            "find \"$@\" -maxdepth 0 -printf '%y\\t%u\\t%g\\t%m\\t%s\\t%l\\t%p\\n' "
            f"\\( -type f -size +{CONTENT_LIMIT}c -exec {_digests(facts[0].digests)} {{}} + \\) 2>/dev/null; "
            f"echo {CONTENT_MARKER}; "
            f"find \"$@\" -maxdepth 0 -type f -size -{CONTENT_LIMIT + 1}c -print0 2>/dev/null | "
            "tar --create --file=- --blocking-factor=1 --absolute-names --no-recursion --null --files-from=- "
            "2>/dev/null | gzip -1 | base64 -w0"
        )

    @classmethod
    def parse_many(cls, facts: list[FileFact], output: str, rc: int) -> list[FileState]:
        listing, _, encoded = ("\n" + output).partition(f"\n{CONTENT_MARKER}\n")
        contents = _untar(_gunzip(base64.b64decode(encoded.strip()))) if encoded.strip() else {}
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


def _digests(cache: str) -> str:
    """The command (before its paths) that prints each large file's sha256 through the host's digest cache."""
    return f"sh -c {q(_DIGESTS.replace('@LINES@', str(DIGEST_CACHE_LINES)))} vpskit-digests {q(cache)}"


def _gunzip(data: bytes) -> bytes:
    """The tar stream, gzipped as the command sends it (an uncompressed one, as captured before, is kept)."""
    return zlib.decompress(data, 16 + zlib.MAX_WBITS) if data[:2] == b"\x1f\x8b" else data


def _untar(data: bytes) -> dict[str, bytes]:
    # "r:" as the command writes it, uncompressed: the default "r:*" tries (and imports) gzip, bz2 and lzma
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        return {m.name if m.name.startswith("/") else "/" + m.name: archive.extractfile(m).read()
                for m in archive.getmembers() if m.isfile()}


def _mode(text: str) -> str:
    return text.rjust(4, "0")
