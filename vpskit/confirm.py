"""Commit-confirmed changes: snapshot, schedule a revert on the host, apply, prove a fresh login, then cancel.

The host keeps the window on its own, so it ends on the old or the new configuration whatever the controller
does: a persistent timer restores the snapshot if no confirmation comes, and a boot inside the window runs
the same restore (the unit is wanted by multi-user.target until the window closes). One lock decides between
the three actors: each step of the guarded role holds it shared and runs only while the snapshot is armed,
the restore holds it exclusive (so it never runs in the middle of a step, and no step runs after it), and the
confirmation holds it exclusive too (so it never cancels a restore that is already running, it waits and
reports it). The snapshot, which holds private host keys, is deleted when the window closes either way.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Callable

from .connection import Connection
from .errors import ConnectError, LoginRefusedError, RemoteError, VpskitError
from .facts.base import q

ROLLBACK_ROOT = "/var/lib/vpskit/rollback"
UNIT_DIR = "/etc/systemd/system"
# how long the restore waits for a running step before restoring anyway: never locking out comes first
STEP_WAIT = 300
# how long a step or the confirmation waits for a running restore
RESTORE_WAIT = 120
# the exit status of a step refused because the window already closed
REVERTED = 75
FD = 9


@dataclass
class Confirm:
    """How a role's guarded changes are confirmed: which files to restore and how to reload after."""

    paths: list[str] = field(default_factory=list)
    restore: str = "true"
    timeout: int = 60


def unit_name(ident: str) -> str:
    return f"vpskit-rollback-{ident}"


def _unit_files(ident: str) -> list[str]:
    name = unit_name(ident)
    return [f"{UNIT_DIR}/multi-user.target.wants/{name}.service", f"{UNIT_DIR}/{name}.service",
            f"{UNIT_DIR}/{name}.timer"]


def _close_units(ident: str) -> list[str]:
    """Shell that stops the timer and removes both units, so neither the timer nor a boot restores any more."""
    return [f"systemctl stop {unit_name(ident)}.timer 2>/dev/null",
            "rm -f " + " ".join(_unit_files(ident)),
            "systemctl daemon-reload"]


def restore_script(ident: str, restore: str) -> str:
    """restore.sh: under the exclusive lock, puts the snapshot back once (if still armed) and closes the window.

    Its first argument names who runs it, for the marker the controller reads ("vpskit", or the host's own)."""
    d = f"{ROLLBACK_ROOT}/{ident}"
    return "\n".join([
        "#!/bin/sh",
        f"# vpskit: restores what {ident} changed unless the change was confirmed; run by its timer, a boot or vpskit",
        f"d={d}",
        '[ -d "$d" ] || exit 0',
        f'exec {FD}>>"$d/lock"',
        f'flock -w {STEP_WAIT} {FD} || echo "vpskit: a step still runs after {STEP_WAIT}s; restoring anyway" >&2',
        'if [ -f "$d/armed" ]; then',
        '  [ -f "$d/files.tar" ] && tar -C / -xpf "$d/files.tar"',
        '  while read -r p; do rm -f "$p"; done < "$d/absent"',
        f"  {restore}",
        '  echo "restored $(date -u +%FT%TZ) by ${1:-the host}" > "$d/restored"',
        "fi",
        *_close_units(ident),
        # the snapshot holds private host keys: it goes as soon as it is not needed
        'rm -f "$d/files.tar" "$d/armed" "$d/present" "$d/absent"',
    ])


def unit_files(ident: str, role: str, timeout: int) -> dict[str, str]:
    """The persistent timer and the service it starts; the service is also wanted by a boot. Pure."""
    name = unit_name(ident)
    service = "\n".join([
        "[Unit]",
        f"Description=vpskit: restore what role {role} changed, unless the change was confirmed",
        # on a boot inside the window: after the services the snapshot's files configure, which it then reloads
        "After=multi-user.target",
        "[Service]",
        "Type=oneshot",
        f"TimeoutStartSec={STEP_WAIT + 300}",
        f"ExecStart=/bin/sh {ROLLBACK_ROOT}/{ident}/restore.sh",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])
    timer = "\n".join([
        "[Unit]",
        f"Description=vpskit: automatic revert of role {role} in {int(timeout)}s unless confirmed",
        "[Timer]",
        f"OnActiveSec={int(timeout)}",
        "AccuracySec=1s",
        f"Unit={name}.service",
        "",
    ])
    return {f"{UNIT_DIR}/{name}.service": service, f"{UNIT_DIR}/{name}.timer": timer}


def _heredoc(path: str, text: str, tag: str) -> list[str]:
    return [f"cat > {q(path)} <<'{tag}'", text.rstrip("\n"), tag]


def arm_script(ident: str, paths: list[str], restore: str, timeout: int, role: str = "") -> str:
    """Shell that snapshots paths, writes restore.sh and its units, and starts the timer. Pure."""
    root, d = ROLLBACK_ROOT, f"{ROLLBACK_ROOT}/{ident}"
    name = unit_name(ident)
    quoted = " ".join(q(p) for p in sorted(set(paths)))
    lines = [
        "set -e",
        f"r={root}",
        f"d={d}",
        'mkdir -p "$r" && chmod 700 "$r"',
        # earlier windows that closed (confirmed or restored) leave at most a marker: tidy them
        'for old in "$r"/*/; do if [ -d "$old" ] && [ ! -f "$old/armed" ]; then rm -rf "$old"; fi; done',
        'mkdir -p "$d" && chmod 700 "$d"',
        ': > "$d/present"; : > "$d/absent"',
        f'for p in {quoted}; do if [ -e "$p" ]; then echo "$p" >> "$d/present"; else echo "$p" >> "$d/absent"; fi; done',
        # names one a line on tar's stdin: a path with a space stays one path
        'if [ -s "$d/present" ]; then sed "s|^/||" "$d/present" | tar -C / -cpf "$d/files.tar" --verbatim-files-from -T -; fi',
        *_heredoc(f"{d}/restore.sh", restore_script(ident, restore), "VPSKIT_RESTORE"),
        f"mkdir -p {UNIT_DIR}/multi-user.target.wants",
    ]
    for path, text in unit_files(ident, role or ident, timeout).items():
        lines += _heredoc(path, text, "VPSKIT_UNIT")
    lines += [
        ': > "$d/armed"',
        f"ln -sf ../{name}.service {UNIT_DIR}/multi-user.target.wants/{name}.service",
        "systemctl daemon-reload",
        f"systemctl start {name}.timer",
    ]
    return "\n".join(lines)


def disarm_script(ident: str) -> str:
    """Shell that closes the window as confirmed; exit 3 (and the marker on stdout) if the host restored first."""
    d = f"{ROLLBACK_ROOT}/{ident}"
    return "\n".join([
        f"d={d}",
        f'[ -d "$d" ] || {{ echo "the snapshot folder $d is gone" >&2; exit 4; }}',
        f'exec {FD}>>"$d/lock"',
        # a restore that already started holds the lock: wait for it and say so, never cancel it half-way
        f'flock -w {RESTORE_WAIT} {FD} || {{ echo "the automatic revert still runs after {RESTORE_WAIT}s" >&2; exit 5; }}',
        'if [ -f "$d/restored" ]; then cat "$d/restored"; exit 3; fi',
        *_close_units(ident),
        'rm -rf "$d"',
    ])


def step_prefix(ident: str) -> str:
    """Shell put before each command of a guarded role: holds the window shared, runs only while it is armed."""
    d = f"{ROLLBACK_ROOT}/{ident}"
    return (f'exec {FD}>>{d}/lock && flock -s -w {RESTORE_WAIT} {FD} && [ -f {d}/armed ] || '
            f'{{ echo "vpskit: the automatic revert has already restored the previous configuration; '
            f'this step was not run" >&2; exit {REVERTED}; }}')


class WindowSession:
    """The session as a guarded role's steps see it while the window is open (see step_prefix)."""

    def __init__(self, session, ident: str):
        self._session, self._prefix = session, step_prefix(ident)

    def run(self, command: str, step: str, stdin: bytes | None = None, check: bool = True,
            timeout: float | None = None):
        return self._session.run(f"{self._prefix}\n{command}", step, stdin=stdin, check=check, timeout=timeout)

    def __getattr__(self, name):
        return getattr(self._session, name)


class Guard:
    """One role's commit-confirmed window on one host."""

    def __init__(self, confirm: Confirm, paths: list[str] | Callable[[], list[str]], session, role: str):
        self.confirm, self.session, self.role = confirm, session, role
        # a callable is asked when the guard arms: some paths are known only from facts (an sshd override)
        self._paths = paths
        self.ident = f"{role}-{secrets.token_hex(4)}"
        self.armed = False
        self.deadline = 0.0

    @property
    def paths(self) -> list[str]:
        return list(self.confirm.paths) + list(self._paths() if callable(self._paths) else self._paths)

    def arm(self) -> None:
        script = arm_script(self.ident, self.paths, self.confirm.restore, self.confirm.timeout, self.role)
        self.deadline = time.time() + self.confirm.timeout
        self.session.run(script, step=f"{self.role}: schedule automatic revert in {self.confirm.timeout}s")
        self.armed = True

    def window(self):
        """The session the role's steps use from now on."""
        return WindowSession(self.session, self.ident)

    def verify(self, target) -> str | None:
        """Opens a new connection as the operator will next time; raises when it does not work.

        Returns the fingerprint of the key that logged in (None when unknown)."""
        try:
            with Connection(target) as fresh:
                result = fresh.run("true")
                identity = getattr(fresh, "identity", None)
        except LoginRefusedError as exc:
            # the open session restores the snapshot: no lockout advice for the operator here
            raise VpskitError(f"a fresh login as {target.user}@{target.address}:{target.port} failed: "
                              f"authentication failed for {exc.tried}") from None
        except ConnectError as exc:
            raise VpskitError(f"a fresh login as {target.user}@{target.address}:{target.port} failed: {exc}") from None
        if not result.ok:
            raise VpskitError(f"a fresh login as {target.user}@{target.address}:{target.port} cannot run commands "
                              f"as root: {result.stderr.strip()[:300]}")
        return identity

    def disarm(self) -> None:
        """Closes the window as confirmed; fails if the host restored first (confirmation came too late)."""
        result = self.session.run(disarm_script(self.ident), step=f"{self.role}: cancel automatic revert", check=False)
        if result.rc == 3:
            raise VpskitError(f"the confirmation came after the {self.confirm.timeout}s window had closed")
        if not result.ok:
            raise RemoteError(self.session.name, f"{self.role}: cancel automatic revert", result.stderr.strip())
        self.armed = False

    def rollback(self) -> str:
        """Restores the snapshot now (a new connection if the session dropped); a true note for the message."""
        d = f"{ROLLBACK_ROOT}/{self.ident}"
        command = f"/bin/sh {d}/restore.sh vpskit; cat {d}/restored"
        try:
            result = self._run_once_more(command)
        except Exception as exc:  # noqa: BLE001 - whatever broke the apply may break this too: say what follows
            return self._by_itself(f"immediate revert failed ({type(exc).__name__}: {exc})")
        marker = (result.stdout.strip().splitlines() or [""])[-1]
        if not marker.startswith("restored "):
            return self._by_itself(f"immediate revert failed (exit {result.rc}: {result.stderr.strip()[-300:]})")
        self.armed = False
        if marker.endswith(" by vpskit"):
            return "the previous configuration was restored"
        return (f"the host's automatic revert had already restored the previous configuration "
                f"({marker}): the change outlasted its {self.confirm.timeout}s window (raise the role's confirm "
                f"timeout); no step ran after it")

    def _run_once_more(self, command: str):
        step = f"{self.role}: revert"
        try:
            return self.session.run(command, step=step, check=False)
        except ConnectError:
            raise
        except Exception:  # noqa: BLE001 - a dropped session: one new connection, as the run's own logins
            self.session.connection.close()
            return self.session.run(command, step=step, check=False)

    def _by_itself(self, why: str) -> str:
        at = time.strftime("%H:%M:%S UTC", time.gmtime(self.deadline))
        return (f"{why}; the host restores the previous configuration by itself at {at} "
                f"({self.confirm.timeout}s after the change began; a reboot before then restores it too)")
