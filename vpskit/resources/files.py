"""File-system resources: whole files, directories, single lines and marked blocks."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Callable, Literal

from ..diffing import content_diff
from ..facts.base import Fact, q
from ..facts.files import FileFact, FileState
from ..facts.leftovers import record_folder
from ..facts.services import ServiceFact
from .base import Outcome, Plan, Resource

BACKUP_ROOT = "/var/backups/vpskit"


SYSTEMD_DIRS = ("/etc/systemd/", "/lib/systemd/", "/usr/lib/systemd/", "/run/systemd/")


def is_unit_path(path: str) -> bool:
    return path.startswith(SYSTEMD_DIRS)




def sweep_command(folder: str, pattern: str, minutes: int = 5, kind: str = "f", record: bool = True) -> str:
    """Shell that removes what killed runs left in `folder` (a shell word) named `pattern`, older than `minutes`.

    A run killed mid-write leaves its temp file: SIGKILL runs no trap, and dash runs no EXIT trap on a signal.
    The host lock keeps two applies apart, so only a dead run's files are that old; `kind` d sweeps folders.
    A folder of temp files is recorded (unless `record` is false: a user's own), so each applying run sweeps it
    too (vpskit/facts/leftovers.py).
    """
    remove = "-delete" if kind == "f" else "-exec rm -rf {} +"
    sweep = f"find {folder} -maxdepth 1 -type {kind} -name '{pattern}' -mmin +{minutes} {remove}"
    return f"{sweep}\n{record_folder(folder)}" if kind == "f" and record else sweep


SWEEP = sweep_command('"$d"', ".vpskit-??????")
# in a folder of a user's, written as that user: swept by the next write only
USER_SWEEP = sweep_command('"$d"', ".vpskit-??????", record=False)
# the age of other writers' leftovers (downloads, uploads, staging): their files may take long to arrive
LEFTOVER_MINUTES = 60
ON_SIGNAL = "trap 'exit 129' HUP INT TERM PIPE"


def arrived_whole(content: bytes, path: str = '"$tmp"') -> str:
    """Shell that fails unless the file holds exactly `content`: a dropped connection ends stdin early, and
    what arrived must not replace the file."""
    digest = hashlib.sha256(content).hexdigest()
    return (f'[ "$(sha256sum < {path})" = "{digest}  -" ] || '
            '{ echo "the content arrived incomplete (the connection dropped?)" >&2; exit 66; }')


def write_file_command(path: str, owner: str, group: str, mode: str, validate: str | None = None,
                       backup: bool = True, before: str = "", forget_backup: bool = False,
                       content: bytes | None = None) -> str:
    """Shell that writes stdin to a temp file beside `path`, validates it, backs up the old file, renames.

    With `content` (what stdin carries), a shorter or different arrival fails before anything is replaced."""
    p = q(path)
    lines = [
        "set -e",
        f"p={p}",
        'd=$(dirname "$p")',
        before,
        '[ -d "$d" ] || mkdir -p "$d"',
        SWEEP,
        'tmp=$(mktemp "$d/.vpskit-XXXXXX")',
        "trap 'rm -f \"$tmp\"' EXIT",
        ON_SIGNAL,
        'cat > "$tmp"',
        arrived_whole(content) if content is not None else "",
        f'chown {q(owner)}:{q(group)} "$tmp"',
        f'chmod {q(mode)} "$tmp"',
    ]
    if validate:
        check = validate.replace("%s", '"$tmp"')
        lines.append(f'if ! out=$({check} 2>&1); then echo "validation failed: $out" >&2; exit 65; fi')
    if backup:
        lines.append(f'if [ -f "$p" ]; then mkdir -p {BACKUP_ROOT}"$d" && cp -p "$p" {BACKUP_ROOT}"$p"; fi')
    if forget_backup:  # a copy an earlier version of vpskit kept
        lines.append(f'rm -f {BACKUP_ROOT}"$p"')
    # -T: a directory at the path fails the step rather than receiving the file inside it
    lines += ['mv -fT "$tmp" "$p"', "trap - EXIT"]
    if is_unit_path(path):  # systemd must see the new unit before anything starts it
        lines.append("systemctl daemon-reload")
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class FilePlan(Plan):
    """A file step's change: write `content`, set the attributes only, or remove the file; with the owner,
    group and mode it ends with (an edit keeps the live ones unless the resource declares them)."""

    action: Literal["write", "attrs", "remove"]
    content: bytes | None = None
    owner: str = "root"
    group: str = "root"
    mode: str = "0644"


class _FileLike(Resource):
    """Shared check/apply for resources whose desired state is a whole file's content and attributes."""

    def __init__(self, path: str, owner: str = "root", group: str = "root", mode: str = "0644",
                 validate: str | None = None, backup: bool = True, **kwargs):
        super().__init__(kwargs.pop("name", path), **kwargs)
        self.path, self.owner, self.group = path, owner, group
        self.mode = mode.rjust(4, "0") if mode else None
        # an old copy of a secret outlives its rotation: none is kept (the same policy for every secret file)
        self.validate, self.backup = validate, backup and not self.secret

    def facts(self) -> list[Fact]:
        return [FileFact(self.path)]

    def desired_content(self, state: FileState, facts) -> bytes:
        raise NotImplementedError

    def attributes(self, state: FileState) -> tuple[str, str, str]:
        """The owner, group and mode the file ends with."""
        return self.owner, self.group, self.mode

    def check(self, facts) -> Outcome[FilePlan]:
        state: FileState = facts.get(FileFact(self.path))
        if state.kind not in ("absent", "file"):
            return Outcome.block(f"{self.path} is a {state.kind}, expected a regular file; refusing to replace it")
        owner, group, mode = self.attributes(state)
        desired = self.desired_content(state, facts)
        write = FilePlan("write", desired, owner, group, mode)
        if not state.exists:
            return Outcome.change(f"create {self.path}", content_diff(self.path, None, desired), plan=write)
        known = state.content is not None
        if (known and state.content != desired) or (not known and state.sha256 != _sha256(desired)):
            diff = content_diff(self.path, state.content, desired, old_known=known)
            return Outcome.change(f"update content of {self.path}", diff, plan=write)
        drift = attribute_drift(state, mode, owner, group)
        if drift:
            return Outcome.change(f"{self.path}: " + ", ".join(drift), plan=FilePlan("attrs", None, owner, group, mode))
        return Outcome.ok(f"{self.path} has the declared content, owner and mode")

    def apply(self, session, outcome: Outcome[FilePlan]) -> None:
        plan = outcome.plan
        if plan.action == "write":
            cmd = write_file_command(self.path, plan.owner, plan.group, plan.mode, self.validate, self.backup,
                                     forget_backup=self.secret, content=plan.content)
            session.run(cmd, step=self.title, stdin=plan.content)
        else:
            session.run(attributes_command(self.path, plan.owner, plan.group, plan.mode), step=self.title)

    def invalidate(self, facts) -> None:
        facts.invalidate(kinds=[ServiceFact] if is_unit_path(self.path) else [], paths=[self.path])


def attribute_drift(state: FileState, mode: str | None, owner: str | None, group: str | None) -> list[str]:
    """What differs in mode, owner and group (None: not managed). Pure."""
    drift = []
    if mode and state.mode != mode:
        drift.append(f"mode {state.mode} → {mode}")
    if owner and state.owner != owner:
        drift.append(f"owner {state.owner} → {owner}")
    if group and state.group != group:
        drift.append(f"group {state.group} → {group}")
    return drift


def attributes_command(path: str, owner: str, group: str, mode: str) -> str:
    """Shell that sets a path's owner, group and mode."""
    return f"chown {q(owner)}:{q(group)} {q(path)} && chmod {q(mode)} {q(path)}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class File(_FileLike):
    """A file with exactly this content (text, bytes, or a function of facts), owner and mode; or absent."""

    kind = "file"

    def __init__(self, path: str, content: str | bytes | Callable | None = None, state: str = "present",
                 needs: list[Fact] | None = None, **kwargs):
        super().__init__(path, **kwargs)
        if state == "present" and content is None:
            raise ValueError(f"file {path}: content is required unless state is 'absent'")
        self.content, self.state, self.needs = content, state, list(needs or [])

    def facts(self) -> list[Fact]:
        return super().facts() + self.needs

    def desired_content(self, state, facts) -> bytes:
        content = self.content(facts) if callable(self.content) else self.content
        return content.encode() if isinstance(content, str) else content

    def check(self, facts) -> Outcome:
        if self.state == "absent":
            state = facts.get(FileFact(self.path))
            if state.kind == "directory":  # rm -f cannot remove it: say so at check time, not as a failed apply
                return Outcome.block(f"{self.path} is a directory, expected a file; refusing to remove it")
            if state.exists:
                return Outcome.change(f"remove {self.path}", plan=FilePlan("remove"))
            return Outcome.ok(f"{self.path} is absent")
        return super().check(facts)

    def apply(self, session, outcome: Outcome[FilePlan]) -> None:
        if outcome.plan.action == "remove":
            reload = " && systemctl daemon-reload" if is_unit_path(self.path) else ""
            session.run(f"rm -f {q(self.path)}{reload}", step=self.title)
            return
        super().apply(session, outcome)


class Directory(Resource):
    """A directory with this owner, group and mode."""

    kind = "directory"

    def __init__(self, path: str, owner: str = "root", group: str = "root", mode: str = "0755", **kwargs):
        super().__init__(kwargs.pop("name", path), **kwargs)
        self.path, self.owner, self.group, self.mode = path, owner, group, mode.rjust(4, "0")

    def facts(self) -> list[Fact]:
        return [FileFact(self.path)]

    def check(self, facts) -> Outcome:
        state = facts.get(FileFact(self.path))
        if state.kind == "absent":
            return Outcome.change(f"create directory {self.path}")
        if state.kind != "directory":
            return Outcome.block(f"{self.path} is a {state.kind}, expected a directory; refusing to replace it")
        drift = attribute_drift(state, self.mode, self.owner, self.group)
        if drift:
            return Outcome.change(f"{self.path}: " + ", ".join(drift))
        return Outcome.ok(f"directory {self.path} exists with the declared owner and mode")

    def apply(self, session, outcome: Outcome) -> None:
        p = q(self.path)
        session.run(f"mkdir -p {p} && chown {q(self.owner)}:{q(self.group)} {p} && chmod {q(self.mode)} {p}",
                    step=self.title)

    def invalidate(self, facts) -> None:
        facts.invalidate(paths=[self.path])


def edit_line(text: str, line: str, regexp: str | None, present: bool) -> str:
    """Ensures a line is present (replacing the last line matching regexp) or absent. Pure."""
    lines = text.splitlines()
    pattern = re.compile(regexp) if regexp else None
    matches = [i for i, existing in enumerate(lines) if (pattern.search(existing) if pattern else existing == line)]
    if present:
        if matches:
            lines[matches[-1]] = line
        else:
            lines.append(line)
    else:
        lines = [existing for i, existing in enumerate(lines) if i not in set(matches)]
    return "\n".join(lines) + ("\n" if lines else "")


def edit_block(text: str, block: str, marker: str, present: bool) -> str:
    """Ensures a marked block holds exactly `block` (or is removed), leaving the rest as it was. Pure."""
    begin, end = marker.format(mark="BEGIN"), marker.format(mark="END")
    lines = text.splitlines()
    if begin in lines and end in lines[lines.index(begin):]:
        start = lines.index(begin)
        stop = lines.index(end, start)
        before, after = lines[:start], lines[stop + 1:]
    else:
        before, after = lines, []
    middle = [begin, *block.rstrip("\n").splitlines(), end] if present else []
    result = before + middle + after
    return "\n".join(result) + ("\n" if result else "")


class _EditedFile(_FileLike):
    """A file whose desired content is the live content with one edit applied."""

    def __init__(self, path: str, present: bool = True, create: bool = True, owner: str | None = None,
                 group: str | None = None, mode: str | None = None, **kwargs):
        super().__init__(path, owner=owner, group=group, mode=mode, **kwargs)
        self.present, self.create = present, create

    def check(self, facts) -> Outcome:
        state = facts.get(FileFact(self.path))
        if state.kind == "file" and state.content is None:
            return Outcome.block(f"{self.path} is too large to edit in place")
        if not state.exists and (not self.present or not self.create):
            return Outcome.ok(f"{self.path} does not exist, nothing to remove" if not self.present
                              else f"{self.path} does not exist and create is off")
        return super().check(facts)

    def attributes(self, state: FileState) -> tuple[str, str, str]:
        """An edit keeps the live owner and mode unless the resource declares them."""
        return (self.owner or state.owner or "root", self.group or state.group or "root",
                self.mode or state.mode or "0644")

    def desired_content(self, state, facts) -> bytes:
        live = (state.content or b"").decode("utf-8", "replace")
        return self.edit(live).encode()

    def edit(self, text: str) -> str:
        raise NotImplementedError


class Line(_EditedFile):
    """One line present in a file (replacing the line matching regexp) or absent."""

    kind = "line"

    def __init__(self, path: str, line: str, regexp: str | None = None, **kwargs):
        kwargs.setdefault("name", f"{path}: {line}")
        super().__init__(path, **kwargs)
        self.line, self.regexp = line, regexp

    def edit(self, text: str) -> str:
        return edit_line(text, self.line, self.regexp, self.present)


class Block(_EditedFile):
    """A block of lines between vpskit markers in a file."""

    kind = "block"

    def __init__(self, path: str, block: str, marker: str = "# {mark} VPSKIT MANAGED BLOCK", **kwargs):
        super().__init__(path, **kwargs)
        self.block, self.marker = block, marker

    def edit(self, text: str) -> str:
        return edit_block(text, self.block, self.marker, self.present)



class Permissions(Resource):
    """An existing file or directory has this mode (and owner/group, when given); content untouched."""

    kind = "permissions"

    def __init__(self, path: str, mode: str, owner: str | None = None, group: str | None = None, **kwargs):
        super().__init__(kwargs.pop("name", f"{path} {mode}"), **kwargs)
        self.path, self.mode, self.owner, self.group = path, mode.rjust(4, "0"), owner, group

    def facts(self) -> list[Fact]:
        return [FileFact(self.path)]

    def check(self, facts) -> Outcome:
        state = facts.get(FileFact(self.path))
        if not state.exists or state.kind == "link":
            return Outcome.skip(f"{self.path} does not exist here")
        drift = attribute_drift(state, self.mode, self.owner, self.group)
        if drift:
            return Outcome.change(f"{self.path}: " + ", ".join(drift))
        return Outcome.ok(f"{self.path} has mode {self.mode}")

    def apply(self, session, outcome: Outcome) -> None:
        p = q(self.path)
        commands = [f"chmod {q(self.mode)} {p}"]
        if self.owner or self.group:
            commands.append(f"chown {q(self.owner or '')}{':' + q(self.group) if self.group else ''} {p}")
        session.run(" && ".join(commands), step=self.title)

    def invalidate(self, facts) -> None:
        facts.invalidate(paths=[self.path])
