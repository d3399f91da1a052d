"""Backups on lab hosts with real PostgreSQL, SQLite, cron and restic: dumps, restore tests, retention, locking.

The program runs as cron runs it (`env -i`, cron's PATH, as root) on lab host 11; cron itself fires it once; a
corrupted dump makes the restore test fail loudly; restic copies each run over SFTP to host 12 (a user whose key
may only speak SFTP), and host 13 restores it. Hosts 6-10 are the K3s tests'.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import LAB_NAME
from tests.e2e.helpers import invoke, lab_target, sh, wait_for
from vpskit.connection import Connection

HOST, TARGET, RESTORER = (f"{LAB_NAME}{i}" for i in (11, 12, 13))
# PostgreSQL on Debian 13 too: host 15 alone (14 is the monitoring test's Debian 12 host)
TRIXIE_INDEX = 15
TRIXIE = f"{LAB_NAME}{TRIXIE_INDEX}"
# the disaster-recovery drill's spare: a fresh host the drill rebuilds host 11 onto
SPARE_INDEX = 20
SPARE = f"{LAB_NAME}{SPARE_INDEX}"
PASSWORD = "lab-backup-pass-7f3a9c"  # the token's encryption password, given to vpskit through !env
RESTIC_PASSWORD = "lab-restic-pass-2b8e51"  # the repository's, through !file
REST_PASSWORD = "lab-rest-pass-4c1d9e"  # the REST server's login, through !env
SECRETS = (PASSWORD, RESTIC_PASSWORD, REST_PASSWORD)
BACKUPS = "/var/backups/vpskit-backup"
METRICS = "/var/lib/prometheus/node-exporter"
# what cron runs: an empty environment but for SHELL, HOME, LOGNAME and the PATH of the cron.d file
AS_CRON = ("env -i SHELL=/bin/sh HOME=/root LOGNAME=root "
           "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/sh -c "
           "'/usr/local/sbin/vpskit-backup run >/dev/null'")
SEED = """
create table items (id serial primary key, name text not null);
create table orders (id serial primary key, item integer references items, note text);
create table "Empty Audit" (at timestamptz);
insert into items (name) select 'item ' || g from generate_series(1, 1500) g;
insert into orders (item, note) select 1 + g % 1500, E'multi\\nline ' || g from generate_series(1, 420) g;
"""
EXPECTED = ['public."Empty Audit" 0', "public.items 1500", "public.orders 420"]


def run_on(lab, command: str, timeout: int = 600):
    done = sh(lab, HOST, f"timeout {timeout} sh -c {shlex.quote(command)}")
    assert done.ok, f"{command}: {done.stdout[-1500:]} {done.stderr[-1500:]}"
    return done.stdout


@pytest.fixture(scope="module")
def host(lab, fresh):
    """Lab host 11 with PostgreSQL (a seeded database `shop`), sqlite3, and a K3s-like SQLite datastore."""
    lab.up(13, "bookworm")
    started = time.monotonic()
    apt = "timeout 300 apt-get -o Acquire::Retries=3 -o Acquire::http::Timeout=30"
    # one host after another: apt-cacher-ng can stall when several hosts refresh the same lists at once
    for name, packages in ((HOST, "postgresql sqlite3"), (TARGET, "openssh-sftp-server"), (RESTORER, "restic")):
        install = f"{apt} update -qq && DEBIAN_FRONTEND=noninteractive {apt} install -y -qq {packages} >/dev/null"
        for _attempt in range(3):
            done = sh(lab, name, install)
            if done.ok:
                break
        assert done.ok, f"{name}: {done.stderr[-1500:]}"
    assert wait_for(lambda: sh(lab, HOST, "runuser -u postgres -- psql -Atc 'select 1'").ok, 60)
    sh(lab, HOST, "runuser -u postgres -- dropdb --if-exists shop")
    run_on(lab, "runuser -u postgres -- createdb shop")
    seeded = sh(lab, HOST, f"runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d shop <<'SQL'\n{SEED}\nSQL")
    assert seeded.ok, seeded.stderr
    run_on(lab, "mkdir -p /srv/data/conf /var/lib/rancher/k3s/server/db && echo hello > /srv/data/a.txt && "
                "head -c 100000 /dev/urandom > /srv/data/conf/blob.bin && "
                "printf 'K10labtoken::server:0123456789abcdef\\n' > /var/lib/rancher/k3s/server/token && "
                "rm -f /var/lib/rancher/k3s/server/db/state.db* && "
                "sqlite3 /var/lib/rancher/k3s/server/db/state.db "
                "'pragma journal_mode=wal; create table kine (id integer primary key, value blob);' >/dev/null")
    print(f"backups prerequisites (postgresql, sqlite3, sftp-server, restic) installed and seeded in "
          f"{time.monotonic() - started:.0f} s")
    return HOST


@pytest.fixture(scope="module")
def offsite(lab, host, tmp_path_factory) -> dict:
    """The SFTP target on host 12: user `restic`, whose key (made here, for this host only) may only run sftp-server."""
    folder = tmp_path_factory.mktemp("offsite")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"vpskit-backup@{HOST}", "-f",
                    str(folder / "key")], check=True)
    (folder / "restic-password").write_text(RESTIC_PASSWORD + "\n")
    public = (folder / "key.pub").read_text().strip()
    run_on_host(lab, TARGET, "id restic >/dev/null 2>&1 || useradd -m -d /srv/restic -s /bin/sh restic; "
                             "install -d -o restic -g restic -m 700 /srv/restic/.ssh && "
                             f"echo 'restrict,command=\"/usr/lib/openssh/sftp-server\" {public}' > /srv/restic/.ssh/authorized_keys && "
                             "chown restic:restic /srv/restic/.ssh/authorized_keys && rm -rf /srv/restic/repo")
    state = lab.load_state()
    address = state.hosts[TARGET].address
    known = (lab.state_dir / f"{TARGET}.hostkey").read_text().strip()
    return {"key": folder / "key", "password": folder / "restic-password", "known_hosts": known,
            "repository": f"sftp:restic@{address}:/srv/restic/repo"}


def run_on_host(lab, name: str, command: str) -> str:
    done = sh(lab, name, command)
    assert done.ok, f"{name}: {command}: {done.stderr[-1500:]}"
    return done.stdout


def write_inventory(lab, folder, offsite: dict, spare: str | None = None, **extra) -> str:
    state = lab.load_state()
    address = state.hosts[HOST].address
    values = {"backups_postgres": True, "backups_files": ["/srv/data"], "backups_k3s": True, "backups_restic": True,
              "backups_restic_repository": offsite["repository"], "backups_restic_known_hosts": offsite["known_hosts"],
              **extra}
    lines = ["all:", "  vars:", "    vpskit_user: root", f"    vpskit_ssh_key: {lab.key_path}",
             f"    vpskit_known_hosts: {lab.known_hosts_path}",
             "    backups_encryption_password: !env VPSKIT_TEST_BACKUP_PASSWORD",
             f"    backups_restic_password: !file {offsite['password']}",
             f"    backups_restic_ssh_key: !file {offsite['key']}",
             *(f"    {k}: {json.dumps(v)}" for k, v in values.items()),
             "  children:", "    backups:", "      hosts:", f"        {HOST}:", f"          vpskit_host: {address}"]
    if spare:
        lines += ["    dr_spares:", "      hosts:", f"        {spare}:", f"          vpskit_host: {state.hosts[spare].address}"]
    path = folder / "hosts.yml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def inventory(lab, host, offsite, tmp_path_factory):
    os.environ["VPSKIT_TEST_BACKUP_PASSWORD"] = PASSWORD
    return write_inventory(lab, tmp_path_factory.mktemp("backups"), offsite)


@pytest.fixture(scope="module")
def converged(lab, inventory, tmp_path_factory):
    report = tmp_path_factory.mktemp("backups-report") / "first.json"
    run = invoke("backups", "-i", inventory, "--json", str(report))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert not [x for x in SECRETS if x in run.stdout + run.stderr + report.read_text()]
    return run


def runs(lab) -> list[str]:
    listed = sh(lab, HOST, f"find {BACKUPS} -mindepth 2 -maxdepth 2 -name VPSKIT-BACKUP | sort").stdout.split()
    return [p.split("/")[-2] for p in listed]


def metric(lab, name: str, file: str) -> str:
    text = sh(lab, HOST, f"cat {METRICS}/{file}").stdout
    return next(line.split()[-1] for line in text.splitlines() if line.startswith(name + " "))


def test_the_role_writes_program_cron_and_secrets_once(lab, inventory, converged, tmp_path):
    assert sh(lab, HOST, "cat /etc/cron.d/vpskit-backup").stdout.splitlines()[-1] == \
        "0 2 * * * root /usr/local/sbin/vpskit-backup run >/dev/null"
    modes = sh(lab, HOST, "stat -c %a /usr/local/sbin/vpskit-backup /etc/vpskit-backup/encryption-password "
                          f"/etc/vpskit-backup/config {BACKUPS}").stdout.split()
    assert modes == ["700", "600", "600", "700"]
    settings = sh(lab, HOST, "cat /etc/vpskit-backup/config /etc/vpskit-backup/ssh_config /etc/cron.d/vpskit-backup*")
    assert not [x for x in SECRETS if x in settings.stdout]
    report = tmp_path / "again.json"
    again = invoke("backups", "-i", inventory, "--json", str(report))
    assert again.returncode == 0, again.stdout[-3000:]
    summary = json.loads(report.read_text())["hosts"][HOST]
    assert summary["summary"]["changed"] == 0, [s for s in summary["steps"] if s["status"] == "changed"]
    assert summary["connections"] == 1 and summary["commands"] == 1
    # tampering: check mode sees it (exit 2), the next run restores it
    run_on(lab, "echo 'exit 0' >> /usr/local/sbin/vpskit-backup && chmod 644 /etc/vpskit-backup/encryption-password "
                "&& rm /etc/cron.d/vpskit-backup-verify")
    checked = invoke("backups", "-i", inventory, "--check", "--quiet")
    assert checked.returncode == 2 and not [x for x in SECRETS if x in checked.stdout + checked.stderr]
    assert invoke("backups", "-i", inventory, "--quiet").returncode == 0
    assert invoke("backups", "-i", inventory, "--check", "--quiet").returncode == 0


@pytest.fixture(scope="module")
def first_backup(lab, converged):
    """One run as cron runs it, while a writer keeps inserting rows into the SQLite datastore."""
    writer = run_on(lab, "nohup sh -c 'while :; do echo \"insert into kine (value) values (randomblob(300));\"; "
                         "done | sqlite3 /var/lib/rancher/k3s/server/db/state.db' >/dev/null 2>&1 & echo $!").strip()
    # what every process on the host was started with, sampled during the run: no password may show
    sampler = run_on(lab, "nohup sh -c 'while :; do ps -eo args; sleep 0.05; done' >/root/ps.log 2>&1 & echo $!")
    try:
        time.sleep(2)
        before = int(run_on(lab, "sqlite3 /var/lib/rancher/k3s/server/db/state.db 'select count(*) from kine'"))
        started = time.monotonic()
        done = sh(lab, HOST, AS_CRON)
        took = time.monotonic() - started
        after = int(run_on(lab, "sqlite3 /var/lib/rancher/k3s/server/db/state.db 'select count(*) from kine'"))
    finally:
        sh(lab, HOST, f"pkill -P {writer}; kill {writer}; kill {sampler.strip()}")  # by pid: the shells we started
    assert done.ok, done.stdout[-2000:] + done.stderr[-2000:]
    processes = sh(lab, HOST, "cat /root/ps.log").stdout
    assert "restic" in processes and not [x for x in SECRETS if x in processes]
    assert after > before > 0, "the writer was not writing during the backup"
    print(f"first backup run (postgres, files, sqlite under writes): {took:.1f} s")
    return runs(lab)[-1]


def test_a_run_as_cron_runs_it_dumps_counts_and_copies(lab, first_backup):
    folder = f"{BACKUPS}/{first_backup}"
    files = sh(lab, HOST, f"ls {folder}").stdout.split()
    assert {"postgres-shop.dump", "postgres-shop.counts", "postgres-globals.sql", "files.tar.gz", "files.sha256",
            "k3s-state.db", "k3s-token.enc", "k3s-token.pbkdf2", "VPSKIT-BACKUP"} <= set(files)
    assert sh(lab, HOST, f"cat {folder}/postgres-shop.counts").stdout.splitlines() == EXPECTED
    copy = run_on(lab, f"sqlite3 {folder}/k3s-state.db 'pragma integrity_check' 'select count(*) from kine'")
    assert copy.split()[0] == "ok" and int(copy.split()[1]) > 0
    assert "K10labtoken" not in sh(lab, HOST, f"cat {folder}/k3s-token.enc").stdout
    journal = sh(lab, HOST, "journalctl -t vpskit-backup --no-pager -o cat").stdout
    assert f"run {first_backup} ok in" in journal and "offsite: initialised" in journal
    assert not [x for x in SECRETS if x in journal]
    assert metric(lab, "vpskit_backup_last_run_success", "vpskit_backup.prom") == "1"
    assert 'vpskit_backup_size_bytes{set="postgres-shop.dump"}' in sh(lab, HOST, f"cat {METRICS}/*.prom").stdout


def test_verify_restores_the_dump_and_counts_match(lab, inventory, first_backup):
    verified = invoke("backups.verify", "-i", inventory)
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-2000:]
    assert f"{HOST}: verify postgres shop: restored, 3 tables with the recorded row counts" in verified.stdout
    assert f"{HOST}: verify files: 2 files extracted and equal to the manifest" in verified.stdout
    assert f"{HOST}: verify offsite: the newest snapshot restored and equal to {first_backup}" in verified.stdout
    assert metric(lab, "vpskit_backup_restore_test_success", "vpskit_backup_verify.prom") == "1"
    assert "vpskit_verify" not in sh(lab, HOST, "runuser -u postgres -- psql -Atc 'select datname from pg_database'").stdout
    listed = invoke("backups.list", "-i", inventory)
    assert listed.returncode == 0 and f"{HOST}: {first_backup}" in listed.stdout


def test_restore_a_database_and_files_for_real(lab, inventory, first_backup):
    sh(lab, HOST, "runuser -u postgres -- dropdb --if-exists shop_restored; rm -rf /root/restored-files")
    database = invoke("backups.restore", "-i", inventory, "--what", "postgres:shop", "--target", "shop_restored",
                      "--yes")
    assert database.returncode == 0, database.stdout[-2000:] + database.stderr[-2000:]
    rows = run_on(lab, "runuser -u postgres -- psql -X -A -t -d shop_restored "
                       "-c 'select count(*) from items' -c 'select count(*) from orders'")
    assert rows.split() == ["1500", "420"]
    again = invoke("backups.restore", "-i", inventory, "--what", "postgres:shop", "--target", "shop_restored", "--yes")
    assert again.returncode == 1 and "exists" in again.stdout  # never over an existing database
    files = invoke("backups.restore", "-i", inventory, "--what", "files", "--target", "/root/restored-files", "--yes")
    assert files.returncode == 0, files.stdout[-2000:]
    assert sh(lab, HOST, "cat /root/restored-files/srv/data/a.txt").stdout == "hello\n"


def test_the_offsite_copy_restores_on_a_third_host(lab, offsite, first_backup):
    with Connection(lab_target(lab, RESTORER)) as conn:  # the operator's own copy of key and password
        for name, path in (("key", offsite["key"]), ("password", offsite["password"])):
            assert conn.run(f"install -m 600 /dev/stdin /root/restic-{name}", stdin=path.read_bytes()).ok
        assert conn.run("cat > /root/restic-known-hosts", stdin=(offsite["known_hosts"] + "\n").encode()).ok
    ssh = ("ssh -i /root/restic-key -o IdentitiesOnly=yes -o UserKnownHostsFile=/root/restic-known-hosts "
           "-o StrictHostKeyChecking=yes -o BatchMode=yes")
    target = offsite["repository"].split(":")[1]
    restored = sh(lab, RESTORER, f"rm -rf /root/restored && restic -r {offsite['repository']} --password-file "
                                 f"/root/restic-password -o sftp.command='{ssh} {target} -s sftp' restore latest "
                                 "--target /root/restored")
    assert restored.ok, restored.stderr[-2000:]
    sums = "find . -type f -exec sha256sum {} + | sort"
    here = run_on(lab, f"cd {BACKUPS}/{first_backup} && {sums}")
    there = sh(lab, RESTORER, f"cd /root/restored{BACKUPS}/{first_backup} && {sums}").stdout
    assert there == here and "postgres-shop.dump" in there
    # the key opens SFTP and nothing else
    shell = sh(lab, RESTORER, f"{ssh} {target} id; echo rc=$?")
    assert "uid=" not in shell.stdout
    owner = run_on_host(lab, TARGET, "stat -c %U /srv/restic/repo/config").strip()
    assert owner == "restic"


def test_a_corrupted_dump_fails_verify_loudly(lab, inventory, first_backup):
    dump = f"{BACKUPS}/{first_backup}/postgres-shop.dump"
    run_on(lab, f"cp {dump} /root/shop.dump.good && size=$(stat -c %s {dump}) && "
                f"dd if=/dev/urandom of={dump} bs=1 seek=$((size / 2)) count=4096 conv=notrunc status=none")
    try:
        broken = invoke("backups.verify", "-i", inventory)
        assert broken.returncode == 1, broken.stdout[-3000:]
        assert "verify postgres shop" in broken.stdout and "restore test FAILED" in broken.stdout
        assert metric(lab, "vpskit_backup_restore_test_success", "vpskit_backup_verify.prom") == "0"
        assert "restore test FAILED" in sh(lab, HOST, "journalctl -t vpskit-backup --no-pager -o cat").stdout
    finally:
        run_on(lab, f"mv /root/shop.dump.good {dump}")


def test_retention_prunes_the_eighth_day_and_nothing_foreign(lab, first_backup):
    dated = [f"2020010{d}T020000Z" for d in range(1, 8)]  # 7 older days; with today's run, 8 days
    run_on(lab, " && ".join(f"cp -a {BACKUPS}/{first_backup} {BACKUPS}/{name}" for name in dated)
           + f" && echo mine > {BACKUPS}/notes.txt && mkdir -p {BACKUPS}/20191231T000000Z-manual")
    done = sh(lab, HOST, AS_CRON)
    assert done.ok, done.stderr[-2000:]
    kept = runs(lab)
    assert kept[:6] == dated[1:] and len(kept) == 7 and kept[-1] > first_backup  # today: only its newest run
    assert sh(lab, HOST, f"cat {BACKUPS}/notes.txt && test -d {BACKUPS}/20191231T000000Z-manual").stdout == "mine\n"


def test_a_second_run_leaves_the_one_holding_the_lock_alone(lab):
    holder = run_on(lab, "nohup flock -o /run/vpskit-backup.lock sleep 60 >/dev/null 2>&1 & echo $!").strip()
    try:
        time.sleep(1)
        before = (runs(lab), sh(lab, HOST, f"stat -c %Y {METRICS}/vpskit_backup.prom").stdout)
        second = sh(lab, HOST, "/usr/local/sbin/vpskit-backup run")
        assert second.rc == 75 and "not starting" in second.stderr
        assert (runs(lab), sh(lab, HOST, f"stat -c %Y {METRICS}/vpskit_backup.prom").stdout) == before
        assert sh(lab, HOST, f"kill -0 {holder}").ok  # the first is still running, untouched
    finally:
        sh(lab, HOST, f"pkill -P {holder}; kill {holder}")


def test_cron_fires_the_backup_itself(lab, offsite, tmp_path):
    minute, hour, second = (int(x) for x in sh(lab, HOST, "date +'%M %H %S'").stdout.split())
    at = hour * 60 + minute + (2 if second > 45 else 1)
    folder = tmp_path / "cron"
    folder.mkdir()
    path = write_inventory(lab, folder, offsite, backups_schedule=f"{at % 60} {at // 60 % 24} * * *")
    converged = invoke("backups", "-i", path, "--quiet")
    assert converged.returncode == 0, converged.stdout[-3000:]
    before = runs(lab)
    assert wait_for(lambda: runs(lab)[-1] not in before, timeout=150, interval=5), "cron did not run the backup"
    assert "vpskit-backup run" in sh(lab, HOST, "journalctl -u cron --no-pager -o cat | tail -n 20").stdout


@pytest.fixture(scope="module")
def spare(lab, first_backup, offsite, tmp_path_factory):
    """Lab host 20, fresh, in group dr_spares: the drill's new host. Its inventory is the production one plus it."""
    lab.up(SPARE_INDEX, "bookworm", first=SPARE_INDEX)
    return write_inventory(lab, tmp_path_factory.mktemp("drill"), offsite, spare=SPARE)


def drill(inventory: str, folder, *extra: str):
    report = folder / "drill.json"
    run = invoke("dr.drill", "-i", inventory, "--host", HOST, "--onto", SPARE, "--roles", "backups", "--json",
                 str(report), "--markdown", str(folder / "drill.md"), *extra)
    assert not [x for x in SECRETS if x in run.stdout + run.stderr + report.read_text()]
    return run, json.loads(report.read_text())


def test_the_drill_rebuilds_the_host_on_a_spare_from_the_offsite_copy_alone(lab, spare, tmp_path):
    newest = runs(lab)[-1]
    before = time.time()
    run, report = drill(spare, tmp_path)
    during = (before, time.time())
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert report["passed"] and report["snapshot"]["run"] == newest, report
    names = [p["name"] for p in report["phases"]]  # a database per dump (earlier tests add shop_restored)
    assert names[:4] == ["bootstrap", "prepare", "fetch", "postgres globals"] and names[-2:] == ["files", "k3s"]
    assert {"postgres postgres", "postgres shop"} <= set(names) and all(p["ok"] for p in report["phases"])
    assert 0 < report["rpo"] < 3600 and report["rto"] > 0 and "drill passed" in run.stdout
    # what came back equals the production host's: rows, files, datastore, token
    rows = "runuser -u postgres -- psql -X -A -t -d shop -c 'select count(*) from items' -c 'select count(*) from orders'"
    assert sh(lab, SPARE, rows).stdout.split() == ["1500", "420"]
    sums = "cd /srv/data && find . -type f -exec sha256sum {} + | sort"
    assert sh(lab, SPARE, sums).stdout == run_on(lab, sums)
    token = "sha256sum < /var/lib/rancher/k3s/server/token"
    assert sh(lab, SPARE, token).stdout == run_on(lab, token)
    kine = "sqlite3 {} 'pragma integrity_check' 'select count(*) from kine'"
    assert sh(lab, SPARE, kine.format("/var/lib/rancher/k3s/server/db/state.db")).stdout == \
        run_on(lab, kine.format(f"{BACKUPS}/{newest}/k3s-state.db"))
    assert sh(lab, SPARE, "stat -c '%a %U' / /srv").stdout.split() == ["755", "root", "755", "root"]
    # nothing was read from the production host: it saw no login while the drill ran
    journal = run_on(lab, f"journalctl --since @{int(during[0]) + 1} --until @{int(during[1])} --no-pager -o cat")
    assert "Accepted publickey" not in journal
    # the new host neither backs up into the production repository nor pings its heartbeat
    assert not sh(lab, SPARE, "ls /etc/cron.d/vpskit-backup*").ok
    hand_in = (tmp_path / "drill.md").read_text()
    assert "vpskit-backup offsite-fetch" in hand_in and "### k3s" in hand_in
    assert "openssl enc -d" in hand_in and "## What was restored" in hand_in
    assert json.loads((Path(spare).parent / "dr-drills" / f"{HOST}.json").read_text())["passed"] is True


def test_a_drill_missing_its_rpo_target_fails_with_both_figures(lab, spare, tmp_path):
    fresh_again = ("for db in $(runuser -u postgres -- psql -Atc \"select datname from pg_database where not "
                   "datistemplate and datname <> 'postgres'\"); do runuser -u postgres -- dropdb \"$db\"; done; "
                   "rm -rf /srv/data")
    assert sh(lab, SPARE, fresh_again).ok  # the databases and files of the first drill gone, as on a fresh spare
    run, report = drill(spare, tmp_path, "--set", "dr_rpo=1s")
    assert run.returncode == 1, run.stdout[-3000:]
    assert all(p["ok"] for p in report["phases"]) and not report["passed"]
    [missed] = report["failures"]
    assert missed.startswith("RPO missed: the newest off-site snapshot is ") and "the target (dr_rpo) is 1s" in missed
    assert "drill FAILED" in run.stdout


def test_a_drill_without_an_offsite_snapshot_of_the_host_fails_at_the_fetch(lab, spare, tmp_path):
    run, report = drill(spare, tmp_path, "--set", "dr_snapshot_host=gone")
    assert run.returncode == 1, run.stdout[-3000:]
    assert report["phases"][-1]["name"] == "fetch" and not report["phases"][-1]["ok"]
    assert f"no off-site snapshot of host 'gone'" in report["failures"][0] and HOST in report["failures"][0]


def test_the_drill_refuses_the_production_host_as_its_target(spare):
    run = invoke("dr.drill", "-i", spare, "--host", HOST, "--onto", HOST)
    assert run.returncode == 1 and "that is the production host" in run.stderr + run.stdout


def test_offsite_copies_over_restics_rest_protocol_to_rclone(lab, offsite, first_backup, tmp_path):
    """A real REST server that Debian ships (rclone's `serve restic`) on host 12, with a login."""
    address = lab.load_state().hosts[TARGET].address
    apt = "timeout 300 apt-get -o Acquire::Retries=3 -o Acquire::http::Timeout=30"
    run_on_host(lab, TARGET, f"{apt} update -qq && DEBIAN_FRONTEND=noninteractive {apt} install -y -qq rclone >/dev/null")
    # a transient unit: a background process would hold the SSH channel open (and the test with it)
    run_on_host(lab, TARGET, "systemctl stop vpskit-test-rclone 2>/dev/null; rm -rf /srv/rest && systemd-run -q "
                             f"--unit vpskit-test-rclone rclone serve restic --addr {address}:8000 --user vps "
                             f"--pass {REST_PASSWORD} /srv/rest")
    try:
        assert wait_for(lambda: sh(lab, TARGET, f"ss -ltn | grep -q {address}:8000").ok, 30)
        os.environ["VPSKIT_TEST_REST_PASSWORD"] = REST_PASSWORD
        path = write_inventory(lab, tmp_path, offsite, backups_restic_repository=f"rest:http://{address}:8000/vps1/",
                               backups_restic_rest_user="vps")
        text = Path(path).read_text().replace("  children:", "    backups_restic_rest_password: !env "
                                              "VPSKIT_TEST_REST_PASSWORD\n  children:", 1)
        Path(path).write_text(text)
        converged = invoke("backups", "-i", path, "--quiet")
        assert converged.returncode == 0, converged.stdout[-3000:] + converged.stderr[-1500:]
        assert REST_PASSWORD not in converged.stdout + run_on(lab, "cat /etc/vpskit-backup/config")
        assert run_on(lab, "stat -c %a /etc/vpskit-backup/restic-repository").strip() == "600"
        done = sh(lab, HOST, AS_CRON)
        assert done.ok, done.stdout[-2000:] + done.stderr[-2000:]
        verified = invoke("backups.verify", "-i", path)
        assert verified.returncode == 0, verified.stdout[-3000:]
        assert "verify offsite: the newest snapshot restored and equal to" in verified.stdout
        assert REST_PASSWORD not in verified.stdout + sh(lab, HOST, "journalctl -t vpskit-backup -o cat").stdout
        assert run_on_host(lab, TARGET, "ls /srv/rest/vps1").split() >= ["config", "data", "index", "keys"]
    finally:
        sh(lab, TARGET, "systemctl stop vpskit-test-rclone")
        assert invoke("backups", "-i", write_inventory(lab, tmp_path, offsite), "--quiet").returncode == 0


@pytest.fixture(scope="module")
def trixie_postgres(lab, fresh):
    """Lab host 15 on Debian 13 with PostgreSQL (its own major version) and the same seeded `shop`."""
    lab.up(TRIXIE_INDEX, "trixie", first=TRIXIE_INDEX)
    apt = "timeout 300 apt-get -o Acquire::Retries=3 -o Acquire::http::Timeout=30"
    install = f"{apt} update -qq && DEBIAN_FRONTEND=noninteractive {apt} install -y -qq postgresql >/dev/null"
    for _attempt in range(3):
        done = sh(lab, TRIXIE, install)
        if done.ok:
            break
    assert done.ok, done.stderr[-1500:]
    assert wait_for(lambda: sh(lab, TRIXIE, "runuser -u postgres -- psql -Atc 'select 1'").ok, 60)
    run_on_host(lab, TRIXIE, "runuser -u postgres -- dropdb --if-exists shop && runuser -u postgres -- createdb shop")
    seeded = sh(lab, TRIXIE, f"runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d shop <<'SQL'\n{SEED}\nSQL")
    assert seeded.ok, seeded.stderr
    return TRIXIE


def test_postgres_on_debian_13_dumps_and_restores_with_equal_counts(lab, trixie_postgres, tmp_path):
    address = lab.load_state().hosts[TRIXIE].address
    path = tmp_path / "hosts.yml"
    path.write_text("\n".join([
        "all:", "  vars:", "    vpskit_user: root", f"    vpskit_ssh_key: {lab.key_path}",
        f"    vpskit_known_hosts: {lab.known_hosts_path}", "    backups_postgres: true",
        '    backups_postgres_databases: ["shop"]', "  children:", "    backups:", "      hosts:",
        f"        {TRIXIE}:", f"          vpskit_host: {address}"]) + "\n")
    converged = invoke("backups", "-i", str(path), "--quiet")
    assert converged.returncode == 0, converged.stdout[-3000:] + converged.stderr[-1500:]
    run_on_host(lab, TRIXIE, AS_CRON)
    verified = invoke("backups.verify", "-i", str(path))
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-1500:]
    assert "3 tables with the recorded row counts" in verified.stdout, verified.stdout[-2000:]
