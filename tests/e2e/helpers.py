"""Running resources and commands on lab hosts from tests, through vpskit's own runner."""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys
import time

import paramiko

from vpskit.connection import CommandResult, Connection, Target
from vpskit.inventory.model import Host, Var
from vpskit.report import Reporter
from vpskit.results import HostResult
from tests.e2e.paths import PROJECT_ROOT
from vpskit.role import Role, RolePlan
from vpskit.runner import RunOptions, run_roles


class FixedPlan:
    """A role module whose plan is the resources given by the test."""

    def __init__(self, plan: RolePlan):
        self._plan = plan

    def plan(self, ctx) -> RolePlan:
        return self._plan


def PlanRole(name: str, resources, handlers=()) -> Role:
    """A role made of resources given by the test."""
    return Role(name, FixedPlan(RolePlan(name, list(resources), list(handlers))), {})


def lab_host(lab, name: str, **extra) -> Host:
    state = lab.load_state()
    address = state.hosts[name].address
    values = {"vpskit_host": address, "vpskit_user": "root", "vpskit_ssh_key": str(lab.key_path),
              "vpskit_known_hosts": str(lab.known_hosts_path), **extra}
    return Host(name, ["lab"], {k: Var(v, "test") for k, v in values.items()})


def apply(hosts: list[Host], resources, check: bool = False, handlers=(), forks: int = 10) -> list[HostResult]:
    stream = io.StringIO()
    return run_roles(hosts, [PlanRole("test", resources, handlers)], RunOptions(check=check, forks=forks),
                     Reporter(stream=stream))


def apply_one(host: Host, resources, check: bool = False, handlers=()) -> HostResult:
    return apply([host], resources, check, handlers)[0]


def lab_target(lab, name: str, user: str = "root", port: int = 22) -> Target:
    address = lab.load_state().hosts[name].address
    return Target(name, address, port=port, user=user, key_file=str(lab.key_path),
                  known_hosts=[str(lab.known_hosts_path)], connect_retries=3)


def sh(lab, name: str, command: str, user: str = "root") -> CommandResult:
    """Runs a command on a lab host as root, logging in as `user` (test plumbing, not the run under test)."""
    with Connection(lab_target(lab, name, user)) as conn:
        return conn.run(command)


# a fingerprint of what an operator would call "the host's state", to prove check mode touches nothing
STATE_DUMP = (
    "find /etc /root /home /usr/local /var/spool/cron /var/lib/vpskit /var/backups/vpskit -xdev "
    "\\( -type f -o -type l -o -type d \\) -printf '%p %U %G %m %y %s\\n' 2>/dev/null | sort; "
    "find /etc /root /home /usr/local -xdev -type f -exec sha256sum {} + 2>/dev/null | sort; "
    "sha256sum /var/lib/dpkg/status; systemctl list-unit-files --no-legend --plain | sort; "
    "systemctl list-units --no-legend --plain --state=active | awk '{print $1}' | sort; sysctl -a --pattern '^net[.]ipv4[.](conf[.](all|default)|tcp_syncookies)' 2>/dev/null | sort"
)


def summary(result: HostResult) -> dict:
    return {s: result.count(s) for s in ("ok", "changed", "failed", "skipped")}


def invoke(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)


def lynis_index(lab, name: str, user: str) -> int:
    out = sh(lab, name, "lynis audit system --quick --no-colors 2>/dev/null | grep -i 'hardening index'", user).stdout
    return int(re.search(r"index\s*:\s*(\d+)", out).group(1))


def password_login(address: str, user: str, password: str) -> str:
    """A real password attempt: 'accepted', 'refused' (wrong password) or 'not offered' (keys only)."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # probing only; nothing is run
    try:
        client.connect(address, username=user, password=password, look_for_keys=False, allow_agent=False,
                       timeout=10, banner_timeout=10, auth_timeout=10)
        return "accepted"
    except paramiko.BadAuthenticationType:
        return "not offered"
    except paramiko.AuthenticationException:
        return "refused"
    finally:
        client.close()


def wait_for(predicate, timeout: float, interval: float = 1) -> bool:
    """Polls `predicate` until it is true or `timeout` seconds have passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def tcp_open(address: str, port: int, source: str | None = None, timeout: float = 3) -> bool:
    try:
        sock = socket.create_connection((address, port), timeout=timeout,
                                        source_address=(source, 0) if source else None)
        sock.close()
        return True
    except OSError:
        return False


def failed_login(target: str, source: str) -> None:
    """One SSH connection from `source` that offers a wrong user and password."""
    sock = socket.create_connection((target, 22), timeout=5, source_address=(source, 0))
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=5)
        transport.auth_password("intruder", "wrong-password")
    except (paramiko.SSHException, EOFError, OSError):
        pass
    finally:
        transport.close()


def burst_until_banned(target: str, source: str, banned, attempts: int = 12) -> bool:
    """Failed logins from `source`, one a second, until `banned()` says so; bounded by `attempts`."""
    for _ in range(attempts):
        try:
            failed_login(target, source)
        except OSError:
            pass
        if banned():
            return True
        time.sleep(1)
    return False


# sshd's lines for a login that did not authenticate (OpenSSH 9.2 to 10: sshd, sshd-session, sshd-auth)
FAILED_AUTH = re.compile(r"Invalid user |Failed \w+ for |(?:invalid|authenticating) user |ROOT LOGIN REFUSED|"
                         r"not allowed because|maximum authentication attempts|Authentication refused")
FAILED_CONNECTION = re.compile(r"(?:Connection closed by|Disconnected from) (?:invalid|authenticating) user ")


def journal_mark() -> int:
    """A whole second after every line logged so far: the start of a `sshd_logins` window."""
    mark = int(time.time()) + 1
    time.sleep(mark - time.time() + 0.05)
    return mark


def sshd_logins(lab, name: str, since: int, user: str = "root") -> dict:
    """sshd's journal on a lab host since `since`, counted as the bench does: accepted logins, failed ones.

    The query's own login is left out by its source port, so the counts are the run's alone."""
    with Connection(lab_target(lab, name, user)) as conn:
        conn.open()
        own = conn.transport.sock.getsockname()[1]
        text = conn.run(f"journalctl --since @{since} --no-pager -o cat -t sshd -t sshd-session -t sshd-auth").stdout
    lines = [line for line in text.splitlines() if not re.search(rf" port {own}\b", line)]
    return {"accepted": sum("Accepted publickey for " in line for line in lines),
            "failed": sum(bool(FAILED_AUTH.search(line)) for line in lines),
            "failed_connections": sum(bool(FAILED_CONNECTION.search(line)) for line in lines),
            "lines": [line for line in lines if "Accepted" in line or FAILED_AUTH.search(line)]}
