"""The host lock fact, its shell run through a local sh under a process named like an sshd session."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from vpskit.connection import CommandResult
from vpskit.facts import Holder, HostLockFact, LockState
from vpskit.facts.lock import release_script
from vpskit.gather import FactCache, sections_for

CONTROLLER = "10.0.0.5"
SSH_CONNECTION = f"{CONTROLLER} 50022 10.0.0.1 22"


def process_start(pid: int) -> int:
    """Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[19])


class Session:
    """Stands in for one SSH connection: a process named sshd-session that runs one script through
    `sh -c 'sh -s'` (as sshd runs a login shell, which runs sudo, which runs sh) and lives until closed."""

    def __init__(self, sshd_session: Path, strip_ssh_connection: bool = True):
        keep_open, self._closer = os.pipe()
        inner = "env -u SSH_CONNECTION sh -s" if strip_ssh_connection else "sh -s"
        # each `; true` keeps a shell from exec'ing its last command (and so losing its name)
        command = f"sh -c '{inner}; true'; exec >&-; read -r _ < /dev/fd/{keep_open}; true"
        self.proc = subprocess.Popen([str(sshd_session), "-c", command], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, pass_fds=(keep_open,),
                                     env={**os.environ, "SSH_CONNECTION": SSH_CONNECTION})
        os.close(keep_open)
        self.pid = self.proc.pid

    def send(self, script: str) -> None:
        self.proc.stdin.write(script)
        self.proc.stdin.close()

    def output(self) -> str:
        return self.proc.stdout.read()

    def run(self, script: str) -> CommandResult:
        self.send(script)
        return CommandResult(0, self.output(), "")

    def close(self) -> None:
        """The connection ends: the sshd-session process exits."""
        if self._closer is not None:
            os.close(self._closer)
            self._closer = None
        self.proc.wait(timeout=10)

    def kill(self) -> None:
        self.proc.kill()
        self.close()


@pytest.fixture
def sshd_session(tmp_path):
    path = tmp_path / "bin" / "sshd-session"
    path.parent.mkdir()
    shutil.copy("/bin/sh", path)
    return path


@pytest.fixture
def sessions(sshd_session):
    opened = []

    def open_session(**options) -> Session:
        opened.append(Session(sshd_session, **options))
        return opened[-1]

    yield open_session
    for session in opened:
        session.proc.kill()
        session.close()


@pytest.fixture
def lock(tmp_path):
    (tmp_path / "run").mkdir()
    return tmp_path / "run" / "vpskit" / "lock"


@pytest.fixture
def holder_process():
    """A live process to record as the holder of a lock; stopped by its PID afterwards."""
    proc = subprocess.Popen(["sleep", "30"])
    yield proc
    proc.kill()
    proc.wait()


def fact(lock: Path, run_id: str = "run1", **options) -> HostLockFact:
    return HostLockFact(run_id, "alice@laptop", "192.0.2.9", path=str(lock), **options)


def ask(session: Session, lock_fact: HostLockFact) -> LockState:
    return FactCache("lab", session.run).get(lock_fact)


def write_lock(lock: Path, run_id: str, pid: int, start: int, since="2026-11-23T10:32:51Z") -> None:
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(f"run_id={run_id}\noperator=bob@desk\naddress=10.9.9.9\nsince={since}\npid={pid}\nstart={start}\n")


def recorded(lock: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in lock.read_text().splitlines())


def test_no_lock_is_acquired_and_anchored_to_the_connection(sessions, lock):
    session = sessions()
    state = ask(session, fact(lock))
    assert state.acquired and state.took_over_stale is None and state.describe() == "acquired"
    assert (state.holder.run_id, state.holder.operator, state.holder.address) == ("run1", "alice@laptop", CONTROLLER)
    assert (state.holder.pid, state.holder.start) == (session.pid, process_start(session.pid))
    assert recorded(lock)["pid"] == str(session.pid)
    assert lock.parent.stat().st_mode & 0o777 == 0o700
    assert [p.name for p in lock.parent.iterdir()] == ["lock"]


def test_asking_again_in_the_same_run_succeeds_and_keeps_the_start_time(sessions, lock):
    first = sessions()
    ask(first, fact(lock))
    write_lock(lock, "run1", first.pid, process_start(first.pid), since="2026-01-01T00:00:00Z")
    again = ask(sessions(), fact(lock))  # another connection of the same run: a reconnect
    assert again.acquired and again.took_over_stale is None
    assert again.holder.since == "2026-01-01T00:00:00Z"
    assert again.holder.pid != first.pid


def test_asking_again_on_the_same_connection_writes_nothing(sessions, lock):
    session = sessions()
    write_lock(lock, "run1", session.pid, process_start(session.pid))
    before = (lock.read_text(), lock.stat().st_mtime_ns, lock.stat().st_ino)
    state = ask(session, fact(lock))
    assert state.acquired and state.holder.pid == session.pid
    assert (lock.read_text(), lock.stat().st_mtime_ns, lock.stat().st_ino) == before


def test_a_live_holder_keeps_the_lock(sessions, lock, holder_process):
    write_lock(lock, "other", holder_process.pid, process_start(holder_process.pid))
    before = lock.read_text()
    state = ask(sessions(), fact(lock))
    assert not state.acquired and state.took_over_stale is None
    assert state.holder == Holder(operator="bob@desk", address="10.9.9.9", since="2026-11-23T10:32:51Z",
                                  run_id="other", pid=holder_process.pid, start=process_start(holder_process.pid))
    assert state.describe() == "held by bob@desk from 10.9.9.9 since 2026-11-23T10:32:51Z (run other)"
    assert lock.read_text() == before


def test_waiting_gives_up_after_the_bound(sessions, lock, holder_process):
    write_lock(lock, "other", holder_process.pid, process_start(holder_process.pid))
    began = time.monotonic()
    state = ask(sessions(), fact(lock, wait_seconds=1))
    assert not state.acquired and time.monotonic() - began >= 1


def test_waiting_takes_the_lock_when_the_holder_ends(sessions, lock):
    short = subprocess.Popen(["sleep", "0.5"])
    write_lock(lock, "other", short.pid, process_start(short.pid))
    state = ask(sessions(), fact(lock, wait_seconds=10))
    short.wait()  # until here it was a zombie, which counts as ended (its parent reaps it at leisure)
    assert state.acquired and state.took_over_stale.run_id == "other"


def test_a_holder_that_exited_is_stale(sessions, lock):
    gone = subprocess.Popen(["true"])
    gone.wait()
    write_lock(lock, "other", gone.pid, 12345)
    session = sessions()
    state = ask(session, fact(lock))
    assert state.acquired and state.holder.pid == session.pid
    assert state.took_over_stale.run_id == "other" and state.took_over_stale.pid == gone.pid
    assert state.describe().startswith("acquired, taking over the stale lock of bob@desk from 10.9.9.9")


def test_a_reused_pid_is_stale(sessions, lock, holder_process):
    write_lock(lock, "other", holder_process.pid, process_start(holder_process.pid) + 1)
    state = ask(sessions(), fact(lock))
    assert state.acquired and state.took_over_stale.pid == holder_process.pid


def test_garbage_in_the_lock_file_is_stale(sessions, lock):
    lock.parent.mkdir()
    lock.write_text("not a lock\n")
    state = ask(sessions(), fact(lock))
    assert state.acquired and state.took_over_stale == Holder("", "", "", "", None, None)


def test_a_killed_run_does_not_block_the_next(sessions, lock):
    first = sessions()
    assert ask(first, fact(lock, "first")).acquired
    assert not ask(sessions(), fact(lock, "second")).acquired
    first.kill()
    state = ask(sessions(), fact(lock, "second"))
    assert state.acquired and state.took_over_stale.pid == first.pid


def test_the_walk_finds_the_sshd_session_through_the_shells_below_it(sessions, lock):
    session = sessions()
    state = ask(session, fact(lock))
    assert recorded(lock)["pid"] == str(session.pid) == str(state.holder.pid)
    # SSH_CONNECTION was stripped below the shell sshd started, as sudo does: read from that shell
    assert recorded(lock)["address"] == CONTROLLER


def test_without_ssh_connection_anywhere_the_controller_address_is_used(lock, sshd_session):
    env = {k: v for k, v in os.environ.items() if k != "SSH_CONNECTION"}
    done = subprocess.run([str(sshd_session), "-c", "sh -c 'sh -s; true'; true"], input=fact(lock).command(),
                          capture_output=True, text=True, env=env)
    state = fact(lock).parse(done.stdout, done.returncode)
    assert state.acquired and state.holder.address == "192.0.2.9"


def test_without_an_sshd_above_it_the_fact_says_so(lock):
    done = subprocess.run(["sh", "-s"], input=fact(lock).command(), capture_output=True, text=True)
    with pytest.raises(ValueError, match="no process named sshd/sshd-session/dropbear among the ancestors"):
        fact(lock).parse(done.stdout, done.returncode)
    assert not lock.exists()


def test_racing_runs_have_one_winner(sessions, lock):
    racers = [sessions() for _ in range(6)]
    for index, session in enumerate(racers):
        session.send(fact(lock, f"run{index}").command())
    states = [fact(lock, f"run{index}").parse(s.output(), 0) for index, s in enumerate(racers)]
    winners = [s for s in states if s.acquired]
    assert len(winners) == 1
    assert {s.holder.run_id for s in states} == {winners[0].holder.run_id} == {recorded(lock)["run_id"]}


def test_release_removes_only_our_lock(sessions, lock):
    ask(sessions(), fact(lock, "mine"))
    subprocess.run(["sh", "-s"], input=release_script("theirs", str(lock)), check=True, text=True)
    assert lock.exists()
    subprocess.run(["sh", "-s"], input=release_script("mine", str(lock)), check=True, text=True)
    assert not lock.exists()
    subprocess.run(["sh", "-s"], input=release_script("mine", str(lock)), check=True, text=True)


def test_the_lock_is_never_gathered_with_others():
    facts = [fact(Path("/run/vpskit/lock"), f"r{i}") for i in range(3)]
    assert HostLockFact.command_for_many(facts) is None
    assert [len(s.facts) for s in sections_for(facts)] == [1, 1, 1]


@pytest.mark.parametrize("output", ["", "garbage\n", "state=maybe\nholder.run_id=x\n", "state=held\n"])
def test_output_not_understood_is_an_error(output):
    with pytest.raises(ValueError, match="host lock output is not understood"):
        fact(Path("/run/vpskit/lock")).parse(output, 0)


def test_parses_output_in_the_shape_the_command_prints():
    output = ("state=acquired\nholder.run_id=3f2a9c1d7e5b4a60\nholder.operator=alice@laptop\n"
              "holder.address=10.0.0.5\nholder.since=2026-11-23T10:32:51Z\nholder.pid=4242\nholder.start=981234\n"
              "stale.run_id=0b1c\nstale.operator=bob@desk\nstale.address=10.0.0.7\n"
              "stale.since=2026-11-22T08:00:00Z\nstale.pid=4100\nstale.start=12\n")
    state = fact(Path("/run/vpskit/lock")).parse(output, 0)
    assert state.acquired and state.holder.pid == 4242 and state.holder.start == 981234
    assert state.took_over_stale.describe() == "bob@desk from 10.0.0.7 since 2026-11-22T08:00:00Z (run 0b1c)"
    assert state.holder.describe() == "alice@laptop from 10.0.0.5 since 2026-11-23T10:32:51Z (run 3f2a9c1d…)"


@pytest.mark.parametrize("args", [("bad id!", "a@b"), ("r1", "a\nb"), ("r1", "a@b", "10.0.0.1\n")])
def test_arguments_that_would_break_the_lock_file_are_refused(args):
    with pytest.raises(ValueError):
        HostLockFact(*args)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_the_scripts_pass_shellcheck_as_posix_sh(tmp_path):
    for name, script in [("lock", fact(Path("/run/vpskit/lock")).command()), ("release", release_script("r1"))]:
        path = tmp_path / f"{name}.sh"
        path.write_text(script)
        done = subprocess.run(["shellcheck", "-s", "sh", str(path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout


def run_break(lock: Path, expect: str = ""):
    from vpskit.facts.lock import break_script, parse_break
    done = subprocess.run(["sh", "-c", break_script(str(lock), expect)], capture_output=True, text=True)
    return parse_break(done.stdout)


def test_unlock_names_a_live_holder_and_breaking_it_ends_its_session(sessions, lock):
    hung = sessions()
    assert ask(hung, fact(lock, "hungrun")).acquired
    state, holder, alive = run_break(lock)
    assert (state, holder.run_id, holder.operator, alive) == ("held", "hungrun", "alice@laptop", True)
    assert holder.pid == hung.pid
    state, _holder, _alive = run_break(lock, "hungrun")
    assert state == "broken" and not lock.exists()
    assert hung.proc.wait(timeout=10) != 0  # the hung run's connection is gone: it cannot go on
    hung.close()
    assert ask(sessions(), fact(lock, "next")).acquired


def test_unlock_breaks_nothing_when_the_lock_changed_hands(holder_process, lock):
    write_lock(lock, "other", holder_process.pid, process_start(holder_process.pid))
    state, holder, alive = run_break(lock, "shown-before")
    assert state == "changed" and lock.exists() and holder_process.poll() is None and alive


def test_unlock_of_a_free_or_stale_lock(lock):
    assert run_break(lock)[0] == "free"
    write_lock(lock, "gone", 999999, 1)
    state, holder, alive = run_break(lock)
    assert state == "held" and holder.run_id == "gone" and not alive


# -- check runs and the lock's folder -----------------------------------------------------------------


def test_a_check_run_takes_no_lock_so_an_apply_elsewhere_is_not_kept_waiting(sessions, lock):
    checking = sessions()
    looked = ask(checking, fact(lock, "check1", checking=True))
    assert looked.acquired and looked.holder is None and not lock.exists()  # its session stays open meanwhile
    applying = ask(sessions(), fact(lock, "apply1"))
    assert applying.acquired and recorded(lock)["run_id"] == "apply1"


def test_a_check_run_waits_for_a_running_apply_then_reports_it_instead_of_a_half_applied_host(sessions, lock):
    apply_session = sessions()
    assert ask(apply_session, fact(lock, "apply1")).acquired
    looked = ask(sessions(), fact(lock, "check1", checking=True))
    assert not looked.acquired and looked.holder.run_id == "apply1"
    assert recorded(lock)["run_id"] == "apply1"  # untouched
    apply_session.close()
    assert ask(sessions(), fact(lock, "check1", checking=True)).acquired  # the apply ended: a stale lock is no bar


def test_a_check_run_on_a_host_never_locked_creates_nothing(sessions, tmp_path):
    lock = tmp_path / "run" / "vpskit" / "lock"
    assert ask(sessions(), fact(lock, "check1", checking=True)).acquired
    assert not lock.parent.exists()


@pytest.mark.parametrize("planted", ["other owner", "group writable", "link", "open parent"])
def test_a_lock_folder_another_user_could_change_is_refused(sessions, tmp_path, planted):
    import pwd
    parent = tmp_path / "run"
    parent.mkdir()
    folder = parent / "vpskit"
    if planted == "link":
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        folder.symlink_to(tmp_path / "elsewhere")
    else:
        folder.mkdir(mode=0o700)
    if planted == "other owner":
        os.chown(folder, pwd.getpwnam("nobody").pw_uid, -1)
    if planted == "group writable":
        folder.chmod(0o770)
    if planted == "open parent":
        parent.chmod(0o777)
    from vpskit.errors import RemoteError
    with pytest.raises(RemoteError, match="cannot take the host lock: .*(not root's alone|not a folder|writable by every)"):
        ask(sessions(), fact(folder / "lock"))
    assert not (folder / "lock").exists() and not (tmp_path / "elsewhere" / "lock").exists()


def test_a_sticky_shared_parent_is_accepted_on_the_host(sessions, tmp_path):
    parent = tmp_path / "shared"
    parent.mkdir()
    parent.chmod(0o1777)  # as /tmp: others cannot rename a folder that is not theirs (the load refuses /tmp itself)
    assert ask(sessions(), fact(parent / "vpskit" / "lock")).acquired
