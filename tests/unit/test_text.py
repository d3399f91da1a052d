"""Pure text helpers: diffs, secret masking, templates, apt sources parsing, exit codes and JSON."""

import json

import pytest

from vpskit.diffing import content_diff
from vpskit.lab.mirror import parse_sources, pick_debian_mirror
from vpskit.report import Reporter, write_json
from vpskit.results import HostResult, StepResult, exit_code
from vpskit.secrets import MASK, Masker, Secret, collect_secrets
from vpskit.templating import TemplateError, Templates


def test_diff_text_binary_and_new_file():
    assert "--- /dev/null" in content_diff("/x", None, b"a\n")
    assert "Binary content" in content_diff("/x", b"\0\1", b"a")
    assert "No newline at end of file" in content_diff("/x", b"a\n", b"b")


def test_secrets_are_collected_and_masked():
    values = {"db_password": "correct-horse", "api": Secret("tok-abcdef"), "nested": {"github_token": "ghp_x1234"},
              "plain": "visible", "short_token": "ab"}
    masker = Masker(collect_secrets(values))
    text = masker.mask("pw=correct-horse tok=tok-abcdef gh=ghp_x1234 plain=visible")
    assert "correct-horse" not in text and "tok-abcdef" not in text and "ghp_x1234" not in text
    assert "visible" in text
    assert masker.mask_value("db_password", "correct-horse") == MASK
    assert masker.mask_value("api", Secret("x")) == MASK


def test_template_undefined_variable_is_an_error(tmp_path):
    (tmp_path / "t.j2").write_text("port {{ ssh_port }}\n")
    templates = Templates(builtin=tmp_path)
    assert templates.render("t.j2", {"ssh_port": 22}) == "port 22\n"
    with pytest.raises(TemplateError, match="t.j2: 'ssh_port' is undefined"):
        templates.render("t.j2", {})
    with pytest.raises(TemplateError, match="not found"):
        templates.render("missing.j2", {})


def test_templates_override_then_user_role_then_builtin(tmp_path):
    for folder, text in (("builtin/ssh", "built-in"), ("over/ssh", "override"), ("mine", "user role")):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "builtin/ssh/a.j2").write_text("built-in a")
    (tmp_path / "builtin/ssh/b.j2").write_text("built-in b")
    (tmp_path / "over/ssh/a.j2").write_text("override a")
    (tmp_path / "mine/c.j2").write_text("user role c")
    templates = Templates([tmp_path / "over"], {"myrole": tmp_path / "mine"}, tmp_path / "builtin")
    assert templates.render("ssh/a.j2", {}) == "override a"
    assert templates.render("ssh/b.j2", {}) == "built-in b"
    assert templates.render("myrole/c.j2", {}) == "user role c"


def test_parse_one_line_and_deb822_sources():
    one_line = "deb [arch=amd64] http://mirror.example/debian bookworm main\n" \
               "deb http://mirror.example/debian-security bookworm-security main\n"
    deb822 = "Types: deb\nURIs: http://other.example/debian\nSuites: bookworm-security\n\n" \
             "Types: deb\nURIs: http://other.example/debian/\nSuites: bookworm bookworm-updates\n"
    assert pick_debian_mirror(parse_sources(one_line)) == "http://mirror.example/debian/"
    assert pick_debian_mirror(parse_sources(deb822)) == "http://other.example/debian/"
    assert pick_debian_mirror(parse_sources("# nothing\n")) is None


def test_exit_codes():
    ok = HostResult("a", [StepResult("r", "t", "ok", "fine")])
    changed = HostResult("b", [StepResult("r", "t", "changed", "x")])
    failed = HostResult("c", error="boom")
    assert exit_code([ok, changed], check_mode=False) == 0
    assert exit_code([ok, changed], check_mode=True) == 2
    assert exit_code([ok, failed], check_mode=True) == 1
    assert failed.count("failed") == 1


def test_plain_report_and_json(tmp_path, capsys):
    import io
    stream = io.StringIO()
    reporter = Reporter(stream=stream)
    reporter.start(["a"], check=True)
    reporter.step("a", StepResult("base", "file /x", "changed", "update content of /x"))
    result = HostResult("a", [StepResult("base", "file /x", "changed", "update content of /x")], connections=1,
                        commands=1, fact_batches=1)
    reporter.finish([result])
    out = stream.getvalue()
    assert "a | base | file /x | would change: update content of /x" in out
    assert "host=a ok=0 changed=1 failed=0 blocked=0 skipped=0 connections=1 commands=1" in out
    write_json(str(tmp_path / "r.json"), [result], True, 2)
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["exit_code"] == 2 and data["hosts"]["a"]["summary"]["changed"] == 1
