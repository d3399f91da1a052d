"""Fact parsers against output captured from a real Debian 12 lab host."""

import hashlib
from pathlib import Path

import pytest

from vpskit.facts import (AptCacheAgeFact, AuthorizedKeysFact, FileFact, GroupFact, HostInfoFact, PackagesFact,
                          ServiceFact, SysctlFact, UserFact)

CAPTURED = Path(__file__).parent / "captured"


def captured(name: str) -> tuple[str, int]:
    text = (CAPTURED / f"{name}.txt").read_text()
    first, _, rest = text.partition("\n")
    return rest, int(first.split("=")[1])


def parse(fact, name):
    output, rc = captured(name)
    return fact.parse(output, rc)


def test_host_info():
    info = parse(HostInfoFact(), "hostinfo_bookworm")
    assert info["id"] == "debian" and info["codename"] == "bookworm"
    assert info["openssh_version"] == [9, 2]
    assert info["container"] is True


def test_regular_file_has_content_and_checksum_computed_here():
    state = parse(FileFact("/etc/ssh/sshd_config"), "file_sshd_config")
    assert (state.kind, state.owner, state.group, state.mode) == ("file", "root", "root", "0644")
    assert hashlib.sha256(state.content).hexdigest() == state.sha256
    assert b"Include /etc/ssh/sshd_config.d/*.conf" in state.content


def test_large_file_has_only_its_checksum():
    state = FileFact("/var/big").parse("file root adm 640 9999999\n" + "ab" * 32 + "  -\n\n", 0)
    assert (state.size, state.sha256, state.content) == (9999999, "ab" * 32, None)


@pytest.mark.parametrize("name,kind", [("file_directory", "directory"), ("file_absent", "absent"),
                                       ("file_symlink", "link")])
def test_other_path_kinds(name, kind):
    assert parse(FileFact("/x"), name).kind == kind


def test_packages_only_lists_installed():
    installed = parse(PackagesFact("openssh-server", "curl", "not-a-package"), "packages")
    assert set(installed) == {"openssh-server", "curl"}


def test_service_states():
    assert parse(ServiceFact("ssh"), "service_ssh")["ActiveState"] == "active"
    assert parse(ServiceFact("nope"), "service_missing")["LoadState"] == "not-found"
    assert parse(ServiceFact("systemd-timesyncd"), "service_timesyncd")["ConditionResult"] == "no"


def test_users_and_groups():
    assert parse(UserFact("root"), "user_root")["home"] == "/root"
    assert parse(UserFact("x"), "user_missing") is None
    assert parse(GroupFact("sudo"), "group_sudo")["gid"] == 27
    keys = parse(AuthorizedKeysFact("root"), "authorized_keys_root")
    assert keys["content"].startswith("ssh-ed25519 ")


def test_sysctl_marks_container_readonly_keys():
    values = parse(SysctlFact("net.ipv4.tcp_syncookies", "kernel.kptr_restrict", "net.ipv4.conf.all.rp_filter",
                              "kernel.nope", "net.ipv4.ip_local_port_range"), "sysctl_container")
    assert values["kernel.kptr_restrict"]["access"] == "ro"
    assert values["net.ipv4.conf.all.rp_filter"]["access"] == "rw"
    assert values["kernel.nope"]["access"] == "missing"
    assert values["net.ipv4.ip_local_port_range"]["value"] == "32768 60999"


def test_apt_cache_age():
    assert parse(AptCacheAgeFact(), "apt_cache_age") == 1795316720 - 1795316414
    assert AptCacheAgeFact().parse("1700000000\n", 0) == 10**9  # never refreshed
