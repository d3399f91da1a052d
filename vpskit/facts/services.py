"""systemd unit state: whether it is loaded, active and enabled."""

from __future__ import annotations

from .base import Fact, q


class ServiceFact(Fact):
    """`systemctl show` properties of one unit, as a dict."""

    PROPERTIES = ("LoadState", "ActiveState", "SubState", "UnitFileState", "ConditionResult",
                  "ConditionTimestampMonotonic")

    def __init__(self, unit: str):
        super().__init__(unit)

    def command(self) -> str:
        props = " ".join(f"-p {p}" for p in self.PROPERTIES)
        return f"systemctl show {props} -- {q(self.args[0])}"

    def parse(self, output: str, rc: int) -> dict[str, str]:
        state = dict.fromkeys(self.PROPERTIES, "")
        for line in output.splitlines():
            key, _, value = line.partition("=")
            if key in state:
                state[key] = value.strip()
        return state
