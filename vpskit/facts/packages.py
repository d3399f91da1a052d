"""Debian package facts: installed versions of named packages, and the age of the apt cache."""

from __future__ import annotations

from .base import Fact, q

APT_STAMP = "/var/lib/vpskit/apt-update-stamp"


class PackagesFact(Fact):
    """Installed version of each named package; absent packages are missing from the result."""

    shares_shell = True

    def __init__(self, *names: str):
        super().__init__(*sorted(names))

    @classmethod
    def gathered_with(cls):
        return DpkgFacts

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

    shares_shell = True

    def command(self) -> str:
        # the host's clock first, then the mtime of every stamp and list; the newest one counts
        return (f"date +%s; stat -c %Y {APT_STAMP} /var/lib/apt/periodic/update-success-stamp "
                "/var/lib/apt/lists/*_Packages 2>/dev/null; true")

    def parse(self, output: str, rc: int) -> int:
        now, *stamps = (int(x) for x in output.split())
        return now - max(stamps) if stamps else 10**9


UCF_REGISTRY = "/var/lib/ucf/registry"


class ConffilesFact(Fact):
    """The configuration files installed packages ship (dpkg's conffiles, and those they manage with ucf) that
    are missing from the host."""

    def __init__(self, *names: str):
        super().__init__(*sorted(names))

    @classmethod
    def gathered_with(cls):
        return DpkgFacts

    def command(self) -> str:
        return _conffiles_command(self.args, "")

    @classmethod
    def command_for_many(cls, facts: list[ConffilesFact]) -> str:
        return ConffilesFact(*{name for fact in facts for name in fact.args}).command()

    @classmethod
    def parse_many(cls, facts: list[ConffilesFact], output: str, rc: int) -> list[dict[str, list[str]]]:
        missing = facts[0].parse(output, rc)
        return [{n: paths for n, paths in missing.items() if n in fact.args} for fact in facts]

    def parse(self, output: str, rc: int) -> dict[str, list[str]]:
        """{package: [missing conffiles]} for each installed package."""
        missing: dict[str, list[str]] = {}
        current = None
        dpkg, _, ucf = output.partition("@@@ucf\n")
        for line in dpkg.splitlines():
            if line.startswith("@@"):
                name, _, status = line[2:].partition(" ")
                current = name.split(":")[0] if status.strip() == "ii" else None
                if current:
                    missing.setdefault(current, [])
            elif current and line.startswith("/"):
                missing[current].append(line)
        for line in ucf.splitlines():
            package, _, path = line.partition(" ")
            if package in missing and path.strip() and path.strip() not in missing[package]:
                missing[package].append(path.strip())
        return missing


def _conffiles_command(names, version: str) -> str:
    """dpkg-query's missing conffiles of these packages (its header lines with `version`, ${Version} or nothing,
    after the status), then ucf's."""
    quoted = " ".join(q(n) for n in names)
    # obsolete conffiles are no longer shipped; `[` is a shell builtin, so the loop starts no program per file
    return (f"dpkg-query -W -f='@@${{Package}} ${{db:Status-Abbrev}}{version}\\n${{Conffiles}}\\n' {quoted} 2>/dev/null | "
            "while read -r f s flag; do case $f in @@*) echo \"$f $s" + (" $flag" if version else "") + "\" ;; "
            "/*) [ \"$flag\" = obsolete ] || [ -e \"$f\" ] || echo \"$f\" ;; esac; done; "
            f"echo @@@ucf; while read -r p f; do [ -e \"$f\" ] || echo \"$p $f\"; done < {UCF_REGISTRY} 2>/dev/null; "
            "true")


class DpkgFacts:
    """Gathers PackagesFact and ConffilesFact together: one dpkg-query for both kinds, its header lines carrying
    each package's version (what each kind reads alone is its own command's, as it was)."""

    # one dpkg-query for any number of packages, of either kind
    merge_from = 2

    @classmethod
    def command_for_many(cls, facts: list) -> str:
        kinds = {type(fact) for fact in facts}
        if len(kinds) == 1:
            return kinds.pop().command_for_many(facts)
        return _conffiles_command(sorted({name for fact in facts for name in fact.args}), " ${Version}")

    @classmethod
    def parse_many(cls, facts: list, output: str, rc: int) -> list:
        kinds = {type(fact) for fact in facts}
        if len(kinds) == 1:
            return kinds.pop().parse_many(facts, output, rc)
        packages, conffiles = _split_dpkg(output)
        by_kind = {kind: iter(kind.parse_many([f for f in facts if type(f) is kind], text, rc))
                   for kind, text in ((PackagesFact, packages), (ConffilesFact, conffiles))}
        return [next(by_kind[type(fact)]) for fact in facts]


def _split_dpkg(output: str) -> tuple[str, str]:
    """DpkgFacts' output as PackagesFact's and ConffilesFact's own commands give theirs. Pure."""
    dpkg, marker, ucf = output.partition("@@@ucf\n")
    packages, conffiles = [], []
    for line in dpkg.splitlines():
        if line.startswith("@@"):
            name, _, rest = line[2:].partition(" ")
            status, _, version = rest.partition(" ")
            packages.append(f"{name}\t{status}\t{version}")
            conffiles.append(f"@@{name} {status}")
        else:
            conffiles.append(line)
    return "\n".join(packages) + "\n", "\n".join(conffiles) + "\n" + marker + ucf


APT_CONF_FILES = "/etc/apt/apt.conf /etc/apt/apt.conf.d/*"


class AptPolicyFact(Fact):
    """apt's effective periodic and unattended-upgrades settings (`apt-config dump`), and the lines that set them."""

    KEYS = ("APT::Periodic::", "Unattended-Upgrade::Origins-Pattern", "Unattended-Upgrade::Allowed-Origins")
    shares_shell = True

    def command(self) -> str:
        # the whole dump, its keys picked in parse: a grep after apt-config would be one more program
        return (f"echo @@dump; apt-config dump 2>/dev/null; echo @@lines; "
                f"grep -Hn -e 'APT::Periodic::' -e '#clear' {APT_CONF_FILES} 2>/dev/null; true")

    def parse(self, output: str, rc: int) -> dict:
        """{"values": {key: [values]}, "lines": [(path, line number, text)]}; the dump's lines of KEYS only (an
        output without the @@dump line, as earlier versions of the command gave it, holds only those)."""
        values: dict[str, list[str]] = {}
        lines: list[tuple[str, int, str]] = []
        dump, _, found = output.partition("@@lines")
        whole = dump.startswith("@@dump\n")
        for line in dump.splitlines()[1:] if whole else dump.splitlines():
            if whole and not line.startswith(self.KEYS):
                continue
            key, _, value = line.strip().partition(" ")
            if key:
                values.setdefault(key.rstrip(":"), []).append(value.strip().rstrip(";").strip('"'))
        for line in found.splitlines():
            path, _, rest = line.partition(":")
            number, _, text = rest.partition(":")
            if number.isdigit():
                lines.append((path, int(number), text))
        return {"values": values, "lines": lines}

    def affected_by(self, paths) -> bool:
        return any(str(p).startswith("/etc/apt/") for p in paths)
