"""`invoke reboot`'s pure parts: the reboot fact's parser, the maintenance window, the order of batches, and one
host's reboot against scripted connections (down, then up on a new boot), with a drainer around it; no clock."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from vpskit.builtin_roles.k3s.reboots import reboot_drains
from vpskit.connection import CommandResult
from vpskit.errors import ConnectError, VpskitError
from vpskit.facts.reboot import RebootState, kernel_key, parse_reboot
from vpskit.maintenance.reboot import REBOOT, batches, drainers, reboot_host
from vpskit.role import Role
from vpskit.roleloader import RoleLibrary
from vpskit.maintenance.window import parse_window
from tests.unit.planctx import cluster

UTC = datetime.timezone.utc
OUTPUT = """required 1764547200
pkg linux-image-6.1.0-28-amd64
pkg libc6
pkg libc6
running 6.1.0-26-amd64
installed 6.1.0-26-amd64
installed 6.1.0-28-amd64
installed 6.1.0-9-amd64
boot_id 5b3c
booted 1764500000
now 1764806400
k3s agent
"""


def test_the_reboot_fact_names_the_file_the_packages_and_a_newer_kernel():
    state = parse_reboot(OUTPUT)
    assert state.needed and state.boot_id == "5b3c"  # the k3s line of older versions is ignored
    assert state.packages == ("linux-image-6.1.0-28-amd64", "libc6")
    assert state.newest_kernel == "6.1.0-28-amd64" and state.kernel_behind
    assert state.reasons() == ["/var/run/reboot-required since 2025-12-01 00:00 UTC, asked by "
                               "linux-image-6.1.0-28-amd64, libc6", "kernel 6.1.0-28-amd64 installed, 6.1.0-26-amd64 running"]
    assert state.required_days() == 3.0
    assert kernel_key("6.1.0-28-amd64") > kernel_key("6.1.0-9-amd64")


def test_no_file_and_the_newest_kernel_running_needs_nothing():
    state = parse_reboot("running 6.1.0-28-amd64\ninstalled 6.1.0-28-amd64\nboot_id x\nnow 1\n")
    assert not state.needed and state.reasons() == [] and state.required_days() is None
    assert not parse_reboot("running 6.12.1\nboot_id x\n").needed  # a container: no /boot kernels


def at(day: str, hhmm: str, zone="UTC") -> datetime.datetime:
    from zoneinfo import ZoneInfo
    dates = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}  # 2026-06-01 is a Monday
    hour, minute = map(int, hhmm.split(":"))
    return datetime.datetime(2026, 6, dates[day], hour, minute, tzinfo=ZoneInfo(zone))


def test_the_maintenance_window_by_days_hours_and_zone():
    window = parse_window({"days": ["sat", "sun"], "hours": "02:00-05:00"})
    assert window.contains(at("sat", "02:00")) and window.contains(at("sun", "04:59"))
    assert not window.contains(at("sat", "05:00")) and not window.contains(at("fri", "03:00"))
    night = parse_window({"days": ["mon-fri"], "hours": "22:00-02:00", "timezone": "Europe/Paris"})
    assert night.contains(at("fri", "23:30", "Europe/Paris")) and night.contains(at("sat", "01:30", "Europe/Paris"))
    assert not night.contains(at("sun", "01:30", "Europe/Paris"))  # Saturday night is not in mon-fri
    assert night.contains(at("fri", "23:30"))  # 01:30 Saturday in Paris: the night that began on Friday
    assert night.contains(at("fri", "20:30")) and not night.contains(at("fri", "19:30"))  # 22:30, 21:30 in Paris
    assert parse_window(None) is None
    assert parse_window({"hours": "01:00-02:00"}).days == frozenset(range(7))


@pytest.mark.parametrize("value, problem", [
    ("sat 02:00", "give {days"), ({"days": ["someday"], "hours": "02:00-03:00"}, "is not a day"),
    ({"hours": "2-3"}, "HH:MM-HH:MM"), ({"hours": "02:00-02:00"}, "empty"),
    ({"hours": "02:00-03:00", "timezone": "Mars/Base"}, "not a time zone"),
    ({"hours": "02:00-03:00", "weeks": 1}, "give {days")])
def test_a_malformed_window_says_why(value, problem):
    with pytest.raises(VpskitError, match=problem):
        parse_window(value)


def test_cluster_nodes_go_one_at_a_time_and_the_others_together_or_in_serial_batches():
    hosts = ["s1", "web1", "a1", "web2", "web3"]
    assert batches(hosts, {"s1", "a1"}, None) == [["s1"], ["a1"], ["web1", "web2", "web3"]]
    assert batches(hosts, {"s1", "a1"}, 2) == [["s1"], ["a1"], ["web1", "web2"], ["web3"]]
    assert batches(["web1"], set(), 1) == [["web1"]]
    assert batches([], set(), None) == []


class Host:
    """A host that reboots: answers on its old boot, drops connections while down, then answers on a new one."""

    def __init__(self, down_for=2):
        self.boot, self.asked, self.down_for, self.log = "old", False, down_for, []

    def connect(self):
        if self.asked and self.down_for > 0:
            self.down_for -= 1
            raise ConnectError("connection refused")
        if self.asked:
            self.boot = "new"
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def run(self, command):
        self.log.append(command)
        if command == REBOOT:
            self.asked = True
        return CommandResult(0, f"boot_id {self.boot}\nbooted 1796300000\n", "")


class Drainer:
    def __init__(self, log):
        self.log = log

    def drain(self):
        self.log.append("drain")
        return "drained"

    def restore(self, drained):
        self.log.append(f"restore {drained}")
        return "uncordoned"


def test_a_reboot_drains_asks_waits_for_a_fresh_login_on_a_new_boot_then_restores():
    host = Host()
    order = host.log
    done = reboot_host("web1", host.connect, RebootState(boot_id="old"), 600, Drainer(order),
                       sleep=lambda _s: None, clock=iter(range(1000)).__next__, wall=lambda: 42.0)
    assert done.old_boot == "old" and done.new_boot == "new" and done.back == 42.0 and done.said == ["uncordoned"]
    assert order[0] == "drain" and order[1] == REBOOT and order[-1] == "restore drained"
    assert any("is-system-running" in c for c in order)


def test_a_host_that_never_comes_back_or_never_reboots_fails_naming_the_timeout():
    never = Host(down_for=10_000)
    clock = iter(range(0, 100_000, 50)).__next__
    with pytest.raises(VpskitError, match=r"web1: reboot: no fresh login within 600s \(maintenance_reboot_timeout\)"):
        reboot_host("web1", never.connect, RebootState(boot_id="old"), 600, sleep=lambda _s: None, clock=clock)
    stuck = Host()
    stuck.connect = lambda: stuck  # answers, always on the old boot
    with pytest.raises(VpskitError, match="still on the same boot after 600s"):
        reboot_host("web1", stuck.connect, RebootState(boot_id="old"), 600, sleep=lambda _s: None,
                    clock=iter(range(0, 100_000, 50)).__next__)


def test_cluster_nodes_are_drained_through_another_server():
    inventory = cluster({"k3s_drain": True}, ["s1", "s2", "s3"], ["a1"])
    drains = reboot_drains(inventory, lambda host: host)
    assert set(drains) == {"s1", "s2", "s3", "a1"}
    assert drains["s1"].via.name == "s2" and drains["a1"].via.name == "s1"
    assert drains["s1"].voter and not drains["a1"].voter
    single = reboot_drains(cluster({}, ["s1"]), lambda host: host)
    assert single["s1"].skip == "single-node cluster: not drained" and single["s1"].drain() is None
    assert reboot_drains(cluster({}, ["s1"], []), lambda h: h)["s1"].restore(None) == "single-node cluster: not drained"


def test_the_drainers_come_from_the_roles_that_declare_them():
    """`invoke reboot` asks every role of the library: the k3s role drains its cluster nodes, and a role of
    one's own may drain a host of its own (here a database primary); a role without the hook drains nothing."""
    inventory = cluster({"k3s_drain": True}, ["s1", "s2", "s3"], ["a1"])
    primary = Drainer([])
    database = Role("database", SimpleNamespace(plan=None, reboot_drains=lambda inv, session: {"db1": primary}), {})
    found = drainers([*RoleLibrary().all(), database], inventory, lambda host: host)
    assert set(found) == {"s1", "s2", "s3", "a1", "db1"} and found["db1"] is primary
    assert found["a1"].via.name == "s1"  # the k3s role's drainer, found through the library
    assert batches(["web1", "db1", "a1", "web2"], set(found), None) == [["db1"], ["a1"], ["web1", "web2"]]
    assert drainers([Role("plain", SimpleNamespace(plan=None), {})], inventory, lambda h: h) == {}


def test_a_host_two_roles_would_drain_is_refused_naming_both():
    one = Role("one", SimpleNamespace(plan=None, reboot_drains=lambda inv, session: {"h1": Drainer([])}), {})
    two = Role("two", SimpleNamespace(plan=None, reboot_drains=lambda inv, session: {"h1": Drainer([])}), {})
    with pytest.raises(VpskitError, match="h1: both the one and the two role drain it before a reboot"):
        drainers([one, two], cluster({}, ["s1"]), lambda h: h)
