"""Packages and their missing conffiles are read by one dpkg-query where the commands before (kept below as they
were) ran one each, and every fact's value is what its own command gave.

Over this machine's real sh and dpkg-query, on a dpkg database under tmp (`--admindir`, both commands' path to
ucf's registry moved there too): installed packages of two architectures, one removed with its conffiles left,
one unknown; conffiles present, missing and obsolete; ucf's files present and missing.
"""

from __future__ import annotations

import shutil

import pytest

from tests.unit.programs import Programs
from vpskit.facts import ConffilesFact, PackagesFact
from vpskit.facts.packages import UCF_REGISTRY, DpkgFacts
from vpskit.gather import sections_for

pytestmark = pytest.mark.skipif(not shutil.which("dpkg-query"), reason="dpkg-query is not installed here")

# the commands at commit 6d9ce10
PACKAGES_BEFORE = "dpkg-query -W -f='${{Package}}\\t${{db:Status-Abbrev}}\\t${{Version}}\\n' {names} 2>/dev/null; true"
CONFFILES_BEFORE = (
    "dpkg-query -W -f='@@${{Package}} ${{db:Status-Abbrev}}\\n${{Conffiles}}\\n' {names} 2>/dev/null | "
    "while read -r f s flag; do case $f in @@*) echo \"$f $s\" ;; "
    "/*) [ \"$flag\" = obsolete ] || [ -e \"$f\" ] || echo \"$f\" ;; esac; done; "
    "echo @@@ucf; while read -r p f; do [ -e \"$f\" ] || echo \"$p $f\"; done < /var/lib/ucf/registry 2>/dev/null; "
    "true")

STANZA = """Package: {name}
Status: {status}
Priority: optional
Section: misc
Maintainer: Someone <someone@example.org>
Architecture: {arch}
Multi-Arch: same
Version: {version}
{conffiles}Description: a package
"""


def database(tmp_path):
    admin, etc = tmp_path / "dpkg", tmp_path / "etc"
    (admin / "updates").mkdir(parents=True)
    (admin / "info").mkdir()
    etc.mkdir()
    for name in ("alpha.conf", "beta.conf", "ucf-kept.conf"):
        (etc / name).write_text("x\n")

    def conffiles(*entries):
        return "Conffiles:\n" + "".join(f" {etc / name} 0123456789abcdef0123456789abcdef{extra}\n"
                                        for name, extra in entries)
    stanzas = [
        dict(name="alpha", status="install ok installed", arch="amd64", version="1.0-1",
             conffiles=conffiles(("alpha.conf", ""), ("alpha-missing.conf", ""), ("alpha-old.conf", " obsolete"))),
        dict(name="alpha", status="install ok installed", arch="i386", version="1.0-1", conffiles=""),
        dict(name="beta", status="install ok installed", arch="amd64", version="2:3.4~rc1-2+deb12u1",
             conffiles=conffiles(("beta.conf", ""))),
        dict(name="gamma", status="deinstall ok config-files", arch="amd64", version="5",
             conffiles=conffiles(("gamma-missing.conf", ""))),
        dict(name="delta", status="install ok installed", arch="amd64", version="0.1", conffiles=""),
    ]
    (admin / "status").write_text("\n".join(STANZA.format(**s) for s in stanzas))
    registry = tmp_path / "ucf-registry"
    registry.write_text(f"delta {etc / 'ucf-kept.conf'}\ndelta {etc / 'ucf-missing.conf'}\n"
                        f"alpha {etc / 'alpha-missing.conf'}\nunknown {etc / 'nowhere.conf'}\n")
    return admin, registry


def run(tmp_path, command: str, name: str) -> tuple[str, list[str]]:
    admin, registry = tmp_path / "dpkg", tmp_path / "ucf-registry"
    programs = Programs(tmp_path / name).real("dpkg-query")
    local = command.replace("dpkg-query -W", f"dpkg-query --admindir={admin} -W").replace(UCF_REGISTRY, str(registry))
    done = programs.run(local)
    return done.stdout, programs.started()


FACTS = [PackagesFact("alpha", "beta", "no-such"), PackagesFact("gamma"), ConffilesFact("alpha", "gamma", "delta"),
         ConffilesFact("beta", "no-such"), PackagesFact("delta")]


def test_one_dpkg_query_gives_each_fact_what_its_own_command_gave(tmp_path):
    database(tmp_path)
    alone = []
    for index, fact in enumerate(FACTS):
        before = PACKAGES_BEFORE if isinstance(fact, PackagesFact) else CONFFILES_BEFORE
        output, _ = run(tmp_path, before.format(names=" ".join(fact.args)), str(index))
        alone.append(fact.parse(output, 0))
    section, = sections_for(FACTS)
    output, started = run(tmp_path, section.command(), "together")
    assert section.parse(output, 0) == alone
    assert started == ["dpkg-query"]
    assert alone[0] == {"alpha": "1.0-1", "beta": "2:3.4~rc1-2+deb12u1"} and alone[1] == {}
    assert {n: sorted(p.rsplit("/", 1)[1] for p in paths) for n, paths in alone[2].items()} == {
        "alpha": ["alpha-missing.conf"], "delta": ["ucf-missing.conf"]}


def test_one_kind_alone_is_gathered_by_its_own_command():
    packages = [PackagesFact("a"), PackagesFact("b")]
    conffiles = [ConffilesFact("a"), ConffilesFact("b")]
    assert DpkgFacts.command_for_many(packages) == PackagesFact.command_for_many(packages)
    assert DpkgFacts.command_for_many(conffiles) == ConffilesFact.command_for_many(conffiles)
    assert ConffilesFact("a", "b").command() == CONFFILES_BEFORE.format(names="a b")
