"""Audits hosts in parallel through the engine's own host session: one connection, one batch of facts per host
(the items' facts with the host lock, looked at as check mode looks: never taken), then judges, masked."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..errors import VpskitError
from ..facts.lock import new_run_id
from ..inventory.model import Host
from ..keys import Keychain
from ..logins import connect
from ..onehost import host_masker, lock_fact, refuse_if_held
from ..secrets import Masker
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


def masked(results: list[ItemResult], masker: Masker) -> list[ItemResult]:
    """The results as they may be shown: no secret of the inventory in an evidence or a fix."""
    return [ItemResult(r.item, Finding(r.finding.status, masker.mask(r.finding.evidence), masker.mask(r.finding.fix)))
            for r in results]


def audit_host(host: Host, roles, trust_new_hosts: bool = False, local: dict | None = None,
               keys: Keychain | None = None, connect=connect) -> HostAudit:
    """`local`: probes answered on the controller (name → (status, output)), such as the last drill's record;
    `keys`: the audit's opened key files (a passphrase asked once for all hosts)."""
    variables = host.values
    masker = host_masker(host)
    items = checklist(variables, roles)
    facts = probes_of(items)
    conn = None
    try:
        conn = connect(host, roles, trust_new_hosts, keys=keys)
        session = HostSession(host.name, conn, check_mode=True, masker=masker)
        lock = lock_fact(host, new_run_id(), conn.local_address() or "", checking=True)  # looked at, never taken
        session.facts.ensure([lock, *facts.values()])  # one round trip
        refuse_if_held(host.name, lock, session.facts.get(lock))
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
    keys = Keychain()
    with ThreadPoolExecutor(max_workers=max(1, min(forks, len(hosts) or 1))) as pool:
        return list(pool.map(lambda h: audit_host(h, roles, trust_new_hosts, local(h), keys), hosts))
