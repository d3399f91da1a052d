"""Facts whose class shares the batch's shell (no subshell, one fork less each) leave that shell as they found it,
and a batch reports the same with them sharing it as with every section in a subshell of its own.

Over this machine's real sh, with its own files, units and packages (every command only reads).
"""

from __future__ import annotations

import subprocess

import pytest

from vpskit.facts import (AptCacheAgeFact, AptPolicyFact, AuthorizedKeysFact, CommandFact, CommandOutputFact,
                          ConffilesFact, FileFact, GroupFact, HostInfoFact, PackagesFact, ServiceFact,
                          SshdConfigFact, SshdEffectiveFact, SysctlFact, UserFact)
from vpskit.facts.base import Fact
from vpskit.facts.ufw import UfwFact
from vpskit.gather import batch_script, parse_batch, sections_for

SHARING = [
    [PackagesFact("dash", "no-such-package"), PackagesFact("coreutils")], [AptCacheAgeFact()],
    [ServiceFact("ssh"), ServiceFact("no-such.service")], [UserFact("root"), UserFact("nobody-here")],
    [GroupFact("root")], [CommandFact("cd /; set -f; x=1; exit 4")], [CommandOutputFact("set -- a; echo $1")],
    [SysctlFact("net.ipv4.ip_forward", "kernel.no_such_key")], [SshdEffectiveFact("10.0.0.5", "root")],
    [UfwFact()], [AptPolicyFact()],
]

# the shell's whole state, but for the line number it is at
SNAPSHOT = "{ set | grep -v '^LINENO='; set +o; printf '%s\\n' \"$#\" \"$@\"; pwd; umask; trap; }"


def commands(facts: list[Fact]) -> list[str]:
    many = type(facts[0]).command_for_many(facts) if len(facts) > 1 else None
    return [f.command() for f in facts] + ([many] if many else [])


@pytest.mark.parametrize("facts", SHARING, ids=lambda facts: type(facts[0]).__name__)
def test_a_fact_that_shares_the_shell_leaves_it_as_it_found_it(tmp_path, facts):
    assert type(facts[0]).shares_shell
    for command in commands(facts):
        script = (f"set -- one 'two words'; {SNAPSHOT} > {tmp_path}/before; {{ {command}; }} </dev/null >/dev/null "
                  f"2>&1; {SNAPSHOT} > {tmp_path}/after")
        subprocess.run(["sh", "-c", script], check=True, timeout=60)
        assert (tmp_path / "after").read_text() == (tmp_path / "before").read_text(), command


def values_of(facts: list[Fact]) -> tuple[dict, str]:
    sections = sections_for(facts)
    script = batch_script(sections, "0123456789abcdef")
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=120)
    outputs = parse_batch(done.stdout, len(sections), "0123456789abcdef")
    return {f.key: v for s, out in zip(sections, outputs) for f, v in zip(s.facts, s.parse(*out))}, script


def test_a_batch_reports_the_same_with_facts_sharing_its_shell(monkeypatch):
    # isolated facts that set variables, options (SshdConfigFact's set -f) or exit, between the sharing ones
    facts = [HostInfoFact(), *SHARING[0], SshdConfigFact(), *SHARING[2], AuthorizedKeysFact("root"),
             FileFact("/etc/hostname"), *[f for group in SHARING[3:] for f in group],
             ConffilesFact("dash"), ConffilesFact("coreutils"), AuthorizedKeysFact("no-such-user")]
    shared, script = values_of(facts)
    assert "begin'; { systemctl" in script and "begin'; ( p=" in script
    for cls in {type(f) for f in facts}:
        monkeypatch.setattr(cls, "shares_shell", False)
    isolated, script = values_of(facts)
    assert "begin'; { " not in script
    assert shared == isolated
