"""Commit-confirmed changes: snapshot, schedule a revert on the host, apply, prove a fresh login, then cancel.

If the controller dies mid-apply, the host's own timer restores the snapshot; if the fresh login fails,
the snapshot is restored at once over the session that is still open.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Callable

from .connection import Connection
from .errors import ConnectError, LoginRefusedError, RemoteError, VpskitError
from .facts.base import q

ROLLBACK_ROOT = "/var/lib/vpskit/rollback"


@dataclass
class Confirm:
    """How a role's guarded changes are confirmed: which files to restore and how to reload after."""

    paths: list[str] = field(default_factory=list)
    restore: str = "true"
    timeout: int = 60


def arm_script(ident: str, paths: list[str], restore: str, timeout: int) -> str:
    """Shell that snapshots paths, writes restore.sh and schedules it with a transient systemd timer. Pure."""
    d = f"{ROLLBACK_ROOT}/{ident}"
    quoted = " ".join(q(p) for p in sorted(set(paths)))
    return "\n".join([
        "set -e",
        f"d={d}",
        'mkdir -p "$d" && chmod 700 "$d"',
        ': > "$d/present"; : > "$d/absent"',
        f'for p in {quoted}; do if [ -e "$p" ]; then echo "$p" >> "$d/present"; else echo "$p" >> "$d/absent"; fi; done',
        # names one a line on tar's stdin: a path with a space stays one path
        'if [ -s "$d/present" ]; then sed "s|^/||" "$d/present" | tar -C / -cpf "$d/files.tar" --verbatim-files-from -T -; fi',
        "cat > \"$d/restore.sh\" <<'VPSKIT_RESTORE'",
        "#!/bin/sh",
        f"d={d}",
        '[ -f "$d/files.tar" ] && tar -C / -xpf "$d/files.tar"',
        'while read -r p; do rm -f "$p"; done < "$d/absent"',
        restore,
        f'systemctl stop vpskit-rollback-{ident}.timer 2>/dev/null',
        'echo "restored $(date -u +%FT%TZ)" > "$d/restored"',
        "VPSKIT_RESTORE",
        f"systemd-run --quiet --unit=vpskit-rollback-{ident} --on-active={int(timeout)} "
        '--timer-property=AccuracySec=1s /bin/sh "$d/restore.sh"',
    ])


class Guard:
    """One role's commit-confirmed window on one host."""

    def __init__(self, confirm: Confirm, paths: list[str] | Callable[[], list[str]], session, role: str):
        self.confirm, self.session, self.role = confirm, session, role
        # a callable is asked when the guard arms: some paths are known only from facts (an sshd override)
        self._paths = paths
        self.ident = f"{role}-{secrets.token_hex(4)}"
        self.armed = False

    @property
    def paths(self) -> list[str]:
        return list(self.confirm.paths) + list(self._paths() if callable(self._paths) else self._paths)

    def arm(self) -> None:
        script = arm_script(self.ident, self.paths, self.confirm.restore, self.confirm.timeout)
        self.session.run(script, step=f"{self.role}: schedule automatic revert in {self.confirm.timeout}s")
        self.armed = True

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
        """Cancels the revert; fails if the timer already fired (confirmation came too late)."""
        d = f"{ROLLBACK_ROOT}/{self.ident}"
        result = self.session.run(
            f"systemctl stop vpskit-rollback-{self.ident}.timer 2>/dev/null; "
            f"if [ -f {d}/restored ]; then exit 3; fi; rm -rf {d}",
            step=f"{self.role}: cancel automatic revert", check=False)
        self.armed = False
        if result.rc == 3:
            raise VpskitError(f"the host reverted the change by itself: confirmation took longer than "
                              f"{self.confirm.timeout}s (raise the role's confirm timeout)")
        if not result.ok:
            raise RemoteError(self.session.name, f"{self.role}: cancel automatic revert", result.stderr.strip())

    def rollback(self) -> str:
        """Restores the snapshot now over the open session; returns a note for the error message."""
        try:
            self.session.run(f"/bin/sh {ROLLBACK_ROOT}/{self.ident}/restore.sh", step=f"{self.role}: revert")
            self.armed = False
            return "the previous configuration was restored"
        except (VpskitError, OSError, EOFError) as exc:
            return f"immediate revert failed ({exc}); the host reverts by itself within {self.confirm.timeout}s"

