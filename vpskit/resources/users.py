"""Accounts: groups, users and their SSH authorized keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..facts.base import q
from ..facts.users import AuthorizedKeysFact, GroupFact, UserFact
from .base import Outcome, Plan, Resource
from .files import ON_SIGNAL, USER_SWEEP, arrived_whole


@dataclass(frozen=True)
class UserPlan(Plan):
    """Whether the user is created, modified (shell, groups) or removed."""

    action: Literal["create", "modify", "remove"]


@dataclass(frozen=True)
class KeysPlan(Plan):
    """The authorized_keys content to write, with the user's home and primary group as the host has them."""

    home: str
    group: str
    content: str


class Group(Resource):
    """A group exists (or not)."""

    kind = "group"

    def __init__(self, group: str, state: str = "present", system: bool = False, **kwargs):
        super().__init__(kwargs.pop("name", group), **kwargs)
        self.group, self.state, self.system = group, state, system

    def facts(self):
        return [GroupFact(self.group)]

    def check(self, facts) -> Outcome:
        exists = facts.get(GroupFact(self.group)) is not None
        if exists == (self.state == "present"):
            return Outcome.ok(f"group {self.group} is {'present' if exists else 'absent'}")
        return Outcome.change(f"{'create' if self.state == 'present' else 'remove'} group {self.group}")

    def apply(self, session, outcome) -> None:
        if self.state == "present":
            session.run(f"groupadd {'--system ' if self.system else ''}{q(self.group)}", step=self.title)
        else:
            session.run(f"groupdel {q(self.group)}", step=self.title)


class User(Resource):
    """A user with this shell and (at least these) supplementary groups; or absent."""

    kind = "user"

    def __init__(self, user: str, shell: str = "/bin/bash", groups: list[str] | None = None,
                 state: str = "present", **kwargs):
        super().__init__(kwargs.pop("name", user), **kwargs)
        self.user, self.shell, self.groups, self.state = user, shell, sorted(groups or []), state

    def facts(self):
        return [UserFact(self.user)]

    def check(self, facts) -> Outcome:
        live = facts.get(UserFact(self.user))
        if self.state == "absent":
            return Outcome.change(f"remove user {self.user}", plan=UserPlan("remove")) if live else Outcome.ok(f"user {self.user} is absent")
        if live is None:
            return Outcome.change(f"create user {self.user} (shell {self.shell}, groups {', '.join(self.groups) or '-'})",
                                  plan=UserPlan("create"))
        drift = []
        if live["shell"] != self.shell:
            drift.append(f"shell {live['shell']} → {self.shell}")
        missing = [g for g in self.groups if g not in live["groups"]]
        if missing:
            drift.append(f"add to groups {', '.join(missing)}")
        if drift:
            return Outcome.change(f"user {self.user}: " + "; ".join(drift), plan=UserPlan("modify"))
        return Outcome.ok(f"user {self.user} exists with shell {self.shell} and groups {', '.join(self.groups) or '-'}")

    def apply(self, session, outcome: Outcome[UserPlan]) -> None:
        groups = f"-G {q(','.join(self.groups))} " if self.groups else ""
        if outcome.plan.action == "remove":
            session.run(f"userdel {q(self.user)}", step=self.title)
        elif outcome.plan.action == "create":
            session.run(f"useradd -m -U -s {q(self.shell)} {groups}{q(self.user)}", step=self.title)
        else:
            session.run(f"usermod -s {q(self.shell)} {'-a ' + groups if groups else ''}{q(self.user)}", step=self.title)


class AuthorizedKeys(Resource):
    """These public keys are in the user's ~/.ssh/authorized_keys (and, if exclusive, no others)."""

    kind = "authorized-keys"

    def __init__(self, user: str, keys: list[str], exclusive: bool = False, **kwargs):
        super().__init__(kwargs.pop("name", user), **kwargs)
        self.user, self.exclusive = user, exclusive
        self.keys = [k.strip() for k in keys if k.strip()]
        if not self.keys:
            raise ValueError(f"authorized keys for {user}: no key given")

    def facts(self):
        return [AuthorizedKeysFact(self.user)]

    @staticmethod
    def _identity(line: str) -> str:
        """Key type and base64 body, ignoring options and comment, so a renamed key still matches."""
        parts = line.split()
        for i, part in enumerate(parts):
            if part.startswith(("ssh-", "ecdsa-", "sk-")) and i + 1 < len(parts):
                return f"{part} {parts[i + 1]}"
        return line

    def desired(self, live: str | None) -> str:
        lines = [] if (self.exclusive or not live) else [ln for ln in live.splitlines() if ln.strip()]
        have = {self._identity(ln) for ln in lines}
        for key in self.keys:
            if self._identity(key) not in have:
                lines.append(key)
                have.add(self._identity(key))
        return "\n".join(lines) + "\n"

    def check(self, facts) -> Outcome:
        live = facts.get(AuthorizedKeysFact(self.user))
        if live is None:
            return Outcome.block(f"user {self.user} does not exist")
        if live.get("link"):
            return Outcome.block(f"{live['home']}/.ssh/authorized_keys (or ~/.ssh) of {self.user} is a symbolic link; "
                                 "refusing to follow it as root (make it a plain file)")
        if live["content"] is not None:
            live_ids = {self._identity(ln) for ln in live["content"].splitlines() if ln.strip()}
            wanted_ids = {self._identity(k) for k in self.keys}
            if (live_ids == wanted_ids) if self.exclusive else (wanted_ids <= live_ids):
                return Outcome.ok(f"{len(self.keys)} key(s) authorized for {self.user}"
                                  + (", no others" if self.exclusive else ""))
        wanted = self.desired(live["content"])
        return Outcome.change(f"authorize {len(self.keys)} key(s) for {self.user}"
                              + (" and drop any others" if self.exclusive else ""),
                              plan=KeysPlan(live["home"], live["group"], wanted))

    def apply(self, session, outcome: Outcome[KeysPlan]) -> None:
        home, group, content = outcome.plan.home, outcome.plan.group, outcome.plan.content
        session.run(authorized_keys_command(f"{home}/.ssh", self.user, group, content.encode()), step=self.title,
                    stdin=content.encode())


# written by the user: a link the user swaps in (for the file, or for the temp file beside it) reaches only
# what the user could write anyway; rename replaces a link, never follows it
def _as_user(content: bytes) -> str:
    return "\n".join([
        "set -e",
        "umask 077",
        'd=$1',
        'chmod 700 "$d"',
        USER_SWEEP,
        'tmp=$(mktemp "$d/.vpskit-XXXXXX")',
        "trap 'rm -f \"$tmp\"' EXIT",
        ON_SIGNAL,
        'cat > "$tmp"',
        arrived_whole(content),
        'mv -fT "$tmp" "$d/authorized_keys"',
        "trap - EXIT",
    ])


def authorized_keys_command(ssh_dir: str, user: str, group: str, content: bytes) -> str:
    """Shell that writes stdin to ssh_dir/authorized_keys as `user`; root only makes the folder theirs. Pure.

    Root acts in a home the user controls only with calls that do not follow links: a ~/.ssh that is a link
    is refused, mkdir fails on one planted meanwhile, chown -h changes a link, not what it names."""
    s = q(ssh_dir)
    return "\n".join([
        "set -e",
        f"if [ -L {s} ]; then echo {q(f'{ssh_dir} is a symbolic link; refusing to follow it')} >&2; exit 1; fi",
        f"if [ ! -e {s} ]; then mkdir -m 700 {s}; fi",
        f"chown -h {q(user)}:{q(group)} {s}",
        # the user may not enter root's working directory (find, in the sweep, must be able to return to it)
        "cd /",
        f"runuser -u {q(user)} -- sh -c {q(_as_user(content))} sh {s}",
    ])
