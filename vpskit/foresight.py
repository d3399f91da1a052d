"""Facts a host's later plays will read, foreseen at its first play so they ride in its first round trip.

A later play's roles are planned ahead with what the run knows then; an export no earlier play has published yet
(the first K3s server's token, say) stands in as a placeholder marked predicted. A fact foreseen wrongly costs
nothing but its own gathering: the later play plans again for real and gathers whatever is still missing. A host
that changes anything before a later play runs drops what was foreseen for it (FactCache.invalidate), so a
converging run reads those facts again after the changes, as it did before; a no-op reads them once.
"""

from __future__ import annotations

from .context import ExportsView
from .errors import VpskitError
from .exports import Published
from .facts.base import Fact

# what a plan reads in place of an export not yet published: never written to a host, since a foreseen
# plan is only asked for its facts
PLACEHOLDER = "(foreseen: published by an earlier play)"


class ForeseenExports(ExportsView):
    """Earlier plays' exports as far as they are published; a placeholder, marked predicted, for the rest."""

    def get(self, name: str, host: str | None = None):
        return self.item(name, host).value

    def item(self, name: str, host: str | None = None) -> Published:
        try:
            return super().item(name, host)
        except VpskitError:  # not published yet, or by several hosts: the later play, planned for real, says so
            return Published(name, PLACEHOLDER, host or "", "", predicted=True)

    def predicted(self, name: str, host: str | None = None) -> bool:
        return self.item(name, host).predicted


def gathered_up_front(plans) -> list[Fact]:
    """The facts a play's plans gather before their first step: every step's but an after_change step's (it
    reads its own when it runs), and the facts their exports read."""
    return [*(f for plan in plans for r in plan.resources if not r.after_change for f in r.all_facts()),
            *(f for plan in plans for e in plan.exports for f in e.facts())]


def foreseen_facts(later_plans) -> list[Fact]:
    """The up-front facts of each later play's plans (`later_plans`: one list of plans per play), in order,
    each fact once."""
    seen: dict[tuple, Fact] = {}
    for plans in later_plans:
        for fact in gathered_up_front(plans):
            seen.setdefault(fact.key, fact)
    return list(seen.values())
