"""Batching facts into one script and splitting the output back, run through a local shell."""

import subprocess

import pytest

from vpskit.connection import CommandResult
from vpskit.errors import RemoteError
from vpskit.facts import CommandFact, FileFact
from vpskit.gather import FactCache, batch_script, parse_batch


def local_shell(script: str) -> CommandResult:
    done = subprocess.run(["sh", "-s"], input=script, capture_output=True, text=True)
    return CommandResult(done.returncode, done.stdout, done.stderr)


def test_batch_round_trip_keeps_outputs_and_exit_codes(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("line one\n@@ not a marker\n")
    facts = [FileFact(str(path)), CommandFact("exit 3"), CommandFact("true"), FileFact(str(tmp_path / "none"))]
    result = local_shell(batch_script(facts, "n0nce"))
    sections = parse_batch(result.stdout, len(facts), "n0nce")
    assert facts[0].parse(*sections[0]).content == path.read_bytes()
    assert facts[1].parse(*sections[1]) == 3
    assert facts[2].parse(*sections[2]) == 0
    assert facts[3].parse(*sections[3]).kind == "absent"


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
