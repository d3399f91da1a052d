"""The backups role: its plan and settings, and its backup program run for real on this machine's bash."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import threading
import time

import pytest

from vpskit.builtin_roles.backups import PROGRAM, packages, plan
from vpskit.builtin_roles.backups.settings import pgpass, settings, sftp_command, ssh_config
from vpskit.errors import InventoryError, VpskitError
from vpskit.inventory import load_inventory
from vpskit.paths import default_playbook
from vpskit.playbook import load_playbook
from vpskit.roleloader import RoleLibrary, all_defaults, all_specs
from tests.unit.backuphost import LocalBackupHost, role_defaults, seed_files
from tests.unit.planctx import plan_context
from tests.unit.test_shell import run_shellcheck

pytestmark = pytest.mark.skipif(shutil.which("flock") is None or shutil.which("sqlite3") is None,
                                reason="needs flock and sqlite3")


# -- plan, settings, inventory checks -------------------------------------------------------------------------
def test_the_plan_from_defaults_writes_program_settings_and_daily_cron():
    ctx = plan_context({**role_defaults(), "backups_files": ["/etc"]}, groups=["backups"])
    resources = plan(ctx).resources
    paths = [getattr(r, "path", None) for r in resources]
    assert PROGRAM in paths and "/etc/vpskit-backup/config" in paths
    cron = next(r for r in resources if getattr(r, "path", None) == "/etc/cron.d/vpskit-backup")
    assert cron.content.splitlines()[-1] == f"0 2 * * * root {PROGRAM} run >/dev/null"
    secret = [r for r in resources if paths and getattr(r, "path", None) in
              ("/etc/vpskit-backup/pgpass", "/etc/vpskit-backup/encryption-password")]
    assert len(secret) == 2
    assert all(r.state == "absent" for r in secret)


def test_secrets_go_to_0600_files_never_the_settings():
    v = {**role_defaults(), "backups_postgres": True, "backups_postgres_host": "db.example", "backups_postgres_user":
         "app", "backups_postgres_password": "s3:cr\\et", "backups_k3s": True, "backups_encryption_password": "hunter22"}
    resources = {getattr(r, "path", r.title): r for r in plan(plan_context(v, groups=["backups"])).resources}
    written = resources["/etc/vpskit-backup/pgpass"]
    assert written.secret and written.mode == "0600" and not written.backup
    assert written.content == "db.example:5432:*:app:s3\\:cr\\\\et\n" == pgpass(v)
    assert resources["/etc/vpskit-backup/encryption-password"].secret
    config = settings(v)
    assert "s3" not in config and "hunter22" not in config and "PG_HOST=db.example" in config
    assert set(packages(v)) == {"cron", "sqlite3", "openssl", "postgresql-client"}


def test_sets_without_their_secrets_are_refused():
    with pytest.raises(VpskitError, match="backups_encryption_password"):
        plan(plan_context({**role_defaults(), "backups_k3s": True}, groups=["backups"]))
    with pytest.raises(VpskitError, match="backups_postgres_password"):
        plan(plan_context({**role_defaults(), "backups_postgres": True, "backups_postgres_host": "db"}, groups=["backups"]))


def test_offsite_with_restic_over_sftp_keeps_secrets_in_files():
    v = {**role_defaults(), "backups_files": ["/srv"], "backups_restic": True, "backups_restic_password": "pw-9x8y7z",
         "backups_restic_repository": "sftp:restic-vps1@10.0.0.2:/srv/restic/vps1", "backups_restic_port": 2222,
         "backups_restic_ssh_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n",
         "backups_restic_known_hosts": "10.0.0.2 ssh-ed25519 AAAAC3Nza"}
    resources = {getattr(r, "path", r.title): r for r in plan(plan_context(v, groups=["backups"])).resources}
    for path in ("/etc/vpskit-backup/restic-password", "/etc/vpskit-backup/restic-ssh-key"):
        assert resources[path].secret and resources[path].mode == "0600" and not resources[path].backup
    assert sftp_command(v) == "ssh -F /etc/vpskit-backup/ssh_config restic-vps1@10.0.0.2 -s sftp"
    assert "Port 2222" in ssh_config(v) and "StrictHostKeyChecking yes" in ssh_config(v)
    config = settings(v)
    assert "pw-9x8y7z" not in config and "OPENSSH" not in config and "RESTIC_ENABLED=1" in config
    assert {"restic", "openssh-client"} <= set(packages(v))
    off = {getattr(r, "path", r.title): r for r in plan(plan_context(role_defaults(), groups=["backups"])).resources}
    assert off["/etc/vpskit-backup/restic-password"].state == "absent"
    # the repository's own consistency check, weekly, only with off-site copies on
    check = resources["/etc/cron.d/vpskit-backup-check"]
    assert check.state == "present" and check.content.splitlines()[-1] == f"0 4 * * 0 root {PROGRAM} check >/dev/null"
    assert off["/etc/cron.d/vpskit-backup-check"].state == "absent"
    with pytest.raises(VpskitError, match="backups_restic_password, backups_restic_ssh_key"):
        plan(plan_context({**v, "backups_restic_password": None, "backups_restic_ssh_key": None}, groups=["backups"]))
    with pytest.raises(VpskitError, match="must be sftp:USER@HOST:/PATH, rest:"):
        plan(plan_context({**v, "backups_restic_repository": "ftp://s3.example/bucket"}, groups=["backups"]))


def test_offsite_over_rest_and_s3_keep_their_credentials_in_0600_files():
    base = {**role_defaults(), "backups_files": ["/srv"], "backups_restic": True, "backups_restic_password": "pw-1"}
    rest = {**base, "backups_restic_repository": "rest:https://backup.example:8000/vps1",
            "backups_restic_rest_user": "vps1", "backups_restic_rest_password": "p@ss:/w"}
    files = {getattr(r, "path", r.title): r for r in plan(plan_context(rest, groups=["backups"])).resources}
    repository = files["/etc/vpskit-backup/restic-repository"]
    assert repository.content == "rest:https://vps1:p%40ss%3A%2Fw@backup.example:8000/vps1\n"
    assert repository.secret and repository.mode == "0600" and files["/etc/vpskit-backup/restic-ssh-key"].state == "absent"
    config = settings(rest)
    assert "p@ss" not in config and "p%40ss" not in config and "RESTIC_SFTP_COMMAND=''" in config
    assert "RESTIC_REPOSITORY_FILE=/etc/vpskit-backup/restic-repository" in config
    assert "RESTIC_REPOSITORY=rest:https://backup.example:8000/vps1" in config  # what messages name: no login
    assert set(packages(rest)) == {"cron", "restic"}
    open_rest = {**base, "backups_restic_repository": "rest:http://10.0.0.2:8000/"}
    assert "RESTIC_REPOSITORY_FILE=''" in settings(open_rest)
    with pytest.raises(VpskitError, match="backups_restic_rest_password"):
        plan(plan_context({**rest, "backups_restic_rest_password": None}, groups=["backups"]))
    s3 = {**base, "backups_restic_repository": "s3:https://fsn1.your-objectstorage.com/vps-backups/vps1",
          "backups_restic_s3_access_key_id": "AKIA123", "backups_restic_s3_secret_access_key": "se'cret"}
    files = {getattr(r, "path", r.title): r for r in plan(plan_context(s3, groups=["backups"])).resources}
    env = files["/etc/vpskit-backup/restic-env"]
    assert env.content == "AWS_ACCESS_KEY_ID=AKIA123\nAWS_SECRET_ACCESS_KEY='se'\"'\"'cret'\n" and env.secret
    assert "se'cret" not in settings(s3) and "RESTIC_ENV_FILE=/etc/vpskit-backup/restic-env" in settings(s3)
    with pytest.raises(VpskitError, match="backups_restic_s3_access_key_id, backups_restic_s3_secret_access_key"):
        plan(plan_context({**s3, "backups_restic_s3_access_key_id": None, "backups_restic_s3_secret_access_key": None},
                          groups=["backups"]))


def test_the_program_reads_s3_keys_from_its_environment_file_not_a_command_line(tmp_path):
    """restic itself is replaced by a recorder here: what matters is where the keys reach it from."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    recorder = bin_dir / "restic"
    recorder.write_text('#!/bin/sh\nprintf "%s\\n" "$*" >> "$RECORD"; env | grep ^AWS_ >> "$RECORD"; exit 0\n')
    recorder.chmod(0o755)
    host = LocalBackupHost(tmp_path, backups_files=[str(seed_files(tmp_path))], backups_restic=True,
                           backups_restic_repository="s3:https://minio.example:9000/bucket")
    (tmp_path / "restic-env").write_text("AWS_ACCESS_KEY_ID=AKIA123\nAWS_SECRET_ACCESS_KEY='s3 cret'\n")
    with host.config.open("a") as config:
        config.write(f"RESTIC_ENV_FILE={tmp_path / 'restic-env'}\n")
    record = tmp_path / "record"
    env = host.env(RECORD=str(record))
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    done = subprocess.run([str(host.program), "run"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = record.read_text().splitlines()
    assert "AWS_SECRET_ACCESS_KEY=s3 cret" in lines and "AWS_ACCESS_KEY_ID=AKIA123" in lines
    commands = [x for x in lines if not x.startswith("AWS_")]
    assert commands and not [c for c in commands if "s3 cret" in c or "AKIA" in c]
    assert all("--repo s3:https://minio.example:9000/bucket" in c for c in commands)


def test_settings_quote_paths_for_the_shell(tmp_path):
    v = {**role_defaults(), "backups_files": ["/srv/it's here", "/etc"], "backups_postgres_databases": ["app", "b-2"]}
    out = subprocess.run(["bash", "-c", '. "$1"; printf "%s|" "${FILES[@]}" "${PG_DATABASES[@]}" "$KEEP_DAILY"', "_",
                          str(_write(tmp_path / "c", settings(v)))], capture_output=True, text=True)
    assert out.stdout == "/srv/it's here|/etc|app|b-2|7|"


@pytest.mark.parametrize("line, message", [
    ("backups_schedule: 2am", "backups_schedule must be a cron schedule"),
    ("backups_postgres_databases: [app, 'x; rm -rf /']", "must list database names"),
    ("backups_files: [etc]", "must list absolute paths, got 'etc'"),
    ("backups_dir: /", "must be a folder of its own under /var, /srv"),
    ("backups_dir: /home", "must not be /home or inside it"),
    ("backups_dir: /var/..", "must be a normalised path"),
    ("backups_dir: /srv", "not a system folder"),
    ("backups_dir: /var/backups", "not a system folder"),
    ("backups_dir: /etc/ssh/keep", "must not be /etc or inside it"),
    ("backups_textfile_dir: /tmp", "must not be /tmp or inside it"),
    ("backups_textfile_dir: var/lib/x", "must be an absolute path"),
    ("backups_keep_daily: 0", "must be 1 or more"),
])
def test_bad_settings_stop_with_file_and_line(tmp_path, line, message):
    path = _write(tmp_path / "hosts.yml", f"all:\n  hosts:\n    h1:\n      {line}\n")
    library = RoleLibrary()
    with pytest.raises(InventoryError, match=re.escape(message)) as error:
        load_inventory(path, all_defaults(library.all()), set(library.names()), specs=all_specs(library.all()))
    assert "hosts.yml:4: " in str(error.value)


def test_bootstrap_runs_backups_in_the_hardening_play_one_fact_round_trip():
    harden = load_playbook(default_playbook())[0]
    assert harden.hosts == "all" and harden.roles[-1] == "backups"


def test_the_program_with_every_set_passes_shellcheck(tmp_path):
    checker = shutil.which("shellcheck")
    if checker is None:
        pytest.skip("shellcheck is not installed")
    host = LocalBackupHost(tmp_path, backups_files=["/etc"], backups_postgres=True, backups_k3s=True)
    assert not run_shellcheck(checker, [host.program])


# -- the program, run for real --------------------------------------------------------------------------------
def test_a_files_run_then_its_restore_test(tmp_path):
    data = seed_files(tmp_path)
    host = LocalBackupHost(tmp_path, backups_files=[str(data)])
    done = host.run()
    assert done.returncode == 0, done.stderr
    [run] = host.runs()
    manifest = (run / "files.sha256").read_text()
    assert f"{str(data)[1:]}/sub/b with space.bin" in manifest and len(manifest.splitlines()) == 2
    assert host.metric("vpskit_backup_last_run_success") == "1"
    assert int(host.metric("vpskit_backup_last_success_timestamp_seconds")) >= int(time.time()) - 60
    assert int(host.metric("vpskit_backup_size_bytes")) == (run / "files.tar.gz").stat().st_size
    verified = host.run("verify")
    assert verified.returncode == 0, verified.stderr
    assert "2 files extracted and equal to the manifest" in verified.stdout
    assert host.metric("vpskit_backup_restore_test_success", "vpskit_backup_verify.prom") == "1"
    # a damaged archive: the restore test fails loudly and says so in the metric
    archive = run / "files.tar.gz"
    archive.write_bytes(archive.read_bytes()[:len(archive.read_bytes()) // 2])
    broken = host.run("verify")
    assert broken.returncode == 1 and "verify files" in broken.stderr and "FAILED" in broken.stderr
    assert host.metric("vpskit_backup_restore_test_success", "vpskit_backup_verify.prom") == "0"
    listed = host.run("list")
    assert listed.stdout.startswith(run.name) and "files.tar.gz" in listed.stdout


def test_kubernetes_objects_of_listed_namespaces_are_kept_and_verified(tmp_path):
    kubectl = tmp_path / "k3s"  # a stand-in for `k3s kubectl get`: records its arguments, prints a List
    kubectl.write_text('#!/bin/sh\necho "$@" >> "$(dirname "$0")/kubectl.log"\n'
                       'printf "apiVersion: v1\\nkind: List\\nitems: []\\n"\n')
    kubectl.chmod(0o755)
    host = LocalBackupHost(tmp_path, backups_k8s_namespaces=["web", "shop"], backups_k3s_bin=str(kubectl))
    done = host.run()
    assert done.returncode == 0, done.stderr
    [run] = host.runs()
    assert sorted(p.name for p in run.glob("k8s-*.yaml")) == ["k8s-shop.yaml", "k8s-web.yaml"]
    assert "kubectl get -n web deployments,statefulsets" in (tmp_path / "kubectl.log").read_text()
    assert host.run("verify").returncode == 0
    (run / "k8s-web.yaml").write_text("")
    broken = host.run("verify")
    assert broken.returncode == 1 and "k8s-web.yaml is missing or not a list" in broken.stderr


def test_check_without_offsite_copies_has_nothing_to_do(tmp_path):
    checked = LocalBackupHost(tmp_path, backups_files=[str(seed_files(tmp_path))]).run("check")
    assert checked.returncode == 0 and "off-site copies are off" in checked.stdout


def test_retention_keeps_seven_days_and_only_prunes_its_own_runs(tmp_path):
    data = seed_files(tmp_path)
    host = LocalBackupHost(tmp_path, backups_files=[str(data)])
    assert host.run().returncode == 0
    [today] = host.runs()
    dated = [f"2020010{d}T020000Z" for d in range(1, 9)]  # 8 older days
    for name in dated:
        shutil.copytree(today, host.dir / name)
    (host.dir / "20200109T010000Z").mkdir()  # named like a run, but not one vpskit completed
    (host.dir / "notes.txt").write_text("mine")
    assert host.run().returncode == 0
    names = [p.name for p in host.runs()]
    # today (only the newest of today's two runs) and the 6 newest older days
    assert names == dated[2:] + [names[-1]] and names[-1] != today.name
    assert (host.dir / "notes.txt").read_text() == "mine" and (host.dir / "20200109T010000Z").is_dir()


def test_weekly_and_monthly_runs_are_kept_besides_the_daily_ones(tmp_path):
    data = seed_files(tmp_path)
    host = LocalBackupHost(tmp_path, backups_files=[str(data)], backups_keep_daily=1, backups_keep_weekly=2,
                           backups_keep_monthly=3)
    assert host.run().returncode == 0
    [today] = host.runs()
    for day in [f"202001{d:02d}" for d in range(1, 32)] + [f"202002{d:02d}" for d in range(1, 30)]:
        shutil.copytree(today, host.dir / f"{day}T020000Z")
    assert host.run().returncode == 0
    names = [p.name for p in host.runs()]
    # daily: today's newest run; weekly: besides today's week, the newest of 24-29 Feb; monthly: besides
    # today's month and February's, the newest of January
    assert names[:2] == ["20200131T020000Z", "20200229T020000Z"] and len(names) == 3 and names[2] != today.name


def test_a_second_run_while_one_holds_the_lock_leaves_it_alone(tmp_path):
    data = seed_files(tmp_path)
    host = LocalBackupHost(tmp_path, backups_files=[str(data)])
    holder = subprocess.Popen(["flock", str(tmp_path / "lock"), "sleep", "30"])
    try:
        time.sleep(0.3)
        second = host.run()
        assert second.returncode == 75 and "not starting" in second.stderr
        assert host.runs() == [] and not (host.metrics / "vpskit_backup.prom").exists()
        assert holder.poll() is None  # the first is untouched
    finally:
        holder.kill()
        holder.wait()


def test_a_failed_step_fails_the_run_and_rotates_nothing_out(tmp_path):
    data = seed_files(tmp_path)
    host = LocalBackupHost(tmp_path, backups_files=[str(data)])
    assert host.run().returncode == 0
    host.configure(backups_files=[str(data), str(tmp_path / "missing")])
    failed = host.run()
    assert failed.returncode == 1 and "files: tar failed" in failed.stderr and "older runs kept" in failed.stderr
    assert len(host.runs()) == 1 and not list(host.dir.glob(".partial-*"))
    assert host.metric("vpskit_backup_last_run_success") == "0"
    assert host.metric("vpskit_backup_last_success_timestamp_seconds") != "0"


def test_sqlite_datastore_copied_online_while_written(tmp_path):
    k3s = tmp_path / "k3s"
    (k3s / "server" / "db").mkdir(parents=True)
    (k3s / "server" / "token").write_text("K10secret::server:abc\n")
    _write(tmp_path / "password", "correct horse\n")
    database = k3s / "server" / "db" / "state.db"
    with sqlite3.connect(database) as db:
        db.execute("pragma journal_mode=wal")
        db.execute("create table kine (id integer primary key, value blob)")
    stop = threading.Event()

    def writer():
        with sqlite3.connect(database, timeout=30) as db:
            while not stop.is_set():
                db.executemany("insert into kine (value) values (?)", [(b"x" * 200,)] * 200)
                db.commit()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.3)
        host = LocalBackupHost(tmp_path, backups_k3s=True, backups_k3s_data_dir=str(k3s))
        done = host.run()
    finally:
        stop.set()
        thread.join()
    assert done.returncode == 0, done.stderr
    [run] = host.runs()
    copy = sqlite3.connect(run / "k3s-state.db")
    assert copy.execute("pragma integrity_check").fetchone() == ("ok",)
    assert copy.execute("select count(*) from kine").fetchone()[0] > 0
    assert b"K10secret" not in (run / "k3s-token.enc").read_bytes()
    assert host.run("verify").returncode == 0
    host.configure(backups_k3s=True, backups_k3s_data_dir=str(k3s), backups_min_bytes=10 ** 9)
    small = host.run()
    assert small.returncode == 1 and "below the floor" in small.stderr and host.runs() == [run]


def test_etcd_snapshot_with_the_fake_k3s(tmp_path):
    from tests.unit.test_fake_k3s import Daemon, FakeHost, free_port, server_config
    from tests.fakes.k3s.build import build_fake_k3s
    from tests.fakes.k3s.fake.version import VERSION
    binary = build_fake_k3s(VERSION, tmp_path / "bin" / "k3s")
    fake = FakeHost(binary, tmp_path / "root", free_port())
    fake.write_config(server_config(**{"node-name": "s1", "cluster-init": True}))
    daemon = Daemon(fake, "server")
    try:
        assert daemon.wait_ready()
        _write(tmp_path / "password", "correct horse\n")
        host = LocalBackupHost(tmp_path / "host", backups_k3s=True, backups_k3s_bin=str(binary),
                               backups_k3s_data_dir=str(fake.path("/var/lib/rancher/k3s")))
        (tmp_path / "host" / "password").write_text("correct horse\n")
        # the fake writes under its own root: its view of the backup folder is this one
        seen = fake.path(str(host.dir))
        seen.parent.mkdir(parents=True, exist_ok=True)
        seen.symlink_to(host.dir)
        env = {k: v for k, v in fake.env().items() if k.startswith("FAKE_K3S")}
        done = host.run(**env)
        assert done.returncode == 0, done.stderr
        [run] = host.runs()
        assert [p.name for p in run.glob("vpskit-s1-*")] and (run / "k3s-token.enc").is_file()
        assert host.run("verify", **env).returncode == 0
    finally:
        daemon.stop()


def _write(path, text):
    path.write_text(text)
    return path


def test_restore_files_only_into_an_empty_folder(tmp_path):
    data = seed_files(tmp_path)
    host = LocalBackupHost(tmp_path, backups_files=[str(data)])
    assert host.run().returncode == 0
    target = tmp_path / "restored"
    done = host.run_args("restore", "files", str(target))
    assert done.returncode == 0, done.stderr
    assert (target / str(data)[1:] / "a.txt").read_text() == "alpha\n"
    again = host.run_args("restore", "files", str(target))
    assert again.returncode == 1 and "is not empty" in again.stderr
    named = host.run_args("restore", "files", str(tmp_path / "other"), RUN="20200101T000000Z")
    assert named.returncode == 1 and "no complete run named 20200101T000000Z" in named.stderr
    guided = host.run_args("restore", "k3s")  # the procedure is of what the run holds (tests/unit/test_dr.py)
    assert guided.returncode == 1 and "holds no K3s datastore" in guided.stderr


def test_restore_task_checks_its_input_and_asks_first(tmp_path, monkeypatch, capsys):
    from invoke import Context, Exit
    from tests.unit.roletasks import role_tasks
    restore, restore_command = role_tasks("backups").restore, role_tasks("backups").restore_command
    assert restore_command("postgres:shop", "shop_restored") == "restore postgres shop shop_restored"
    assert restore_command("files", "/srv/it's") == "restore files '/srv/it'\"'\"'s'"
    for what, target in (("postgres:shop", "x; drop"), ("files", "relative"), ("postgres:shop", None)):
        with pytest.raises(Exit):
            restore_command(what, target)
    inventory = _write(tmp_path / "hosts.yml", "all:\n  children:\n    backups:\n      hosts:\n"
                                              "        h1:\n          vpskit_host: 192.0.2.1\n")
    monkeypatch.setattr("builtins.input", lambda prompt: print(prompt) or "n")
    with pytest.raises(Exit, match="restore cancelled"):  # before any connection (192.0.2.1 is unroutable)
        restore(Context(), what="files", target="/root/restored", inventory=str(inventory))
    assert "restore files from the newest run into /root/restored on h1? [y/N]" in capsys.readouterr().out


def test_hosts_outside_group_backups_get_nothing():
    assert plan(plan_context({**role_defaults(), "backups_files": ["/etc"]})).resources == []


class PingHook:
    """A healthchecks-style endpoint on 127.0.0.1: records (path, body) of every ping."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        pings = self.pings = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                pings.append((self.path, self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ping/4f7a"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.skipif(not shutil.which("curl"), reason="curl missing")
def test_the_heartbeat_is_pinged_at_start_and_with_success_or_failure(tmp_path):
    hook = PingHook()
    try:
        host = LocalBackupHost(tmp_path / "h")
        (host.root / "heartbeat-url").write_text(hook.url + "\n")
        assert host.run().returncode == 1  # no set: a failed run
        assert [p for p, _ in hook.pings] == ["/ping/4f7a/start", "/ping/4f7a/fail"]
        assert "no set is configured" in hook.pings[1][1]
        host.configure(backups_files=[str(seed_files(tmp_path))])
        done = host.run()
        assert done.returncode == 0, done.stderr
        assert [p for p, _ in hook.pings[2:]] == ["/ping/4f7a/start", "/ping/4f7a"]
        assert re.match(r"run \d{8}T\d{6}Z ok in \d+ s$", hook.pings[3][1])
    finally:
        hook.close()


def test_an_unreachable_heartbeat_is_logged_and_the_run_goes_on(tmp_path):
    host = LocalBackupHost(tmp_path / "h", backups_files=[str(seed_files(tmp_path))])
    (host.root / "heartbeat-url").write_text("http://127.0.0.1:9/ping/x\n")
    done = host.run()
    assert done.returncode == 0 and "heartbeat: the success ping failed" in done.stderr, done.stderr
    assert "127.0.0.1:9" not in done.stdout + done.stderr


def test_the_heartbeat_url_is_a_secret_file_and_needs_curl():
    ctx = plan_context({**role_defaults(), "backups_files": ["/etc"],
                        "backups_heartbeat_url": "https://hc-ping.example.org/s3cret-uuid"}, groups=["backups"])
    files = {r.path: r for r in plan(ctx).resources if getattr(r, "path", None)}
    ping = files["/etc/vpskit-backup/heartbeat-url"]
    assert ping.secret and ping.mode == "0600" and ping.content == "https://hc-ping.example.org/s3cret-uuid\n"
    assert "s3cret" not in files["/etc/vpskit-backup/config"].content
    assert "curl" in packages({**role_defaults(), "backups_heartbeat_url": "https://h/p"})
    off = {r.path: r for r in plan(plan_context({**role_defaults(), "backups_files": ["/etc"]}, groups=["backups"]))
           .resources if getattr(r, "path", None)}
    assert off["/etc/vpskit-backup/heartbeat-url"].state == "absent"


def test_only_a_killed_runs_folder_is_removed_not_any_partial_looking_one(tmp_path):
    data = seed_files(tmp_path)
    host = LocalBackupHost(tmp_path, backups_files=[str(data)])
    killed = host.dir / ".partial-20260101T000000Z"
    killed.mkdir()
    (killed / "VPSKIT-BACKUP-PARTIAL").write_text("vpskit-backup run 20260101T000000Z, being written\n")
    (killed / "files.tar").write_text("half")
    theirs = [host.dir / ".partial-20260101T000001Z", host.dir / ".partial-photos"]
    for folder in theirs:
        folder.mkdir()
        (folder / "keep.jpg").write_text("someone else's")
    assert host.run().returncode == 0
    assert not killed.exists() and all((folder / "keep.jpg").exists() for folder in theirs)
    [run] = host.runs()
    assert not (run / "VPSKIT-BACKUP-PARTIAL").exists()


def test_a_marker_that_cannot_be_written_fails_the_run_instead_of_hiding_it(tmp_path):
    data = seed_files(tmp_path)
    host = LocalBackupHost(tmp_path, backups_files=[str(data)])
    bin_dir = tmp_path / "bin"  # a printf whose write fails as on a full disk, for the run marker only
    bin_dir.mkdir()
    wrapper = tmp_path / "full-disk.sh"
    wrapper.write_text(f'#!/bin/bash\nprintf() {{ if [ "$1" = "vpskit-backup run %s\\\\n" ]; then return 1; fi; '
                       f'builtin printf "$@"; }}\nexport -f printf\nsource {host.program} "$@"\n')
    wrapper.chmod(0o755)
    failed = subprocess.run([str(wrapper), "run"], env=host.env(), capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1 and "cannot write the run's marker" in failed.stderr
    assert host.runs() == [] and not [p for p in host.dir.iterdir() if p.name != ".lock"]
    assert host.metric("vpskit_backup_last_run_success") == "0"


@pytest.mark.parametrize("signal_name", ["TERM", "KILL"])
def test_a_killed_restore_test_leaves_no_copy_of_the_data_behind(tmp_path, signal_name):
    data = seed_files(tmp_path)
    host = LocalBackupHost(tmp_path, backups_files=[str(data)])
    assert host.run().returncode == 0
    bin_dir, scratch = tmp_path / "bin", tmp_path / "tmp"  # TMPDIR: where mktemp would put copies by default
    bin_dir.mkdir()
    scratch.mkdir()
    # a tar that extracts the copy, then the restore test is killed (tar runs straight from the program's shell)
    (bin_dir / "tar").write_text(f'#!/bin/sh\n/usr/bin/tar "$@"\nkill -{signal_name} "$PPID"\nsleep 5\n')
    (bin_dir / "tar").chmod(0o755)
    path = f"{bin_dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    killed = host.run("verify", PATH=path, TMPDIR=str(scratch))
    assert killed.returncode != 0
    copies = [p for p in [*scratch.rglob("*"), *(host.state / "verify").rglob("*")] if p.name == "a.txt"]
    if signal_name == "TERM":
        assert copies == []  # removed on the signal
    else:
        assert copies and not list(scratch.iterdir())  # SIGKILL runs no trap: left, but in root's state folder
        again = host.run("verify", TMPDIR=str(scratch))
        assert again.returncode == 0, again.stderr
    assert not (host.state / "verify").exists() and not list(scratch.iterdir())


# -- the K3s token's record: salted and slow, an older unsalted one accepted once and rewritten ----------------
TOKEN = "K10secret::server:abc\n"


def _small_k3s_host(root):
    k3s = root / "k3s"
    (k3s / "server" / "db").mkdir(parents=True)
    (k3s / "server" / "token").write_text(TOKEN)
    with sqlite3.connect(k3s / "server" / "db" / "state.db") as db:
        db.execute("create table kine (id integer primary key, value blob)")
    _write(root / "password", "correct horse\n")
    return LocalBackupHost(root, backups_k3s=True, backups_k3s_data_dir=str(k3s), backups_min_bytes=1)


def _a_day_older(run, days=1):
    """The run as if made days before: retention keeps one run a day, and these tests need more."""
    import datetime
    stamp = datetime.datetime.strptime(run.name, "%Y%m%dT%H%M%SZ") - datetime.timedelta(days=days)
    return run.rename(run.with_name(stamp.strftime("%Y%m%dT%H%M%SZ")))


def _pbkdf2_matches(record: str, token: str) -> bool:
    """The record checked by Python's own PBKDF2, not by the program that wrote it."""
    import hashlib
    kind, iterations, salt, key = record.split()
    digest = hashlib.sha256(token.encode()).hexdigest().encode()
    return kind == "pbkdf2-sha256" and hashlib.pbkdf2_hmac(
        "sha256", digest, bytes.fromhex(salt), int(iterations), 32).hex() == key.lower()


def test_the_token_record_is_salted_pbkdf2_and_verify_checks_it(tmp_path):
    import hashlib
    host = _small_k3s_host(tmp_path)
    assert host.run().returncode == 0
    _a_day_older(host.runs()[0])
    assert host.run().returncode == 0
    first, second = host.runs()
    records = [(run / "k3s-token.pbkdf2").read_text() for run in (first, second)]
    assert all(_pbkdf2_matches(record, TOKEN) for record in records)
    assert int(records[0].split()[1]) >= 600000 and records[0].split()[2] != records[1].split()[2]  # own salts
    plain = hashlib.sha256(TOKEN.encode()).hexdigest()
    for run in (first, second):
        assert not (run / "k3s-token.sha256").exists()
        assert all(plain not in f.read_text(errors="replace") for f in run.iterdir() if f.is_file())
    assert host.run("verify").returncode == 0
    salt = records[1].split()[2]
    (second / "k3s-token.pbkdf2").write_text(records[1].replace(salt, "00" * 8))
    tampered = host.run("verify")
    assert tampered.returncode == 1 and "does not decrypt to the token that was backed up" in tampered.stderr


def test_an_older_unsalted_record_is_accepted_once_then_rewritten_or_refused_when_wrong(tmp_path):
    import hashlib
    host = _small_k3s_host(tmp_path)
    assert host.run().returncode == 0
    old = _a_day_older(host.runs()[0])
    (old / "k3s-token.pbkdf2").unlink()  # what an earlier vpskit left: the token's plain SHA-256
    (old / "k3s-token.sha256").write_text(hashlib.sha256(TOKEN.encode()).hexdigest() + "\n")
    assert host.run("verify").returncode == 0, "the newest run's old record is still a valid check"
    steps = host.run_args("restore", "k3s")
    assert steps.returncode == 0 and "sha256sum <" in steps.stdout
    upgraded = host.run()
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"run {old.name}: the K3s token's unsalted record rewritten salted" in upgraded.stdout
    assert not (old / "k3s-token.sha256").exists() and _pbkdf2_matches((old / "k3s-token.pbkdf2").read_text(), TOKEN)
    # a record that does not match its token is refused, never rewritten into one that would pass
    newest = host.runs()[-1]
    (newest / "k3s-token.pbkdf2").unlink()
    (newest / "k3s-token.sha256").write_text("0" * 64 + "\n")
    refused = host.run("verify")
    assert refused.returncode == 1 and "does not decrypt to the token that was backed up" in refused.stderr
    newest = _a_day_older(newest, days=2)
    again = host.run()
    assert again.returncode == 0
    assert f"run {newest.name}: its encrypted K3s token does not match its unsalted record" in again.stderr
    assert (newest / "k3s-token.sha256").exists() and not (newest / "k3s-token.pbkdf2").exists()
    (newest / "k3s-token.sha256").unlink()
    missing = host.run_args("restore", "k3s", RUN=newest.name)
    assert missing.returncode == 1 and "holds no record of its K3s token" in missing.stderr
