"""Each applying run sweeps the stale temporaries of every folder vpskit wrote to on the host, in its first
round trip: over this machine's real `sh`, the fact alone, then whole runs over local shells."""

from __future__ import annotations

import io
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.unit.localhost import LocalConnection
from vpskit.facts.leftovers import FOLDERS_RECORD, StaleTempsSwept
from vpskit.inventory.model import Group, Host, Inventory, Var
from vpskit.playbook import Play
from vpskit.report import Reporter
from vpskit.resources import File
from vpskit.role import Role, RolePlan
from vpskit.roleloader import RoleLibrary
from vpskit.runner import Run, RunOptions
from vpskit.templating import Templates

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sweep acts in root's own folders only: run as root")


def aged(path: Path, hours: float = 2) -> Path:
    then = time.time() - hours * 3600
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def plant(folder: Path) -> dict[str, Path]:
    """A dead run's temp files (old), one a live writer may own (new), and others' files with near names."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {name: folder / name for name in (".vpskit-Ab12Cd", ".vpskit-dl-Ef34Gh", ".vpskit-upload-Ij56Kl",
                                              ".vpskit-Fresh1", "notes.txt", ".vpskit-abc", ".vpskit-toolong1")}
    for path in files.values():
        path.write_text("x")
    for name, path in files.items():
        if name != ".vpskit-Fresh1":
            aged(path)
    return files


STALE = {".vpskit-Ab12Cd", ".vpskit-dl-Ef34Gh", ".vpskit-upload-Ij56Kl"}


def sweep(fact: StaleTempsSwept):
    done = subprocess.run(["sh", "-c", fact.command()], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return fact.parse(done.stdout, done.returncode)


def test_only_vpskits_stale_names_in_recorded_root_folders_go_and_only_under_this_runs_lock(tmp_path):
    written, other, unlisted = tmp_path / "written", tmp_path / "users", tmp_path / "unlisted"
    files, users, never = plant(written), plant(other), plant(unlisted)
    os.chown(other, 65534, 65534)  # a folder another user may change: root does not act in it
    link = tmp_path / "link"
    link.symlink_to(written)
    record, lock = tmp_path / "record", tmp_path / "lock"
    record.write_text(f"{written}\n{other}\n{tmp_path / 'gone'}\n{link}\nrelative/path\n{written}\n")
    lock.write_text("run_id=other-run\noperator=someone\n")
    assert sweep(StaleTempsSwept("this-run", str(lock), str(record))) is None  # not our lock: nothing touched
    assert all(path.exists() for path in files.values())
    lock.write_text("run_id=this-run\noperator=me\n")
    removed = sweep(StaleTempsSwept("this-run", str(lock), str(record)))
    assert sorted(removed) == sorted(str(files[name]) for name in STALE)
    assert {p.name for p in written.iterdir()} == set(files) - STALE  # the fresh one and the foreign ones
    assert all(path.exists() for path in [*users.values(), *never.values()])
    # the record keeps the folders that still exist, once each
    assert record.read_text().splitlines() == [str(written), str(other)]
    assert sweep(StaleTempsSwept("this-run", str(lock), str(record))) == []


def test_a_write_records_its_folder_for_the_sweep():
    from vpskit.resources.files import write_file_command
    script = write_file_command("/etc/x", "root", "root", "0644")
    assert f"printf '%s\\n' \"$d\" >> {FOLDERS_RECORD}" in script


# -- whole runs ------------------------------------------------------------------------------------------------
def one_host(tmp_path: Path) -> Inventory:
    (tmp_path / "h1").mkdir()
    host = Host("h1", ["all"], {"vpskit_lock_path": Var(str(tmp_path / "h1" / "lock"), "test")})
    return Inventory("test", {"h1": host}, {"all": Group("all")})


def execute(inv, roles, check=False):
    run = Run(inv, inv.select(None), [Play("p", "all", [r.name for r in roles])], RoleLibrary(given=roles),
              Templates(), RunOptions(check=check), Reporter(stream=io.StringIO()), connect=LocalConnection)
    return {r.name: r for r in run.execute()}["h1"]


class Module:
    def __init__(self, plan):
        self.plan = plan


def test_a_run_sweeps_a_folder_it_does_not_write_this_time_and_costs_no_command_more(tmp_path):
    conf, other = tmp_path / "etc" / "app.conf", tmp_path / "etc-other" / "b.conf"
    writes = Role("writes", Module(lambda ctx: RolePlan("writes", [File(str(conf), "a\n"), File(str(other), "b\n")])), {})
    inv = one_host(tmp_path)
    first = execute(inv, [writes])
    assert first.error is None and first.count("changed") == 2
    assert str(conf.parent) in Path(FOLDERS_RECORD).read_text().splitlines()
    files = plant(conf.parent)
    checked = execute(inv, [writes], check=True)  # check mode changes nothing, leftovers included
    assert checked.error is None and all(path.exists() for path in files.values())
    again = execute(inv, [writes])
    assert again.error is None and again.count("changed") == 0
    assert again.commands == 1  # the sweep rode in the run's one fact round trip
    assert {p.name for p in conf.parent.iterdir()} == (set(files) - STALE) | {"app.conf"}
