"""Batching facts into one script and splitting the output back, run through a local shell."""

import hashlib
import subprocess

import pytest

from vpskit.connection import CommandResult
from vpskit.errors import RemoteError
from vpskit.facts import CommandFact, ConffilesFact, FileFact, PackagesFact, ServiceFact
from vpskit.gather import FactCache, batch_script, parse_batch, sections_for


def local_shell(script: str) -> CommandResult:
    done = subprocess.run(["sh", "-s"], input=script, capture_output=True, text=True)
    return CommandResult(done.returncode, done.stdout, done.stderr)


def test_batch_round_trip_keeps_outputs_and_exit_codes(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("line one\n@@ not a marker\n")
    facts = [FileFact(str(path)), CommandFact("exit 3"), CommandFact("true"), FileFact(str(tmp_path / "none"))]
    sections = sections_for(facts)
    result = local_shell(batch_script(sections, "n0nce"))
    outputs = parse_batch(result.stdout, len(sections), "n0nce")
    values = {f.key: v for s, out in zip(sections, outputs) for f, v in zip(s.facts, s.parse(*out))}
    assert values[facts[0].key].content == path.read_bytes()
    assert values[facts[1].key] == 3
    assert values[facts[2].key] == 0
    assert values[facts[3].key].kind == "absent"


def test_missing_section_is_an_error():
    with pytest.raises(ValueError):
        parse_batch("@@n 0 begin\nx\n", 1, "n")


def test_cache_asks_only_for_what_it_lacks_and_forgets_by_path(tmp_path):
    calls = []

    def run(script):
        calls.append(script)
        return local_shell(script)

    cache = FactCache("local", run)
    a, b = FileFact(str(tmp_path / "a")), FileFact(str(tmp_path / "b"))
    cache.ensure([a, b, a])
    cache.ensure([a, b])
    assert len(calls) == 1 and cache.gathered == 2
    cache.invalidate(paths=[str(tmp_path / "a")])
    assert not cache.has(a) and cache.has(b)
    cache.get(a)
    assert cache.batches == 2


def test_broken_output_names_the_host():
    cache = FactCache("web1", lambda s: CommandResult(0, "garbage", "sh: oops"))
    with pytest.raises(RemoteError, match="web1: gathering facts"):
        cache.ensure([CommandFact("true")])


def test_facts_are_gathered_together_from_three_on_or_from_two_where_one_program_serves_all():
    files = [FileFact(f"/etc/f{i}") for i in range(3)]
    sections = sections_for([*files, PackagesFact("curl"), CommandFact("true"), ServiceFact("a"), ServiceFact("b"),
                             ConffilesFact("ufw")])
    # packages and their conffiles: one dpkg-query
    assert [[type(f).__name__ for f in s.facts] for s in sections] == [
        ["FileFact"] * 3, ["PackagesFact", "ConffilesFact"], ["CommandFact"], ["ServiceFact"] * 2]
    assert [len(s.facts) for s in sections_for(files[:2] + [ServiceFact("a"), PackagesFact("curl")])] == [1, 1, 1, 1]
    assert [len(s.facts) for s in sections_for([PackagesFact("curl"), PackagesFact("ufw")])] == [2]


def test_files_gathered_together_match_files_gathered_one_by_one(tmp_path):
    (tmp_path / "small").write_text("hello\n")
    (tmp_path / "empty").write_text("")
    (tmp_path / "big").write_bytes(b"x" * 300_000)
    (tmp_path / "link").symlink_to("small")
    (tmp_path / "dir").mkdir()
    (tmp_path / "with space").write_text("spaced\n")
    names = ["small", "empty", "big", "link", "dir", "with space", "missing"]
    facts = [FileFact(str(tmp_path / n), digests=str(tmp_path / "digests")) for n in names]
    together = FileFact.parse_many(facts, local_shell(FileFact.command_for_many(facts)).stdout, 0)
    alone = [f.parse(local_shell(f.command()).stdout, 0) for f in facts]
    assert together == alone
    assert [s.kind for s in together] == ["file", "file", "file", "link", "directory", "file", "absent"]
    assert together[2].content is None and together[2].sha256 == hashlib.sha256(b"x" * 300_000).hexdigest()


def test_files_gathered_together_when_none_exists(tmp_path):
    facts = [FileFact(str(tmp_path / n)) for n in "abc"]
    together = FileFact.parse_many(facts, local_shell(FileFact.command_for_many(facts)).stdout, 0)
    assert [s.kind for s in together] == ["absent"] * 3


def test_packages_gathered_together_keep_to_their_own_names():
    output = "curl\tii \t7.88\nufw\tii \t0.36\nvim\tun \t\n"
    facts = [PackagesFact("curl"), PackagesFact("ufw", "vim"), PackagesFact("less")]
    assert PackagesFact.parse_many(facts, output, 0) == [{"curl": "7.88"}, {"ufw": "0.36"}, {}]


def test_services_gathered_together_split_by_block():
    output = "LoadState=loaded\nActiveState=active\n\nLoadState=not-found\nActiveState=inactive\n"
    states = ServiceFact.parse_many([ServiceFact("ssh"), ServiceFact("nope")], output, 0)
    assert [s["LoadState"] for s in states] == ["loaded", "not-found"]
    with pytest.raises(ValueError):
        ServiceFact.parse_many([ServiceFact("ssh")] * 3, output, 0)
