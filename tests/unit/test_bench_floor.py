"""The bench's shell floor: the script, how one ssh per host carries it, and how the table shows a tool that
measures the first run alone."""

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from benchmarks import floor
from benchmarks.measure import summary, table
from benchmarks.tools import write_inventories
from tests.unit.test_shell import shellcheck  # noqa: F401 (the fixture)

HARDEN = floor.SHELL_DIR / "harden.sh"


@pytest.fixture
def folder(tmp_path):
    """The inventories of two hosts, as the bench writes them."""
    key = tmp_path / "id_ed25519"
    key.write_text("private\n")
    Path(f"{key}.pub").write_text("ssh-ed25519 AAAAkey bench\n")
    inventories = tmp_path / "inv"
    write_inventories(inventories, [("shb1", "10.213.5.11"), ("shb2", "10.213.5.12")], key, tmp_path / "known")
    return inventories


def test_the_inventories_give_the_floor_an_ssh_config_the_addresses_and_the_admin_key(folder, tmp_path):
    config = (folder / floor.SSH_CONFIG).read_text()
    assert f"IdentityFile {tmp_path / 'id_ed25519'}\n" in config and "StrictHostKeyChecking yes\n" in config
    assert f"UserKnownHostsFile {tmp_path / 'known'}\n" in config and "User root\n" in config
    assert (folder / floor.HOSTS).read_text() == "10.213.5.11\n10.213.5.12\n"
    assert (folder / floor.ADMIN_KEY).read_text() == "ssh-ed25519 AAAAkey bench\n"


def test_the_command_is_one_bash_with_the_addresses_as_its_arguments(folder):
    argv = floor.shell_command(folder)
    assert argv[:2] == ["bash", "-c"] and argv[3:] == ["shell", "10.213.5.11", "10.213.5.12"]
    assert f'ssh -F {folder / floor.SSH_CONFIG} "$address" ' in argv[2]


def test_the_payload_holds_the_script_the_files_and_the_key_at_its_top(folder):
    archive = subprocess.run(floor.payload_command(folder), capture_output=True, check=True).stdout
    (folder / "payload.tar").write_bytes(archive)
    with tarfile.open(folder / "payload.tar") as tar:
        names = set(tar.getnames())
    assert {"harden.sh", "files/jail.local", "files/sudoers-benchadmin", floor.ADMIN_KEY} <= names


def _fake_ssh(bin_dir: Path, log: Path) -> None:
    """An ssh that logs its address and the names in the archive on its stdin; it fails for 10.213.5.12."""
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text("\n".join([
        "#!/bin/sh",
        f'names=$(tar -t | sort | tr "\\n" " "); echo "$3 $names" >> {log}',
        '[ "$3" != 10.213.5.12 ]', ""]))
    (bin_dir / "ssh").chmod(0o755)


def test_every_host_gets_its_own_ssh_and_one_failed_host_fails_the_run(folder, tmp_path):
    log = tmp_path / "ssh.log"
    _fake_ssh(tmp_path / "bin", log)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(floor.shell_command(folder), env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    lines = sorted(log.read_text().splitlines())
    assert [line.split()[0] for line in lines] == ["10.213.5.11", "10.213.5.12"]
    assert all("harden.sh" in line and floor.ADMIN_KEY in line for line in lines)
    (folder / floor.HOSTS).write_text("10.213.5.11\n")
    assert subprocess.run(floor.shell_command(folder), env=env, capture_output=True).returncode == 0


def test_the_remote_command_runs_the_script_from_a_scratch_folder_it_removes(tmp_path):
    payload = tmp_path / "payload"
    payload.mkdir()
    (payload / "harden.sh").write_text('cd "$(dirname "$0")" && cat note && exit 3\n')
    (payload / "note").write_text("arrived\n")
    archive = subprocess.run(["tar", "-c", "-C", str(payload), "."], capture_output=True, check=True).stdout
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = subprocess.run(["bash", "-c", floor.REMOTE], input=archive, capture_output=True,
                          env={**os.environ, "TMPDIR": str(scratch)})
    assert (done.returncode, done.stdout) == (3, b"arrived\n")  # the script's own status comes back
    assert list(scratch.iterdir()) == []


def test_harden_sh_and_the_loop_over_hosts_pass_shellcheck(shellcheck, folder):
    loop = folder / "loop.sh"
    loop.write_text("#!/bin/bash\n" + floor.shell_command(folder)[2] + "\n")
    done = subprocess.run([shellcheck, "--format=gcc", str(HARDEN), str(loop)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_harden_sh_installs_what_the_profile_lists():
    from benchmarks.profile import ADMIN, MANAGED, PACKAGES, UFW_ALLOWS
    script = HARDEN.read_text()
    assert f"apt-get install -y -q {' '.join(PACKAGES)}\n" in script and f"admin={ADMIN}\n" in script
    for path, source, mode in MANAGED:
        assert f'install -m {mode} "$files/{source}" {path}\n' in script
    assert f"for port in {' '.join(UFW_ALLOWS)}; do" in script


def test_the_table_shows_rows_the_floor_lacks_as_dashes_and_vpskit_against_it():
    results = {"vpskit": {"first run, 1 host": summary([10.5, 10.0, 11.0]), "no-op, 1 host": summary([0.5])},
               "shell": {"first run, 1 host": summary([10.0, 9.8, 10.2])}}
    text = table(results, ["vpskit", "shell"])
    assert text.splitlines()[0] == "| measure | vpskit | shell | vpskit / shell |"
    assert "| first run, 1 host | 10.50 s (min 10.00) | 10.00 s (min 9.80) | 1.05 |" in text
    assert "| no-op, 1 host | 0.50 s (min 0.50) | - | - |" in text


def test_the_table_has_no_floor_column_when_it_was_not_measured():
    text = table({"vpskit": {"first run, 1 host": summary([10.0])}}, ["vpskit"])
    assert "shell" not in text
