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
        return (
            "now=$(date +%s); "
            f"t=$(stat -c %Y {APT_STAMP} /var/lib/apt/periodic/update-success-stamp /var/lib/apt/lists/*_Packages "
            "2>/dev/null | sort -n | tail -1); echo \"$now ${t:-0}\""
        )

    def parse(self, output: str, rc: int) -> int:
        now, then = (int(x) for x in output.split()[:2])
        return now - then if then else 10**9
