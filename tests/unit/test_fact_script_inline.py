"""A fact batch's script rides in the exec request (sshd gives a new session no room for input until its command
runs: input would wait a round trip), and goes as input when too large for one command-line argument."""

from __future__ import annotations

import shlex
import subprocess

from tests.unit.localhost import LocalConnection
from vpskit.connection import ShScript, Target, login_command, sudo_wrap
from vpskit.facts import CommandOutputFact
from vpskit.session import INLINE_SCRIPT_LIMIT, HostSession


class Spy(LocalConnection):
    """A local shell that remembers what each command sent as input."""

    def __init__(self, target):
        super().__init__(target)
        self.sent = []

    def run(self, command, stdin=None, sudo=True, timeout=None):
        self.sent.append((command, stdin))
        return super().run(command, stdin, timeout=timeout)


def session() -> tuple[HostSession, Spy]:
    connection = Spy(Target("h", "127.0.0.1"))
    connection.open()
    return HostSession("h", connection), connection


def test_a_small_fact_batch_is_one_command_with_no_input_and_reads_the_same():
    facts, spy = session()
    fact = CommandOutputFact("printf '%s\\n' \"it's $((1 + 1))\"")
    facts.facts.ensure([fact])
    assert facts.facts.get(fact) == (0, "it's 2\n")
    (command, stdin), = spy.sent
    assert stdin is None and isinstance(command, ShScript) and "it's" in command


def test_the_script_runs_under_one_sh_for_root_and_for_a_sudo_user():
    script = ShScript("echo \"$0\"")
    assert sudo_wrap(script, "root") == f"sh -c {shlex.quote(script)}"  # root's login shell may be bash
    assert sudo_wrap(script, "ops") == f"sudo -n -H sh -c {shlex.quote(script)}"  # sudo's sh is the one
    assert sudo_wrap("sh -s", "ops") == "sudo -n -H sh -c 'sh -s'" and sudo_wrap("sh -s", "root") == "sh -s"
    assert login_command(script) == f"sh -c {shlex.quote(script)}" and login_command("id -u") == "id -u"
    # as root's login shell (bash) runs it: under sh
    ran = subprocess.run(["bash", "-c", sudo_wrap(script, "root")], capture_output=True, text=True)
    assert ran.stdout == "sh\n"


def test_a_batch_above_the_limit_goes_as_input():
    facts, spy = session()
    fact = CommandOutputFact(": " + "x" * INLINE_SCRIPT_LIMIT + "; echo big")
    facts.facts.ensure([fact])
    assert facts.facts.get(fact) == (0, "big\n")
    (command, stdin), = spy.sent
    assert command == "sh -s" and stdin
