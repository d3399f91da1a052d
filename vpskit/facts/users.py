"""Accounts: users, groups and a user's authorized_keys."""

from __future__ import annotations

import base64

from .base import Fact, q


class UserFact(Fact):
    """A user's passwd entry and supplementary groups, or None when the user does not exist."""

    shares_shell = True

    def __init__(self, name: str):
        super().__init__(name)

    def command(self) -> str:
        n = q(self.args[0])
        return f"getent passwd {n} && id -Gn {n}"

    def parse(self, output: str, rc: int) -> dict | None:
        lines = output.strip().splitlines()
        if rc != 0 or not lines:
            return None
        name, _pw, uid, gid, gecos, home, shell = lines[0].split(":")[:7]
        groups = lines[1].split() if len(lines) > 1 else []
        return {"name": name, "uid": int(uid), "gid": int(gid), "home": home, "shell": shell, "groups": groups}


class GroupFact(Fact):
    """A group's gid and members, or None when it does not exist."""

    shares_shell = True

    def __init__(self, name: str):
        super().__init__(name)

    def command(self) -> str:
        return f"getent group {q(self.args[0])}"

    def parse(self, output: str, rc: int) -> dict | None:
        line = output.strip()
        if rc != 0 or not line:
            return None
        name, _pw, gid, members = line.split(":")[:4]
        return {"name": name, "gid": int(gid), "members": [m for m in members.split(",") if m]}


class AuthorizedKeysFact(Fact):
    """The home directory of a user and the content of its ~/.ssh/authorized_keys."""

    def __init__(self, user: str):
        super().__init__(user)

    def command(self) -> str:
        u = q(self.args[0])
        return (
            # the home directory is the sixth field of the passwd entry
            f"h=$(getent passwd {u}) || exit 3; h=${{h#*:*:*:*:*:}}; h=${{h%%:*}}; echo \"$h\"; id -gn {u}; "
            # a link the user planted is never read as root (it could name /etc/shadow): reported, not followed
            "f=\"$h/.ssh/authorized_keys\"; if [ -L \"$h/.ssh\" ] || [ -L \"$f\" ]; then echo @link; "
            "elif [ -f \"$f\" ]; then base64 -w0 < \"$f\"; echo; else echo -; fi"
        )

    def parse(self, output: str, rc: int) -> dict | None:
        if rc != 0:
            return None
        lines = output.split("\n")
        home, group = lines[0].strip(), lines[1].strip()
        raw = lines[2].strip() if len(lines) > 2 else "-"
        link = raw == "@link"
        content = None if raw == "-" or link else base64.b64decode(raw).decode("utf-8", "replace")
        return {"home": home, "group": group, "content": content, "link": link}
