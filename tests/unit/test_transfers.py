"""Wait, Upload and Fetch decided on stub facts, and applied against stub sessions (no host)."""

import hashlib
import os
import stat
import subprocess
import time

import pytest

from vpskit.connection import CommandResult
from vpskit.errors import RemoteError, VpskitError
from vpskit.facts import CommandOutputFact, FileFact, FileState
from vpskit.gather import batch_script, parse_batch, sections_for
from vpskit.resources import Fetch, Outcome, Upload, Wait
from vpskit.resources.transfer import TenthNotes, UploadPlan
from tests.unit.factstub import StubFacts


def file_state(content: bytes, mode="0644", owner="root", group="root", carried=True):
    return FileState("file", owner, group, mode, len(content), hashlib.sha256(content).hexdigest(),
                     content if carried else None)


class PolledFacts:
    """A fact cache whose probe answers the next value of a sequence each time it is fetched again."""

    def __init__(self, fact, values):
        self.fact, self.values, self.fetches = fact, list(values), 0
        self.cached = {}

    def get(self, fact):
        if fact.key not in self.cached:
            self.cached[fact.key] = self.values[min(self.fetches, len(self.values) - 1)]
            self.fetches += 1
        return self.cached[fact.key]

    def invalidate(self, predicate=None, paths=(), kinds=(), facts=()):
        keys = {fact.key for fact in facts}
        self.cached = {k: v for k, v in self.cached.items() if not ((predicate and predicate(k)) or k in keys)}


class FakeConnection:
    def __init__(self, user="root", fail_put=False):
        self.user, self.fail_put, self.puts = user, fail_put, []

    def put(self, local_path, remote_path, progress=None):
        if self.fail_put:
            raise OSError("connection reset")
        self.puts.append((local_path, remote_path))


class FakeSession:
    """Records commands; answers the staging command with a temp path."""

    def __init__(self, facts=None, user="root", fail_put=False):
        self.name, self.facts, self.commands, self.notes = "h1", facts, [], []
        self.connection = FakeConnection(user, fail_put)

    def note(self, message):
        self.notes.append(message)

    def run(self, command, step, stdin=None, check=True, timeout=None):
        self.commands.append(command)
        staged = "mktemp -d" in command
        return CommandResult(0, "/var/lib/vpskit-uploads/run.abc123\n" if staged else "", "")


# -- probe fact ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command,expected", [
    ("printf 'a\\nb\\n'", (0, "a\nb\n")),
    ("printf 'no newline'; false", (1, "no newline")),
    ("exit 7", (7, "")),
    ("echo oops >&2; true", (0, "")),
])
def test_command_output_fact_round_trips_through_a_batch(command, expected):
    fact = CommandOutputFact(command)
    sections = sections_for([fact])
    out = subprocess.run(["sh", "-s"], input=batch_script(sections, "n0nce"), capture_output=True, text=True).stdout
    (text, rc), = parse_batch(out, 1, "n0nce")
    assert fact.parse(text, rc) == expected


# -- wait ---------------------------------------------------------------------------------------------


def test_wait_check_is_ok_when_the_condition_already_holds():
    probe = FileFact("/srv/ready")
    res = Wait(probe, lambda s: s.exists, "ready file")
    ok = res.check(StubFacts([(probe, file_state(b""))]))
    assert not ok.changed and ok.reason == "ready file: already so"
    wait = res.check(StubFacts([(probe, FileState("absent"))]))
    assert wait.changed and wait.reason == "wait for ready file" and wait.diff is None


def test_wait_polls_until_the_condition_holds():
    probe = CommandOutputFact("curl -fs http://127.0.0.1:8080/health")
    facts = PolledFacts(probe, [(7, ""), (7, ""), (0, "ok")])
    res = Wait(probe, lambda v: v[0] == 0, "health endpoint", timeout=5, interval=0.01)
    assert res.check(facts).changed
    res.apply(FakeSession(facts), None)
    assert facts.fetches == 3  # the check's fetch, then one per poll until it answered


def test_wait_times_out_naming_the_probe_and_its_last_value():
    probe = CommandOutputFact("cat /srv/never")
    facts = PolledFacts(probe, [(1, "x" * 1000)])
    res = Wait(probe, lambda v: v[0] == 0, "never file", timeout=0.1, interval=0.02)
    started = time.monotonic()
    with pytest.raises(RemoteError) as error:
        res.apply(FakeSession(facts), None)
    assert time.monotonic() - started < 1
    message = str(error.value)
    assert message.startswith("h1: wait never file: never file not reached within 0.1s")
    assert "CommandOutputFact('cat /srv/never',)" in message and "(1, 'xxx" in message
    assert len(message) < 400  # the last value is truncated
    assert facts.fetches > 2


def test_wait_invalidates_only_its_probe():
    probe, other = FileFact("/srv/ready"), FileFact("/etc/motd")
    facts = PolledFacts(probe, [1])
    facts.cached = {probe.key: 1, other.key: 2}
    Wait(probe, bool, "x").invalidate(facts)
    assert facts.cached == {other.key: 2}


# -- upload -------------------------------------------------------------------------------------------


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "bundle.tar"
    path.write_bytes(b"payload\n" * 1000)
    return path


def test_upload_decisions(source):
    data = source.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    res = Upload(source, "/srv/t/bundle.tar", mode="0640", group="adm")
    fact = FileFact("/srv/t/bundle.tar")
    create = res.check(StubFacts([(fact, FileState("absent"))]))
    assert create.changed and create.plan.action == "upload" and sha[:12] in create.reason and create.diff is None
    replace = res.check(StubFacts([(fact, file_state(b"old", carried=False))]))
    assert replace.plan.action == "upload" and hashlib.sha256(b"old").hexdigest()[:12] in replace.reason
    assert "8 KiB" in replace.reason and replace.diff is None
    attrs = res.check(StubFacts([(fact, file_state(data, "0644", group="root"))]))
    assert attrs.plan.action == "attrs" and "mode 0644 → 0640" in attrs.reason and "group root → adm" in attrs.reason
    ok = res.check(StubFacts([(fact, file_state(data, "0640", group="adm"))]))
    assert not ok.changed
    blocked = res.check(StubFacts([(fact, FileState("directory", "root", "root", "0755"))]))
    assert blocked.blocked


def test_upload_hashes_the_local_file_once(source, monkeypatch):
    import vpskit.resources.transfer as transfer
    calls = []
    real = transfer.sha256_of
    monkeypatch.setattr(transfer, "sha256_of", lambda path: calls.append(path) or real(path))
    res = Upload(source, "/srv/t/bundle.tar")
    for _ in range(3):
        res.check(StubFacts([(FileFact("/srv/t/bundle.tar"), FileState("absent"))]))
    assert calls == [source]


def test_upload_missing_source_is_an_error_at_check_time(tmp_path):
    res = Upload(tmp_path / "nope.tar", "/srv/t/nope.tar")
    with pytest.raises(VpskitError, match=f"local file {tmp_path / 'nope.tar'} does not exist"):
        res.check(StubFacts([(FileFact("/srv/t/nope.tar"), FileState("absent"))]))


@pytest.mark.parametrize("user", ["root", "deploy"])
def test_upload_stages_in_a_folder_of_the_login_users_then_root_renames_it_into_place(source, user):
    session = FakeSession(user=user)
    res = Upload(source, "/srv/t/bundle.tar", mode="0640")
    res.apply(session, res.check(StubFacts([(FileFact("/srv/t/bundle.tar"), FileState("absent"))])))
    stage, install = session.commands
    assert 'run=$(mktemp -d "$root/run.XXXXXX")' in stage and f'chown {user} "$run"' in stage
    assert session.connection.puts == [(source, "/var/lib/vpskit-uploads/run.abc123/bundle.tar")]
    assert hashlib.sha256(source.read_bytes()).hexdigest() in install
    assert 'chown root:root "$t"\nchmod 0640 "$t"\n' in install
    assert install.index('chown -h root:root "$run"') < install.index("sha256sum")  # taken back before the check
    assert install.index("chmod 0640") < install.index('mv -f "$t" "$p"')
    assert session.notes == []  # small files report no progress


def test_upload_failure_removes_the_staging_folder(source):
    session = FakeSession(fail_put=True)
    res = Upload(source, "/srv/t/bundle.tar")
    with pytest.raises(RemoteError, match="connection reset"):
        res.apply(session, res.check(StubFacts([(FileFact("/srv/t/bundle.tar"), FileState("absent"))])))
    assert session.commands[-1] == "rm -rf /var/lib/vpskit-uploads/run.abc123"


def test_upload_attrs_only_touches_attributes(source):
    session = FakeSession()
    Upload(source, "/srv/t/bundle.tar", mode="0600").apply(session, Outcome.change("attrs", plan=UploadPlan("attrs")))
    assert session.commands == ["chown root:root /srv/t/bundle.tar && chmod 0600 /srv/t/bundle.tar"]
    assert session.connection.puts == []


def test_progress_notes_every_tenth():
    notes = []
    progress = TenthNotes(notes.append, "upload big.tar")
    total = 612 << 20
    for sent in range(0, total + 1, 1 << 20):
        progress(sent, total)
    assert len(notes) == 10 and notes[3] == "upload big.tar: 40% of 612 MiB" and notes[-1].endswith("100% of 612 MiB")


# -- fetch --------------------------------------------------------------------------------------------

KUBECONFIG = b"apiVersion: v1\nclusters: []\n"


def test_fetch_blocks_when_the_host_file_is_missing_or_too_large(tmp_path):
    res = Fetch("/etc/k3s.yaml", tmp_path / "k3s.yaml")
    fact = FileFact("/etc/k3s.yaml")
    assert res.check(StubFacts([(fact, FileState("absent"))])).reason == "/etc/k3s.yaml does not exist on the host"
    big = res.check(StubFacts([(fact, FileState("file", "root", "root", "0600", 5 << 20, "ab" * 32))]))
    assert big.blocked and "5 MiB" in big.reason and "256 KiB" in big.reason
    assert res.secret and res.paths() == []


def test_fetch_check_changes_nothing_locally(tmp_path):
    dest = tmp_path / "a" / "b" / "config"
    res = Fetch("/etc/app.conf", dest, secret=False)
    out = res.check(StubFacts([(FileFact("/etc/app.conf"), file_state(KUBECONFIG))]))
    assert out.changed and out.reason == f"create {dest} from /etc/app.conf" and "+apiVersion: v1" in out.diff
    assert not (tmp_path / "a").exists()


def test_fetch_writes_atomically_with_private_mode_and_parents(tmp_path):
    dest = tmp_path / "a" / "b" / "config"
    res = Fetch("/etc/app.conf", dest)
    facts = StubFacts([(FileFact("/etc/app.conf"), file_state(KUBECONFIG))])
    res.apply(None, res.check(facts))
    assert dest.read_bytes() == KUBECONFIG
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
    assert sorted(os.listdir(dest.parent)) == ["config"]  # no temp file left
    assert not res.check(facts).changed
    dest.chmod(0o644)
    drift = res.check(facts)
    assert drift.changed and drift.reason.endswith("mode 0644 → 0600") and drift.plan.content is None
    res.apply(None, drift)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600


def test_fetch_transform_sees_remote_and_local_content(tmp_path):
    dest = tmp_path / "config"
    seen = []

    def merge(remote: bytes, local: bytes | None) -> bytes:
        seen.append((remote, local))
        return (local or b"# mine\n") + remote

    res = Fetch("/etc/app.conf", dest, transform=merge, secret=False)
    facts = StubFacts([(FileFact("/etc/app.conf"), file_state(KUBECONFIG))])
    res.apply(None, res.check(facts))
    assert dest.read_bytes() == b"# mine\n" + KUBECONFIG and seen[0] == (KUBECONFIG, None)
    dest.write_bytes(b"# theirs\n")
    dest.chmod(0o600)
    out = res.check(facts)
    assert seen[-1] == (KUBECONFIG, b"# theirs\n") and out.plan.content == b"# theirs\n" + KUBECONFIG
    assert "+apiVersion: v1" in out.diff


def test_fetch_hides_a_diff_of_credentials_even_when_not_secret(tmp_path):
    res = Fetch("/etc/k3s.yaml", tmp_path / "k3s.yaml", secret=False)
    out = res.check(StubFacts([(FileFact("/etc/k3s.yaml"), file_state(b"client-key-data: AAAA\n"))]))
    assert out.changed and "AAAA" not in out.diff and "credentials" in out.diff


def test_fetch_refuses_a_local_directory(tmp_path):
    res = Fetch("/etc/app.conf", tmp_path)
    with pytest.raises(VpskitError, match="is a directory on this machine"):
        res.check(StubFacts([(FileFact("/etc/app.conf"), file_state(KUBECONFIG))]))
