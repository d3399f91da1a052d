"""Debian package facts: installed versions of named packages, and the age of the apt cache."""

from __future__ import annotations

from .base import Fact, q

APT_STAMP = "/var/lib/vpskit/apt-update-stamp"


class PackagesFact(Fact):
    """Installed version of each named package; absent packages are missing from the result."""

    def __init__(self, *names: str):
        super().__init__(*sorted(names))

    def command(self) -> str:
        names = " ".join(q(n) for n in self.args)
        return f"dpkg-query -W -f='${{Package}}\\t${{db:Status-Abbrev}}\\t${{Version}}\\n' {names} 2>/dev/null; true"

    @classmethod
    def command_for_many(cls, facts: list[PackagesFact]) -> str:
        return PackagesFact(*{name for fact in facts for name in fact.args}).command()

    @classmethod
    def parse_many(cls, facts: list[PackagesFact], output: str, rc: int) -> list[dict[str, str]]:
        installed = facts[0].parse(output, rc)
        return [{n: v for n, v in installed.items() if n in fact.args} for fact in facts]

    def parse(self, output: str, rc: int) -> dict[str, str]:
        installed = {}
        for line in output.splitlines():
            parts = line.split("\t")
            if len(parts) == 3 and parts[1].strip() == "ii":
                installed[parts[0].split(":")[0]] = parts[2]
        return installed


class AptCacheAgeFact(Fact):
    """Seconds since the package lists were last refreshed (a very large number when never)."""

    def command(self) -> str:
        # the host's clock first, then the mtime of every stamp and list; the newest one counts
        return (f"date +%s; stat -c %Y {APT_STAMP} /var/lib/apt/periodic/update-success-stamp "
                "/var/lib/apt/lists/*_Packages 2>/dev/null; true")

    def parse(self, output: str, rc: int) -> int:
        now, *stamps = (int(x) for x in output.split())
        return now - max(stamps) if stamps else 10**9
