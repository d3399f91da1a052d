"""Every resource applied twice on a real lab host: the first run changes, the second changes nothing."""

from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial

import pytest

from vpskit.resources import (AuthorizedKeys, Block, Command, CronJob, Directory, Download, File, Group, Handler,
                              Line, Packages, Service, Sysctl, User)
from tests.e2e.conftest import H1
from tests.e2e.helpers import apply_one, lab_host, sh, summary

HOST = H1
UNIT = """[Unit]
Description=vpskit e2e service

[Service]
ExecStartPre=/bin/sh -c 'echo started >> /var/log/vpskit-e2e-starts'
ExecStart=/bin/sleep infinity

[Install]
WantedBy=multi-user.target
"""
PAYLOAD = b"#!/bin/sh\necho downloaded\n"


@pytest.fixture(scope="module")
def http_server(lab, tmp_path_factory):
    """Serves a file on the lab bridge address only, for the download resource."""
    root = tmp_path_factory.mktemp("www")
    (root / "tool.sh").write_bytes(PAYLOAD)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer((lab.gateway, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{lab.gateway}:{server.server_address[1]}"
    server.shutdown()


def every_resource(base_url: str, public_key: str) -> tuple[list, list]:
    resources = [
        Packages(["curl", "tree"]),
        Directory("/srv/e2e", mode="0750"),
        File("/srv/e2e/app.conf", content="listen = 8080\n", mode="0640", notify=["restart vpskit-e2e"]),
        File("/etc/sudoers.d/vpskit-e2e", content="Defaults:root !lecture\n", mode="0440", validate="visudo -cf %s"),
        File("/etc/systemd/system/vpskit-e2e.service", content=UNIT, notify=["restart vpskit-e2e"]),
        Service("vpskit-e2e.service", enabled=True, running=True),
        Line("/etc/e2e-line.conf", "answer=42", regexp=r"^answer="),
        Block("/etc/e2e-block.conf", "alpha\nbeta"),
        Group("e2egroup"),
        User("e2euser", groups=["e2egroup", "sudo"]),
        AuthorizedKeys("e2euser", [public_key]),
        Sysctl({"net.ipv4.tcp_syncookies": 1, "net.ipv4.conf.all.log_martians": 1,
                "net.ipv4.conf.all.accept_redirects": 0, "kernel.kptr_restrict": 2}),
        CronJob("e2e", "15 3 * * *", "/usr/local/bin/tool.sh >/dev/null"),
        Download(f"{base_url}/tool.sh", "/usr/local/bin/tool.sh", hashlib.sha256(PAYLOAD).hexdigest(), mode="0755"),
        Command("date > /root/e2e-once", creates="/root/e2e-once"),
        Command("echo tuned > /etc/e2e-tuned", unless="grep -qx tuned /etc/e2e-tuned"),
    ]
    resources += [File(f"/srv/e2e/extra{i}.txt", content=f"{i}\n") for i in range(6)]
    return resources, [Handler.restart("vpskit-e2e")]


@pytest.fixture(scope="module")
def plan(lab, http_server):
    public_key = (lab.key_path.parent / "id_ed25519.pub").read_text()
    return every_resource(http_server, public_key)


@pytest.fixture(scope="module")
def first_run(lab, plan):
    resources, handlers = plan
    return apply_one(lab_host(lab, HOST), resources, handlers=handlers)


def test_first_run_changes_every_resource(first_run, plan):
    assert first_run.error is None, first_run.error
    counts = summary(first_run)
    statuses = {s.title: s.status for s in first_run.steps}
    assert counts["failed"] == 0
    # all changed but the sysctl file (its kernel.* key is skipped, the rest changed) and the handler line
    assert all(status == "changed" for status in statuses.values()), [(t, s) for t, s in statuses.items() if s != "changed"]
    assert len(plan[0]) >= 20


def test_handler_ran_once_for_two_notifications(lab, first_run):
    handler_steps = [s for s in first_run.steps if s.title.startswith("handler")]
    assert [s.title for s in handler_steps] == ["handler restart vpskit-e2e"]
    assert sh(lab, HOST, "cat /var/log/vpskit-e2e-starts").stdout.count("started") == 2  # start + one restart


def test_second_run_changes_nothing_in_one_round_trip(lab, first_run, plan):
    resources, handlers = plan
    second = apply_one(lab_host(lab, HOST), resources, handlers=handlers)
    assert second.error is None
    assert summary(second)["changed"] == 0, [s for s in second.steps if s.status == "changed"]
    assert all(s.reason for s in second.steps)  # every ok says why
    assert (second.connections, second.commands, second.fact_batches) == (1, 1, 1)


def test_the_host_really_is_as_declared(lab, first_run):
    out = sh(lab, HOST, "stat -c '%a %U' /srv/e2e /srv/e2e/app.conf /etc/sudoers.d/vpskit-e2e; "
                        "systemctl is-active vpskit-e2e; systemctl is-enabled vpskit-e2e; id -nG e2euser; "
                        "sysctl -n net.ipv4.tcp_syncookies net.ipv4.conf.all.log_martians; "
                        "cat /etc/cron.d/vpskit-e2e; /usr/local/bin/tool.sh; cat /etc/e2e-line.conf; "
                        "stat -c '%a %U' /home/e2euser/.ssh /home/e2euser/.ssh/authorized_keys").stdout
    for expected in ("750 root", "640 root", "440 root", "active", "enabled", "e2egroup", "sudo",
                     "15 3 * * * root /usr/local/bin/tool.sh", "downloaded", "answer=42", "700 e2euser", "600 e2euser"):
        assert expected in out, (expected, out)


def test_sysctl_skips_kernel_keys_in_a_container(first_run):
    step = next(s for s in first_run.steps if s.title.startswith("sysctl"))
    assert "read-only /proc/sys" in step.reason and "kernel.kptr_restrict" in step.reason


TAMPERING = [
    ("edit a managed file", "echo 'listen = 9999' > /srv/e2e/app.conf", "file /srv/e2e/app.conf"),
    ("chmod a managed file", "chmod 0666 /srv/e2e/extra1.txt", "file /srv/e2e/extra1.txt"),
    ("stop the service", "systemctl stop vpskit-e2e", "service vpskit-e2e.service"),
    ("disable the service", "systemctl disable vpskit-e2e 2>/dev/null", "service vpskit-e2e.service"),
    ("leave a group", "gpasswd -d e2euser e2egroup >/dev/null", "user e2euser"),
    ("delete the key", "rm /home/e2euser/.ssh/authorized_keys", "authorized-keys e2euser"),
    ("change a sysctl", "sysctl -q -w net.ipv4.conf.all.log_martians=0", "sysctl /etc/sysctl.d/90-vpskit.conf"),
    ("delete the cron job", "rm /etc/cron.d/vpskit-e2e", "cron e2e"),
    ("corrupt the download", "echo x >> /usr/local/bin/tool.sh", "download /usr/local/bin/tool.sh"),
    ("remove a package", "DEBIAN_FRONTEND=noninteractive apt-get -qq purge tree >/dev/null", "packages curl, tree"),
    ("edit the managed block", "sed -i s/beta/gamma/ /etc/e2e-block.conf", "block /etc/e2e-block.conf"),
    ("undo a guarded command", "rm /etc/e2e-tuned", "command echo tuned > /etc/e2e-tuned"),
]


@pytest.mark.parametrize("what,tamper,title", TAMPERING, ids=[t[0] for t in TAMPERING])
def test_tampering_is_seen_by_check_and_restored_by_the_next_run(lab, first_run, plan, what, tamper, title):
    resources, handlers = plan
    host = lab_host(lab, HOST)
    sh(lab, HOST, tamper)
    checked = apply_one(host, resources, check=True, handlers=handlers)
    changed = [s.title for s in checked.steps if s.status == "changed"]
    assert title in changed, changed
    fixed = apply_one(host, resources, handlers=handlers)
    assert fixed.error is None and title in [s.title for s in fixed.steps if s.status == "changed"]
    again = apply_one(host, resources, handlers=handlers)
    assert summary(again)["changed"] == 0, [s for s in again.steps if s.status == "changed"]


def test_failed_validation_keeps_the_old_file(lab, first_run):
    host = lab_host(lab, HOST)
    before = sh(lab, HOST, "sha256sum /etc/sudoers.d/vpskit-e2e").stdout
    result = apply_one(host, [File("/etc/sudoers.d/vpskit-e2e", content="this is not sudoers syntax\n", mode="0440",
                                   validate="visudo -cf %s")])
    assert result.error and "validation failed" in result.error and "file /etc/sudoers.d/vpskit-e2e" in result.error
    assert sh(lab, HOST, "sha256sum /etc/sudoers.d/vpskit-e2e").stdout == before
    assert sh(lab, HOST, "ls -a /etc/sudoers.d | grep -c vpskit- || true").stdout.strip() == "1"  # no temp left


def test_replaced_file_is_backed_up(lab, first_run):
    out = sh(lab, HOST, "cat /var/backups/vpskit/srv/e2e/app.conf").stdout
    assert out.startswith("listen = ")
