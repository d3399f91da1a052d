"""A dict of fact values keyed like the real cache, for checking resources without a host."""

from vpskit.gather import stale


class MissingFact(KeyError):
    """A resource asked for a fact the stub was not given; the message names where the stub came from."""

    def __str__(self) -> str:
        return str(self.args[0])


class StubFacts:
    """Fact values by key; a fact with scripted `polls` answers the next of them each time it is read after being
    invalidated (the last one again once they run out), as a host re-probed until something holds would."""

    def __init__(self, values, origin: str = "stub facts", polls=()):
        self.values = {fact.key: value for fact, value in values}
        self.origin = origin
        self.invalidated: list[tuple] = []
        self.polls = {fact.key: list(later) for fact, later in polls}
        self.polled_facts = {fact.key: fact for fact, _later in polls}
        self.polled = {key: 0 for key in self.polls}  # how many scripted values each fact has handed out
        self.stale: set[tuple] = set()

    def get(self, fact):
        if fact.key in self.stale:
            self.stale.discard(fact.key)
            later, count = self.polls[fact.key], self.polled[fact.key]
            self.values[fact.key] = later[min(count, len(later) - 1)]
            self.polled[fact.key] = count + 1
        if fact.key not in self.values:
            raise MissingFact(f"{self.origin}: no value given for fact {fact!r}")
        return self.values[fact.key]

    def has(self, fact):
        return fact.key in self.values

    def invalidate(self, predicate=None, paths=(), kinds=(), facts=()) -> None:
        """Records what a resource forgets after a change (as FactCache.invalidate, without dropping values);
        a polled fact it forgets reads its next scripted value."""
        kinds, facts = tuple(kinds), tuple(facts)
        self.invalidated.append((predicate, tuple(paths), kinds, facts))
        everything = predicate is None and not (paths or kinds or facts)
        for key, fact in self.polled_facts.items():
            if everything or stale(fact, key, predicate, set(paths), kinds, {f.key for f in facts}):
                self.stale.add(key)
