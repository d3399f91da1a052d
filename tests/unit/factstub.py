"""A dict of fact values keyed like the real cache, for checking resources without a host."""


class MissingFact(KeyError):
    """A resource asked for a fact the stub was not given; the message names where the stub came from."""

    def __str__(self) -> str:
        return str(self.args[0])


class StubFacts:
    def __init__(self, values, origin: str = "stub facts"):
        self.values = {fact.key: value for fact, value in values}
        self.origin = origin
        self.invalidated: list[tuple] = []

    def get(self, fact):
        if fact.key not in self.values:
            raise MissingFact(f"{self.origin}: no value given for fact {fact!r}")
        return self.values[fact.key]

    def has(self, fact):
        return fact.key in self.values

    def invalidate(self, predicate=None, paths=()) -> None:
        """Records what a resource forgets after a change (as FactCache.invalidate, without dropping values)."""
        self.invalidated.append((predicate, tuple(paths)))
