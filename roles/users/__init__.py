"""users role: an admin user with sudo (validated drop-in) and the operator's SSH keys."""

import os
import re
from pathlib import Path

from vpskit.errors import VpskitError
from vpskit.resources import AuthorizedKeys, File, Packages, Permissions, User
from vpskit.role import RolePlan

NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


def admin_keys(v: dict) -> list[str]:
    """Declared keys, then key files, then the public half of the key vpskit logs in with."""
    keys = list(v["users_admin_keys"])
    files = [Path(os.path.expanduser(f)) for f in v["users_admin_key_files"]]
    if not keys and not files and v.get("vpskit_ssh_key"):
        files = [Path(os.path.expanduser(v["vpskit_ssh_key"] + ".pub"))]
    for path in files:
        try:
            keys += [line for line in path.read_text().splitlines() if line.strip()]
        except OSError as exc:
            raise VpskitError(f"users_admin_key_files: cannot read {path}: {exc.strerror}") from None
    if not keys:
        raise VpskitError("users: no public key for the admin user; set users_admin_keys or users_admin_key_files")
    return keys


def plan(ctx) -> RolePlan:
    v = ctx.vars
    name = v["users_admin_name"]
    if not NAME.match(name or ""):
        raise VpskitError(f"users_admin_name {name!r} is not a valid user name")
    rule = "NOPASSWD:ALL" if v["users_admin_sudo_nopasswd"] else "ALL"
    return RolePlan("users", [
        Packages(["sudo"]),
        User(name, shell=v["users_admin_shell"], groups=v["users_admin_groups"]),
        Permissions(f"/home/{name}", "0750", owner=name),
        AuthorizedKeys(name, admin_keys(v), exclusive=v["users_admin_keys_exclusive"]),
        File(f"/etc/sudoers.d/vpskit-{name}", content=f"# Managed by vpskit\n{name} ALL=(ALL:ALL) {rule}\n",
             mode="0440", validate="visudo -cf %s"),
    ])
