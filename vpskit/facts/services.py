"""systemd unit state: whether it is loaded, active and enabled."""

from __future__ import annotations

from .base import Fact, q


class ServiceFact(Fact):
    """`systemctl show` properties of one unit, as a dict."""

    PROPERTIES = ("LoadState", "ActiveState", "SubState", "UnitFileState", "ConditionResult",
                  "ConditionTimestampMonotonic")
    # one systemctl for any number of units
    merge_from = 2
    shares_shell = True

    def __init__(self, unit: str):
        super().__init__(unit)

    def command(self) -> str:
        return self.command_for_many([self])

    @classmethod
    def command_for_many(cls, facts: list[ServiceFact]) -> str:
        # systemctl prints one block per unit, in the order asked, separated by an empty line
        props = " ".join(f"-p {p}" for p in cls.PROPERTIES)
        return f"systemctl show {props} -- {' '.join(q(f.args[0]) for f in facts)}"

    @classmethod
    def parse_many(cls, facts: list[ServiceFact], output: str, rc: int) -> list[dict[str, str]]:
        if not output.strip():  # systemctl could not answer at all: as for one unit, every property is empty
            return [fact.parse("", rc) for fact in facts]
        blocks = output.strip("\n").split("\n\n")
        if len(blocks) != len(facts):
            raise ValueError(f"systemctl show gave {len(blocks)} blocks for {len(facts)} units")
        return [fact.parse(block, rc) for fact, block in zip(facts, blocks)]

    def parse(self, output: str, rc: int) -> dict[str, str]:
        state = dict.fromkeys(self.PROPERTIES, "")
        for line in output.splitlines():
            key, _, value = line.partition("=")
            if key in state:
                state[key] = value.strip()
        return state
