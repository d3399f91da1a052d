"""A locked session on one host, for a task outside a run (a restore, a drill's restore, a reboot, lab.break): the
run's host lock taken as a run takes it (or, for a task that only reads, looked at as check mode looks: waiting while
an apply holds it, taking nothing), the host's secrets masked, and the lock released when the task ends, failed or not.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from .errors import VpskitError
from .facts.lock import LOCK_PATH, HostLockFact, LockState, new_run_id, operator_name, release_script
from .inventory.model import Host
from .logins import connect
from .secrets import Masker, collect_secrets
from .session import HostSession

# the lock wait happens inside the fact batch, which has its own time limit
MAX_LOCK_WAIT = 90


def lock_fact(host: Host, run_id: str, controller_address: str, checking: bool = False) -> HostLockFact:
    """The host's run lock as the inventory sets it (vpskit_lock_path, vpskit_lock_timeout), for run `run_id`."""
    wait = min(int(host.get("vpskit_lock_timeout", 30)), MAX_LOCK_WAIT)
    return HostLockFact(run_id, operator_name(), controller_address, wait,
                        str(host.get("vpskit_lock_path", LOCK_PATH)), checking=checking)


def refuse_if_held(host_name: str, fact: HostLockFact, state: LockState) -> None:
    """Raises, naming the holder, when another run keeps the lock (after waiting vpskit_lock_timeout)."""
    if not state.acquired:
        raise VpskitError(f"{host_name}: another vpskit run is working on this host: "
                          f"{state.describe()}; waited {fact.args[3]}s (vpskit_lock_timeout)")


def host_masker(host: Host) -> Masker:
    """Hides the host's secrets (its variables' secret values and its inventory's secrets) in what is shown."""
    return Masker(collect_secrets(host.values) | host.secrets)


@contextmanager
def locked_session(host: Host, roles, trust_new_hosts: bool = False, read_only: bool = False,
                   note: Callable[[str], None] = lambda message: None, opener=None) -> Iterator[HostSession]:
    """An open HostSession on `host` holding its run lock (`read_only`: looking at it only), masked with the host's
    secrets. Refused, naming the holder, while another run works on the host; the lock is released at the end.
    `opener(host, roles, trust_new_hosts)` opens the connection (default: the inventory's logins)."""
    masker = host_masker(host)
    conn = (opener or connect)(host, roles, trust_new_hosts)
    run_id, taken = new_run_id(), False
    try:
        session = HostSession(host.name, conn, check_mode=read_only, masker=masker, note=note)
        fact = lock_fact(host, run_id, conn.local_address() or "", checking=read_only)
        state = session.facts.get(fact)
        refuse_if_held(host.name, fact, state)
        taken = not read_only
        if state.took_over_stale:
            note(f"took over the lock of an earlier run that ended: {state.took_over_stale.describe()}")
        yield session
    finally:
        try:
            if taken:  # it would go stale when the connection closes; released, `invoke unlock` shows it free
                conn.run(release_script(run_id, fact.args[4]), timeout=60)
        except Exception:  # noqa: BLE001 - a connection that died (a reboot) ended the lock's holder: it is stale
            pass
        finally:
            conn.close()
