"""`invoke reboot` on three fresh lab hosts (17-19), which the lab boots again when they reboot themselves
(vpskit/lab/supervisor.py): marked reboot-required, rebooted one at a time (--serial 1), each back and logged
into before the next goes down; check mode and a closed maintenance window reboot nothing."""

from __future__ import annotations

import datetime
import json

import pytest

from tests.e2e.conftest import LAB_NAME
from tests.e2e.helpers import invoke, sh

HOSTS = [f"{LAB_NAME}{i}" for i in (17, 18, 19)]
MARK = ("echo '*** System restart required ***' > /var/run/reboot-required && "
        "printf 'libc6\\nlinux-image-amd64\\n' > /var/run/reboot-required.pkgs")
BOOT_ID = "cat /proc/sys/kernel/random/boot_id"


@pytest.fixture(scope="module")
def hosts(lab, tmp_path_factory):
    lab.up(19, "bookworm", first=17)
    state = lab.load_state()
    lines = ["all:", "  vars:", "    vpskit_user: root", f"    vpskit_ssh_key: {lab.key_path}",
             f"    vpskit_known_hosts: {lab.known_hosts_path}", "  hosts:"]
    lines += [f"    {n}:\n      vpskit_host: {state.hosts[n].address}" for n in HOSTS]
    path = tmp_path_factory.mktemp("reboot") / "hosts.yml"
    path.write_text("\n".join(lines) + "\n")
    for name in HOSTS:
        assert sh(lab, name, MARK).ok
    return str(path)


def boot_ids(lab) -> dict[str, str]:
    return {n: sh(lab, n, BOOT_ID).stdout.strip() for n in HOSTS}


def first_login_after(lab, name: str, since: float) -> float:
    """When sshd on NAME first accepted a key after `since` (UTC seconds), from its journal."""
    out = sh(lab, name, f"journalctl -o json --since @{int(since)} -t sshd -t sshd-session "
                        "| grep -F 'Accepted publickey' | head -1").stdout
    return int(json.loads(out)["__REALTIME_TIMESTAMP"]) / 1e6


def test_check_mode_and_a_closed_window_reboot_nothing(lab, hosts):
    before = boot_ids(lab)
    checked = invoke("reboot", "-i", hosts, "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for name in HOSTS:
        assert f"{name}: would reboot: /var/run/reboot-required since " in checked.stdout
        assert "asked by libc6, linux-image-amd64" in checked.stdout
    closed = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)
    window = json.dumps({"days": [closed.strftime("%a").lower()], "hours": "00:00-23:59"})
    outside = invoke("reboot", "-i", hosts, "--if-needed", "--set", f"maintenance_window={window}")
    assert outside.returncode == 0, outside.stdout + outside.stderr
    assert all(f"{n}: outside the maintenance window" in outside.stdout for n in HOSTS), outside.stdout
    assert boot_ids(lab) == before
    assert all(len(lab.boots(n)) == 1 for n in HOSTS)


def test_hosts_reboot_one_at_a_time_each_logged_into_before_the_next(lab, hosts):
    before = boot_ids(lab)
    run = invoke("reboot", "-i", hosts, "--serial", "1")
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    after = boot_ids(lab)
    assert all(after[n] != before[n] for n in HOSTS)
    booted = [lab.boots(n)[-1] for n in HOSTS]  # when the lab booted each again
    assert booted == sorted(booted)
    for previous, following in zip(HOSTS, HOSTS[1:]):
        back = first_login_after(lab, previous, lab.boots(previous)[-1])
        # the next host went down (and so was booted again) only after the previous one was logged into
        assert back < lab.boots(following)[-1], (previous, back, following, lab.boots(following)[-1])
    again = invoke("reboot", "-i", hosts)
    assert again.returncode == 0 and all(f"{n}: no reboot needed" in again.stdout for n in HOSTS), again.stdout
