"""`invoke unlock HOST`: who holds a host's run lock, and breaking it when its run hangs."""

from __future__ import annotations

from invoke import Exit, task

from ..errors import VpskitError
from ..facts.lock import LOCK_PATH, break_script, parse_break
from ..logins import connect
from .common import RUN_HELP, fail, load_project


@task(help={"host": "inventory name of the host", "inventory": RUN_HELP["inventory"], "set_": RUN_HELP["set_"],
            "yes": "do not ask for confirmation", "trust_new_hosts": RUN_HELP["trust_new_hosts"],
            "roles_path": RUN_HELP["roles_path"]}, iterable=["set_"])
def unlock(c, host, inventory=None, set_=None, yes=False, trust_new_hosts=False, roles_path=None):
    """Name who holds HOST's run lock and, once you agree, break it (the holder's SSH session is ended)."""
    try:
        project = load_project(inventory, set_, roles_path)
        if host not in project.inventory.hosts:
            fail(f"{host} is not a host of the inventory")
        chosen = project.inventory.hosts[host]
        path = str(chosen.get("vpskit_lock_path", LOCK_PATH))
        with connect(chosen, project.library.all(), trust_new_hosts) as conn:
            state, holder, alive = parse_break(conn.run(break_script(path)).stdout)
            if state == "free":
                print(f"{host}: not locked")
                return
            if state != "held" or holder is None:
                fail(f"{host}: cannot read the lock at {path}")
            session = (f"its SSH session (sshd pid {holder.pid}) is still open" if alive else
                       "its SSH session has ended: the lock is stale, and the next run takes it over")
            print(f"{host}: locked by {holder.describe()}; {session}")
            if not yes and input(f"Break it{', ending that session' if alive else ''}? [y/N] ").strip().lower() != "y":
                raise Exit("unlock cancelled", code=1)
            state, _holder, _alive = parse_break(conn.run(break_script(path, holder.run_id)).stdout)
    except VpskitError as exc:
        fail(str(exc))
    if state == "broken":
        print(f"{host}: lock broken" + ("; the holder's SSH session was ended" if alive else ""))
    elif state == "changed":
        fail(f"{host}: the lock changed hands meanwhile; nothing broken (run unlock again to see who holds it)")
    elif state == "free":
        print(f"{host}: the lock was released meanwhile")
    else:
        fail(f"{host}: cannot break the lock at {path}")
