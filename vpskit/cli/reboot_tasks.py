"""`invoke reboot`: the hosts that need a reboot, the ones a role drains one at a time, back before the next."""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor

from invoke import Exit, task

from .options import RUN_HELP, fail


@task(help={"inventory": RUN_HELP["inventory"], "limit": RUN_HELP["limit"], "set_": RUN_HELP["set_"],
            "serial": "hosts outside a cluster rebooted this many at a time (default: all at once); cluster "
                      "nodes always go one at a time",
            "if_needed": "for cron: act only inside maintenance_window (outside it: do nothing, exit 0)",
            "check": "list which hosts would reboot and why; reboot nothing",
            "forks": RUN_HELP["forks"], "trust_new_hosts": RUN_HELP["trust_new_hosts"],
            "roles_path": RUN_HELP["roles_path"]}, iterable=["set_"])
def reboot(c, inventory=None, limit=None, set_=None, serial=None, if_needed=False, check=False, forks=10,
           trust_new_hosts=False, roles_path=None):
    """Reboot the hosts that need it (/var/run/reboot-required, a newer kernel): cluster nodes one at a time."""
    from ..errors import VpskitError
    from ..facts.reboot import RebootFact
    from ..keys import Keychain
    from ..logins import connect
    from ..maintenance.reboot import batches, drainers, reboot_host
    from ..maintenance.window import parse_window
    from ..onehost import locked_session
    from ..session import HostSession
    from .common import load_project
    try:
        project = load_project(inventory, set_, roles_path)
        hosts = project.inventory.select(limit)
        windows = {h.name: parse_window(h.get("maintenance_window")) for h in hosts}
    except VpskitError as exc:
        fail(str(exc))
    if serial is not None and int(serial) < 1:
        fail(f"--serial {serial}: at least 1")
    roles = project.library.all()
    keys = Keychain()  # hosts are logged into again and again: a key's passphrase is asked once
    now = datetime.datetime.now(datetime.timezone.utc)
    if if_needed:
        outside = [h for h in hosts if windows[h.name] and not windows[h.name].contains(now)]
        for host in outside:
            print(f"{host.name}: outside the maintenance window ({windows[host.name].describe()}): not rebooted")
        hosts = [h for h in hosts if h not in outside]

    def session(host) -> HostSession:
        return HostSession(host.name, connect(host, roles, trust_new_hosts, keys=keys))

    def state_of(host):
        try:
            with connect(host, roles, trust_new_hosts, keys=keys) as conn:
                return RebootFact().parse(conn.run(RebootFact().command()).stdout, 0)
        except VpskitError as exc:
            return exc
    with ThreadPoolExecutor(max_workers=max(1, min(int(forks), len(hosts) or 1))) as pool:
        states = dict(zip([h.name for h in hosts], pool.map(state_of, hosts)))
    unreachable = {n: s for n, s in states.items() if isinstance(s, VpskitError)}
    for name, error in unreachable.items():
        print(f"{name}: not reached: {error}")
    due = [h for h in hosts if h.name not in unreachable and states[h.name].needed]
    for host in hosts:
        if host.name not in unreachable and not states[host.name].needed:
            print(f"{host.name}: no reboot needed")
    for host in due:
        print(f"{host.name}: {'would reboot' if check else 'reboot'}: {'; '.join(states[host.name].reasons())}")
    try:
        drains = drainers(roles, project.inventory, session)
    except VpskitError as exc:
        fail(str(exc))
    order = batches([h.name for h in due], set(drains), int(serial) if serial else None)
    if check or not due:
        if check and due:
            print("order: " + " → ".join("+".join(b) for b in order))
        raise Exit(code=1 if unreachable else 0)
    by_name = {h.name: h for h in due}
    for batch in order:
        def one(name):
            host = by_name[name]
            timeout = float(host.get("maintenance_reboot_timeout", 600))
            opener = lambda h, r, t: connect(h, r, t, keys=keys)  # noqa: E731 - one passphrase prompt per key
            with locked_session(host, roles, trust_new_hosts, opener=opener):  # no run starts until it is down
                return reboot_host(name, lambda: connect(host, roles, trust_new_hosts, keys=keys), states[name],
                                   timeout, drains.get(name))
        try:
            with ThreadPoolExecutor(max_workers=len(batch)) as pool:
                for done in pool.map(one, batch):
                    booted = datetime.datetime.fromtimestamp(done.booted or 0, datetime.timezone.utc)
                    print(f"{done.host}: rebooted (booted {booted:%H:%M:%S} UTC, logged in again)"
                          + "".join(f"; {s}" for s in done.said))
        except VpskitError as exc:
            fail(f"{exc}; not rebooted after it: "
                 f"{', '.join(n for b in order[order.index(batch) + 1:] for n in b) or 'none'}")
    if unreachable:
        raise Exit(code=1)
