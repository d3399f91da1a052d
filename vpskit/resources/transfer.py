"""Files carried between the operator's machine and a host: Upload (to the host) and Fetch (from it)."""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import stat
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Callable, Literal

from ..diffing import content_diff
from ..errors import RemoteError, VpskitError
from ..facts.base import Fact, q
from ..facts.files import CONTENT_LIMIT, FileFact, FileState
from ..localfiles import make_private_dirs, sha256_of, write_atomically
from .base import Outcome, Plan, Resource
from .files import LEFTOVER_MINUTES, ON_SIGNAL, attributes_command, attribute_drift, sweep_command

MIB = 1 << 20
# smaller uploads finish before progress notes would help
PROGRESS_FROM = 8 * MIB
# where uploads wait for root to take them: the login user writes over SFTP, as itself
UPLOADS = "/var/lib/vpskit-uploads"
# content that should not be shown in a diff even when the resource is not marked secret
SENSITIVE = re.compile(rb"PRIVATE KEY-----|client-key-data|client-certificate-data|token|password|secret", re.I)


def human_size(size: int | None) -> str:
    if size is None:
        return "? bytes"
    if size >= MIB:
        return f"{size / MIB:.0f} MiB"
    if size >= 1024:
        return f"{size / 1024:.0f} KiB"
    return f"{size} bytes"


class TenthNotes:
    """A transfer progress callback that notes each further tenth of the size ("40% of 612 MiB")."""

    def __init__(self, note: Callable[[str], None], label: str):
        self.note, self.label, self.shown = note, label, 0

    def __call__(self, sent: int, total: int) -> None:
        tenth = sent * 10 // total if total else 10
        if tenth > self.shown:
            self.shown = tenth
            self.note(f"{self.label}: {tenth * 10}% of {human_size(total)}")


@dataclass(frozen=True)
class UploadPlan(Plan):
    """Upload the local file (whose sha256 the check read), or fix only the copy's owner and mode."""

    action: Literal["upload", "attrs"]
    sha256: str = ""
    size: int = 0


@dataclass(frozen=True)
class FetchPlan(Plan):
    """The bytes the local file gets, or None: only its mode changes."""

    content: bytes | None


class Upload(Resource):
    """`path` on the host is a copy of the local file `source` (compared by sha256), with this owner and mode."""

    kind = "upload"

    def __init__(self, source: str | Path, path: str, mode: str = "0644", owner: str = "root", group: str = "root",
                 staging: str = UPLOADS, **kwargs):
        super().__init__(kwargs.pop("name", path), **kwargs)
        self.source, self.staging = Path(source).expanduser(), staging
        self.path, self.owner, self.group, self.mode = path, owner, group, mode.rjust(4, "0")
        # a large source is read once per resource, not once per check (a serial play checks twice)
        self._digest = cache(lambda: sha256_of(self.source))

    def local_digest(self) -> tuple[str, int]:
        """The source's sha256 and size, read once per resource."""
        try:
            return self._digest()
        except VpskitError as exc:
            raise VpskitError(f"{self.title}: {exc}") from None

    def facts(self) -> list[Fact]:
        return [FileFact(self.path)]

    def check(self, facts) -> Outcome:
        state: FileState = facts.get(FileFact(self.path))
        if state.kind not in ("absent", "file"):
            return Outcome.block(f"{self.path} is a {state.kind}, expected a regular file; refusing to replace it")
        sha, size = self.local_digest()
        new = f"sha256 {sha[:12]}…, {human_size(size)}"
        if not state.exists:
            return Outcome.change(f"upload {self.source.name} to {self.path} ({new})", plan=UploadPlan("upload", sha, size))
        if state.sha256 != sha:
            old = f"sha256 {(state.sha256 or '?')[:12]}…, {human_size(state.size)}"
            return Outcome.change(f"replace {self.path} ({old} → {new})", plan=UploadPlan("upload", sha, size))
        drift = attribute_drift(state, self.mode, self.owner, self.group)
        if drift:
            return Outcome.change(f"{self.path}: " + ", ".join(drift), plan=UploadPlan("attrs"))
        return Outcome.ok(f"{self.path} matches {self.source.name} (sha256 {sha[:12]}…), owner and mode")

    def apply(self, session, outcome: Outcome[UploadPlan]) -> None:
        if outcome.plan.action == "attrs":
            session.run(attributes_command(self.path, self.owner, self.group, self.mode), step=self.title)
            return
        sha, size = outcome.plan.sha256, outcome.plan.size
        staged = self._stage(session)
        try:
            progress = TenthNotes(session.note, f"upload {self.source.name}") if size >= PROGRESS_FROM else None
            session.connection.put(self.source, staged, progress=progress)
        except BaseException as exc:
            with contextlib.suppress(Exception):  # the connection may be what failed
                session.run(f"rm -rf {q(posixpath.dirname(staged))}", step=self.title, check=False)
            if isinstance(exc, OSError):
                raise RemoteError(session.name, self.title, f"upload of {self.source} failed: {exc}") from None
            raise
        session.run(self._install_command(staged, sha), step=self.title, timeout=600)

    def _stage(self, session) -> str:
        """A new folder of this run's own under `staging`, owned by the login user, who writes into it over SFTP.

        SFTP writes as the login user, who may not traverse the destination's folder (a role's folder under
        /var/lib/vpskit is root's only). The staging root is root's and 0711: others can neither list nor write it, and the
        login user reaches only the one folder made for this upload. Folders older than an hour are what
        killed runs left (the host lock keeps two applies from uploading at once).
        """
        login = session.connection.user
        script = "\n".join([
            "set -e",
            f"root={q(self.staging)}",
            'if [ -L "$root" ] || { [ -e "$root" ] && [ ! -d "$root" ]; }; then '
            'echo "$root is not a folder; refusing to stage an upload there" >&2; exit 65; fi',
            '[ -d "$root" ] || mkdir -p "$root"',
            'chown root:root "$root"',
            'chmod 0711 "$root"',
            sweep_command('"$root"', "run.??????", LEFTOVER_MINUTES, kind="d"),
            'run=$(mktemp -d "$root/run.XXXXXX")',
            f'chown {q(login)} "$run"',
            'echo "$run"',
        ])
        folder = session.run(script, step=self.title).stdout.strip()
        return f"{folder}/{posixpath.basename(self.path)}"

    def _install_command(self, staged: str, sha: str) -> str:
        """Shell that takes the staged copy back from the login user, verifies it and renames it into place.

        The folder is root's again before anything is checked, so the login user cannot swap the file for
        a link afterwards; a link, a non-regular file or a second hard link (a link to a file root owns,
        whose mode the chmod would change) is refused. The copy then moves beside the destination and is
        renamed over it: one filesystem, atomic.
        """
        return "\n".join([
            "set -e",
            f"run={q(posixpath.dirname(staged))}",
            f"s={q(staged)}",
            f"p={q(self.path)}",
            "t=",
            "trap 'rm -rf \"$run\"; [ -z \"$t\" ] || rm -f \"$t\"' EXIT",
            ON_SIGNAL,
            # one command a line: `set -e` does not stop at a failure inside an && list
            'chown -h root:root "$run"',
            'chmod 0700 "$run"',
            'if [ -L "$s" ] || [ ! -f "$s" ] || [ "$(stat -c %h "$s")" != 1 ]; then echo "the uploaded copy '
            '$s is not a plain file with one link; nothing was installed" >&2; exit 65; fi',
            'got=$(sha256sum < "$s" | cut -d" " -f1)',
            f'if [ "$got" != {sha} ]; then echo "the uploaded copy has sha256 $got, expected {sha} '
            '(did the local file change during the upload?)" >&2; exit 66; fi',
            'd=$(dirname "$p")',
            '[ -d "$d" ] || mkdir -p "$d"',
            sweep_command('"$d"', ".vpskit-upload-??????", LEFTOVER_MINUTES),
            't=$(mktemp "$d/.vpskit-upload-XXXXXX")',
            'mv -f "$s" "$t"',
            f'chown {q(self.owner)}:{q(self.group)} "$t"',
            f'chmod {q(self.mode)} "$t"',
            'mv -f "$t" "$p"',
            "t=",
        ])

    def invalidate(self, facts) -> None:
        facts.invalidate(paths=[self.path])


class Fetch(Resource):
    """The local file `dest` holds the host's `path` (or `transform` of it); secret by default."""

    kind = "fetch"

    def __init__(self, path: str, dest: str | Path, transform: Callable[[bytes, bytes | None], bytes] | None = None,
                 mode: str = "0600", secret: bool = True, **kwargs):
        super().__init__(kwargs.pop("name", f"{path} → {dest}"), secret=secret, **kwargs)
        self.path, self.dest, self.transform = path, Path(dest).expanduser(), transform
        self.mode = mode.rjust(4, "0")

    def facts(self) -> list[Fact]:
        return [FileFact(self.path)]

    def paths(self) -> list[str]:
        return []  # nothing on the host changes

    def check(self, facts) -> Outcome:
        state: FileState = facts.get(FileFact(self.path))
        if not state.exists:
            return Outcome.block(f"{self.path} does not exist on the host")
        if state.kind != "file":
            return Outcome.block(f"{self.path} is a {state.kind} on the host, not a regular file")
        if state.content is None:
            return Outcome.block(f"{self.path} is {human_size(state.size)} on the host; fetch carries files up to "
                                 f"{human_size(CONTENT_LIMIT)}")
        current = self._local_content()
        desired = self.transform(state.content, current) if self.transform else state.content
        if isinstance(desired, str):
            desired = desired.encode()
        if current != desired:
            verb = "create" if current is None else "update"
            diff = (f"(diff hidden: {self.dest} looks like it holds credentials)\n"
                    if SENSITIVE.search(desired) or SENSITIVE.search(current or b"")
                    else content_diff(str(self.dest), current, desired))
            return Outcome.change(f"{verb} {self.dest} from {self.path}", diff, plan=FetchPlan(desired))
        live_mode = f"{stat.S_IMODE(self.dest.stat().st_mode):04o}"
        if live_mode != self.mode:
            return Outcome.change(f"{self.dest}: mode {live_mode} → {self.mode}", plan=FetchPlan(None))
        return Outcome.ok(f"{self.dest} matches {self.path} on the host")

    def _local_content(self) -> bytes | None:
        try:
            return self.dest.read_bytes()
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise VpskitError(f"{self.title}: {self.dest} is a directory on this machine") from None
        except OSError as exc:
            raise VpskitError(f"{self.title}: cannot read {self.dest}: {exc.strerror or exc}") from None

    def apply(self, session, outcome: Outcome[FetchPlan]) -> None:
        try:
            if outcome.plan.content is None:
                os.chmod(self.dest, int(self.mode, 8))
                return
            make_private_dirs(self.dest.parent)
            write_atomically(self.dest, outcome.plan.content, int(self.mode, 8))
        except OSError as exc:
            raise VpskitError(f"{self.title}: cannot write {self.dest}: {exc.strerror or exc}") from None

    def invalidate(self, facts) -> None:
        """Only the local file changed: every fact about the host still holds."""
