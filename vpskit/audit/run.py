"""Audits hosts in parallel through the engine's own host session: one connection, one batch of facts per host
(the items' facts with the host lock, looked at as check mode looks: never taken), then judges, masked."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..errors import VpskitError
from ..facts.lock import LOCK_PATH, HostLockFact, new_run_id, operator_name
from ..inventory.model import Host
from ..logins import connect
from ..runner import MAX_LOCK_WAIT
from ..secrets import Masker, collect_secrets
from ..session import HostSession
from .checklist import checklist, probes_of
from .model import Finding, HostAudit, ItemResult, Probes


def judge_all(items, probes: Probes, variables: dict) -> list[ItemResult]:
    """Each item's finding; a judge that cannot read its probes' output fails that item alone, saying so."""
    results = []
    for item in items:
        if item.judge is None:
            finding = Finding("manual", item.prompt)
        else:
            try:
                finding = item.judge(probes, variables)
            except (KeyError, IndexError, ValueError, TypeError, AttributeError) as exc:
                finding = Finding.fail(f"could not read the probe output ({type(exc).__name__}: {exc})")
        results.append(ItemResult(item, finding))
    return results


def lock_look(host: Host, controller_address: str) -> HostLockFact:
    """The host lock as a check run reads it: waits (bounded) while an apply holds it, writes nothing."""
    wait = min(int(host.get("vpskit_lock_timeout", 30)), MAX_LOCK_WAIT)
    return HostLockFact(new_run_id(), operator_name(), controller_address, wait,
                        str(host.get("vpskit_lock_path", LOCK_PATH)), checking=True)


def masked(results: list[ItemResult], masker: Masker) -> list[ItemResult]:
    """The results as they may be shown: no secret of the inventory in an evidence or a fix."""
    return [ItemResult(r.item, Finding(r.finding.status, masker.mask(r.finding.evidence), masker.mask(r.finding.fix)))
            for r in results]


def audit_host(host: Host, roles, trust_new_hosts: bool = False, local: dict | None = None,
               connect=connect) -> HostAudit:
    """`local`: probes answered on the controller (name → (status, output)), such as the last drill's record."""
    variables = host.values
    masker = Masker(collect_secrets(variables) | host.secrets)
    items = checklist(variables, roles)
    facts = probes_of(items)
    conn = None
    try:
        conn = connect(host, roles, trust_new_hosts)
        session = HostSession(host.name, conn, check_mode=True, masker=masker)
        lock = lock_look(host, conn.local_address() or "")
        session.facts.ensure([lock, *facts.values()])  # one round trip
        held = session.facts.get(lock)
        if not held.acquired:
            raise VpskitError(f"{host.name}: another vpskit run is working on this host: {held.describe()}; "
                              f"waited {lock.args[3]}s (vpskit_lock_timeout)")
        probes = Probes({**(local or {}), **{name: session.facts.get(fact) for name, fact in facts.items()}})
    except VpskitError as exc:
        return HostAudit(host.name, error=masker.mask(str(exc)))
    finally:
        if conn is not None:
            conn.close()
    return HostAudit(host.name, masked(judge_all(items, probes, variables), masker),
                     connections=conn.connections_opened, commands=conn.commands_run)


def audit_hosts(hosts: list[Host], roles, forks: int = 10, trust_new_hosts: bool = False,
                local=lambda host: {}) -> list[HostAudit]:
    with ThreadPoolExecutor(max_workers=max(1, min(forks, len(hosts) or 1))) as pool:
        return list(pool.map(lambda h: audit_host(h, roles, trust_new_hosts, local(h)), hosts))
