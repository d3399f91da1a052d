"""The lab tasks as users type them: malformed --lab and --subnet refused before anything is created,
`lab.break --list` with no host, `lab.up --k3s`'s inventory layout."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest
from invoke import Program
from invoke.exceptions import Exit, ParseError
from invoke.parser import Parser, ParserContext

from vpskit.cli import lab_tasks
from vpskit.cli.lab_tasks import _lab
from vpskit.cli.tasks import ns


@pytest.mark.parametrize("name, subnet", [("Bad", "10.213.0"), ("toolongname", "10.213.0"), ("lab;rm", "10.213.0"),
                                          ("lab", "10.213"), ("lab", "10.213.300"), ("lab", "10.213.0.0")])
def test_malformed_lab_names_and_subnets_are_refused(name, subnet, capsys):
    with pytest.raises(Exit):
        _lab(name, subnet)
    assert "lab" in capsys.readouterr().err


def test_a_second_lab_gets_its_own_bridge_and_gateway():
    lab = _lab("molecule", "10.213.40")
    assert (lab.bridge, lab.gateway) == ("vpskit-molecule", "10.213.40.1")
    assert str(lab.state_dir).endswith("/molecule")


def parse(*words: str) -> dict:
    task = lab_tasks.break_
    context = ParserContext(name="lab.break", args=task.get_arguments())
    [parsed] = Parser(contexts=[context]).parse_argv(["lab.break", *words])
    return {name: argument.value for name, argument in parsed.args.items()}


def test_lab_break_list_needs_no_host():
    out = io.StringIO()
    with redirect_stdout(out):
        Program(namespace=ns, name="vpskit", binary="vpskit").run(["vpskit", "lab.break", "--list"], exit=False)
    assert "stale-backup: " in out.getvalue() and "found by: " in out.getvalue()
    assert parse("-l")["list"] is True


def test_lab_break_still_takes_its_host_first_and_asks_for_it_without_list():
    assert parse("lab1", "--scenario", "updates-off")["host"] == "lab1"
    assert parse("--scenario", "updates-off", "lab2")["host"] == "lab2"
    assert parse("lab1", "--list")["host"] == "lab1"
    with pytest.raises(ParseError, match="did not receive required positional arguments: 'host'"):
        parse()
    with pytest.raises(ParseError, match="'host'"):
        parse("--scenario", "updates-off")
