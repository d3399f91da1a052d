"""A dict of fact values keyed like the real cache, for checking resources without a host."""


class StubFacts:
    def __init__(self, values: dict):
        self.values = {fact.key: value for fact, value in values}

    def get(self, fact):
        return self.values[fact.key]

    def has(self, fact):
        return fact.key in self.values
