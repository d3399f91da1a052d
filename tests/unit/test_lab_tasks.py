"""The lab tasks as users type them: malformed --lab and --subnet refused before anything is created,
`lab.break --list` with no host, `lab.up --k3s`'s inventory layout."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest
from invoke import Context, Program
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


def up_flags(tmp_path, monkeypatch, lab_yml: str | None = None, role: str = "mine"):
    """lab.up as the command line builds it, with a user role (on VPSKIT_ROLES_PATH) whose lab.yml is `lab_yml`."""
    folder = tmp_path / "roles" / role
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text('"""A role of my own."""\n')
    if lab_yml is not None:
        (folder / "lab.yml").write_text(lab_yml)
    monkeypatch.setenv("VPSKIT_ROLES_PATH", str(tmp_path / "roles"))
    return lab_tasks.namespace().tasks["up"]


def test_lab_up_k3s_places_the_hosts_as_the_k3s_role_declares(tmp_path, monkeypatch):
    placed = {}
    monkeypatch.setattr(lab_tasks, "_up", lambda layouts, **options: placed.update(
        groups=[layout.place(["lab1", "lab2", "lab3"]) for layout in layouts], **options))
    up = up_flags(tmp_path, monkeypatch)
    up(Context(), hosts=3, k3s=True, lab="onehost")
    assert placed["groups"] == [{"k3s_servers": ["lab1"], "k3s_agents": ["lab2", "lab3"]}]
    assert (placed["hosts"], placed["lab"], placed["release"]) == (3, "onehost", "bookworm")
    up(Context())
    assert placed["groups"] == []
    assert "k3s_servers" in up.help["k3s"]  # the role's own words, for --help


def test_a_user_roles_lab_layout_is_a_flag_of_lab_up(tmp_path, monkeypatch):
    up = up_flags(tmp_path, monkeypatch, "help: my groups\ngroups:\n  mine_main: first\n  mine_rest: others\n")
    assert {"k3s", "mine"} <= {a.name for a in up.get_arguments()}
    placed = {}
    monkeypatch.setattr(lab_tasks, "_up", lambda layouts, **options: placed.update(layouts=layouts))
    up(Context(), mine=True)
    [layout] = placed["layouts"]
    assert (layout.help, layout.place(["a", "b"])) == ("my groups", {"mine_main": ["a"], "mine_rest": ["b"]})
    assert layout.place(["a"]) == {"mine_main": ["a"]}


@pytest.mark.parametrize("lab_yml, said", [("groups: [a]\n", "give `help`"), ("groups:\n  x: all\n", "'all'"),
                                           ("help: h\ngroups:\n  x: first\nextra: 1\n", "nothing else"),
                                           ("groups: {x: first\n", "not readable as YAML")])
def test_a_malformed_lab_layout_is_named_and_lab_up_still_works(tmp_path, monkeypatch, capsys, lab_yml, said):
    up = up_flags(tmp_path, monkeypatch, lab_yml)
    err = capsys.readouterr().err
    assert "roles/mine/lab.yml" in err and said in err and "lab.up has no role flags" in err
    assert "hosts" in {a.name for a in up.get_arguments()}


def test_a_role_named_like_an_option_of_lab_up_gets_no_flag(tmp_path, monkeypatch, capsys):
    up = up_flags(tmp_path, monkeypatch, "groups:\n  x: first\n", role="release")
    assert "'release' is already an option of lab.up" in capsys.readouterr().err
    assert [a.kind for a in up.get_arguments() if a.name == "release"] == [str]
