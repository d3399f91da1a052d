"""Audits hosts in parallel: one connection and one batch of read-only probes per host, then judges."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..errors import VpskitError
from ..facts.system import CommandOutputFact
from ..inventory.model import Host
from ..keys import Keychain
from ..logins import connect
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
            except (KeyError, IndexError, ValueError, TypeError) as exc:
                finding = Finding.fail(f"could not read the probe output ({type(exc).__name__}: {exc})")
        results.append(ItemResult(item, finding))
    return results


def audit_host(host: Host, roles, trust_new_hosts: bool = False, local: dict | None = None,
               keys: Keychain | None = None) -> HostAudit:
    """`local`: probes answered on the controller (name → (status, output)), such as the last drill's record;
    `keys`: the audit's opened key files (a passphrase asked once for all hosts)."""
    variables = host.values
    items = checklist(variables)
    commands = probes_of(items)
    facts = {name: CommandOutputFact(command) for name, command in commands.items()}
    try:
        with connect(host, roles, trust_new_hosts, keys=keys) as conn:
            cache = HostSession(host.name, conn).facts  # the run's own fact batching, read-only here
            cache.ensure(facts.values())
            probes = Probes({**(local or {}), **{name: cache.get(fact) for name, fact in facts.items()}})
    except VpskitError as exc:
        return HostAudit(host.name, error=str(exc))
    return HostAudit(host.name, judge_all(items, probes, variables), connections=conn.connections_opened,
                     commands=conn.commands_run)


def audit_hosts(hosts: list[Host], roles, forks: int = 10, trust_new_hosts: bool = False,
                local=lambda host: {}) -> list[HostAudit]:
    keys = Keychain()
    with ThreadPoolExecutor(max_workers=max(1, min(forks, len(hosts) or 1))) as pool:
        return list(pool.map(lambda h: audit_host(h, roles, trust_new_hosts, local(h), keys), hosts))
