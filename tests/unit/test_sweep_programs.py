"""The sweep of stale temporaries reads its lock and record with shell builtins: on a no-op it starts no program
and leaves the record as it was, and over every case it removes, keeps and reports what the sweep before it did
(that one, kept below as it was, started grep, awk, find twice and mv on every run).

Over this machine's real sh, each case planted twice (one tree per script), programs counted by PATH stand-ins.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.unit.programs import Programs
from vpskit.facts.base import q
from vpskit.facts.leftovers import TEMP_NAMES, StaleTempsSwept

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sweep acts in root's own folders only: run as root")

# StaleTempsSwept's script at commit 6d9ce10, before it used builtins
SWEEP_BEFORE = r"""
grep -qxF "run_id=$run" "$lock" 2>/dev/null || { echo 'held=no'; exit 0; }
[ -f "$record" ] && [ ! -L "$record" ] || exit 0
set -f
IFS='
'
set -- $(awk '/^\// && !seen[$0]++' "$record")
[ "$#" -gt 0 ] || exit 0
find "$@" -maxdepth 0 -type d 2>/dev/null > "$record.new"
mv -f "$record.new" "$record"
set -- $(find "$@" -maxdepth 0 -type d -user 0 2>/dev/null)
[ "$#" -gt 0 ] || exit 0
find "$@" -maxdepth 1 -type f \( @NAMES@ \) -mmin +"$minutes" -print -delete 2>/dev/null
exit 0
"""


def command_before(fact: StaleTempsSwept) -> str:
    run_id, lock_path, record, minutes = fact.args
    names = " -o ".join(f"-name {q(name)}" for name in TEMP_NAMES)
    return (f"run={q(run_id)}; lock={q(lock_path)}; record={q(record)}; minutes={minutes}"
            + SWEEP_BEFORE.replace("@NAMES@", names))


def aged(path: Path, hours: float = 2) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then), follow_symlinks=False)


def temps(folder: Path, stale: bool = True, fresh: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ([".vpskit-Ab12Cd", ".vpskit-dl-Ef34Gh", ".vpskit-upload-Ij56Kl", ".vpskit-abc", "notes"]
                 if stale else []):
        (folder / name).write_text("x")
        aged(folder / name)
    if fresh:
        (folder / ".vpskit-Fresh1").write_text("x")


def plant_quiet(root: Path) -> str:
    """A no-op host: every recorded folder exists, once, with no temporary in it."""
    for name in ("etc", "usr-bin", "srv app"):
        (root / name).mkdir()
        (root / name / "config").write_text("x")
    return "".join(f"{root / name}\n" for name in ("etc", "usr-bin", "srv app"))


def plant_live(root: Path) -> str:
    """A live writer's temporary alone: kept."""
    text = plant_quiet(root)
    temps(root / "srv app", stale=False)
    return text


def plant_busy(root: Path) -> str:
    """Stale temporaries, a folder gone, a link, another user's folder, a duplicate, junk, no final newline."""
    temps(root / "written")
    temps(root / "users")
    os.chown(root / "users", 65534, 65534)
    (root / "link").symlink_to(root / "written")
    (root / "file").write_text("not a folder")
    temps(root / "with\\backslash *")
    return (f"{root / 'written'}\nrelative/path\n{root / 'gone'}\n{root / 'link'}\n{root / 'users'}\n"
            f"{root / 'written'}\n\n{root / 'file'}\n{root / 'with' / ''}\n{root}/with\\backslash *")


def plant_gone(root: Path) -> str:
    """Only folders that are gone: the record empties."""
    return f"{root / 'gone'}\n{root / 'gone too'}\n"


def plant_junk(root: Path) -> str:
    """No folder line at all: nothing read, nothing rewritten."""
    return "relative\n\n  /indented\n"


CASES = {"quiet": plant_quiet, "live": plant_live, "busy": plant_busy, "gone": plant_gone, "junk": plant_junk}


def tree(root: Path) -> dict[str, str]:
    """Every path under root with its kind (the record's text for the record)."""
    found = {}
    for directory, subdirs, files in os.walk(root):
        for name in subdirs + files:
            path = Path(directory) / name
            kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
            found[str(path.relative_to(root))] = kind if name != "record" else path.read_text().replace(str(root), "@")
    return found


def run_case(folder: Path, plant, script_of, lock_run: str = "this-run"):
    root = folder / "root"
    root.mkdir(parents=True)
    record, lock = root / "record", root / "lock"
    record.write_text(plant(root))
    lock.write_text(f"operator=me\nrun_id={lock_run}")  # the last line without its newline: grep reads it too
    fact = StaleTempsSwept("this-run", str(lock), str(record))
    programs = Programs(folder).real("grep", "awk", "find", "mv")
    done = programs.run(script_of(fact))
    assert done.returncode == 0, done.stderr
    value = fact.parse(done.stdout.replace(str(root), "@"), 0)
    return value, tree(root), programs.started()


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("lock_run", ["this-run", "other-run"])
def test_the_sweep_does_what_the_sweep_before_it_did(tmp_path, case, lock_run):
    before = run_case(tmp_path / "before", CASES[case], command_before, lock_run)
    now = run_case(tmp_path / "now", CASES[case], StaleTempsSwept.command, lock_run)
    assert sorted(now[0] or []) == sorted(before[0] or []) and (now[0] is None) == (before[0] is None)
    assert now[1] == before[1]


def test_a_no_op_sweep_starts_no_program_and_leaves_the_record_untouched(tmp_path):
    record = tmp_path / "record"
    text = plant_quiet(tmp_path)
    record.write_text(text)
    aged(record)
    written = record.stat()
    fact = StaleTempsSwept("this-run", str(tmp_path / "lock"), str(record))
    (tmp_path / "lock").write_text("run_id=this-run\n")
    programs = Programs(tmp_path / "programs").real("grep", "awk", "find", "mv")
    done = programs.run(fact.command())
    assert done.returncode == 0, done.stderr
    assert fact.parse(done.stdout, 0) == []
    assert programs.started() == []
    assert record.read_text() == text and (record.stat().st_ino, record.stat().st_mtime) == (
        written.st_ino, written.st_mtime)


def test_the_sweep_starts_find_only_where_vpskits_temporaries_are(tmp_path):
    before = run_case(tmp_path / "before", plant_busy, command_before)
    now = run_case(tmp_path / "now", plant_busy, StaleTempsSwept.command)
    assert before[2] == ["grep", "awk", "find", "mv", "find", "find"]
    assert now[2] == ["mv", "find", "find"]  # the record lost lines: rewritten, then the two finds of the sweep
    assert now[0] and sorted(now[0]) == sorted(before[0])
