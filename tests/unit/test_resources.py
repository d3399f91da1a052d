"""Resource checks on stub facts: what each decides to change, and the reason it gives when not."""

import pytest

from vpskit.facts import (AptCacheAgeFact, AuthorizedKeysFact, CommandFact, FileFact, FileState, PackagesFact,
                          ServiceFact, SysctlFact, UserFact)
from vpskit.resources import (AuthorizedKeys, Block, Command, CronJob, Directory, Download, File, Line, Packages,
                              Service, Sysctl, User)
from vpskit.resources.cron import validate_schedule
from vpskit.resources.apt import PackagesPlan
from vpskit.resources.files import FilePlan, edit_block, edit_line
from vpskit.resources.users import UserPlan
from tests.unit.factstub import StubFacts


def file_state(content: bytes, mode="0644", owner="root", group="root"):
    import hashlib
    return FileState("file", owner, group, mode, len(content), hashlib.sha256(content).hexdigest(), content)


def test_file_create_update_attrs_and_ok():
    res = File("/etc/motd", content="hello\n", mode="0640")
    absent = res.check(StubFacts([(FileFact("/etc/motd"), FileState("absent"))]))
    assert absent.changed and absent.reason == "create /etc/motd" and "+hello" in absent.diff
    other = res.check(StubFacts([(FileFact("/etc/motd"), file_state(b"bye\n", "0640"))]))
    assert other.changed and "-bye" in other.diff and "+hello" in other.diff
    mode = res.check(StubFacts([(FileFact("/etc/motd"), file_state(b"hello\n", "0644"))]))
    assert mode.changed and "mode 0644 → 0640" in mode.reason and mode.diff is None
    ok = res.check(StubFacts([(FileFact("/etc/motd"), file_state(b"hello\n", "0640"))]))
    assert not ok.changed and "declared content" in ok.reason


def test_file_refuses_to_replace_a_directory():
    out = File("/etc/x", content="a").check(StubFacts([(FileFact("/etc/x"), FileState("directory", "root", "root", "0755"))]))
    assert out.blocked and not out.changed and "refusing" in out.reason


def test_file_absent():
    res = File("/etc/x", state="absent")
    assert res.check(StubFacts([(FileFact("/etc/x"), file_state(b"a"))])).reason == "remove /etc/x"
    assert not res.check(StubFacts([(FileFact("/etc/x"), FileState("absent"))])).changed


def test_directory():
    res = Directory("/srv/app", mode="0750")
    assert res.check(StubFacts([(FileFact("/srv/app"), FileState("absent"))])).changed
    assert not res.check(StubFacts([(FileFact("/srv/app"), FileState("directory", "root", "root", "0750"))])).changed


def test_line_keeps_live_owner_and_mode():
    res = Line("/etc/foo.conf", "answer=42", regexp=r"^answer=")
    facts = StubFacts([(FileFact("/etc/foo.conf"), file_state(b"a=1\nanswer=41\n", "0600", "app", "app"))])
    out = res.check(facts)
    assert out.changed and out.plan == FilePlan("write", b"a=1\nanswer=42\n", "app", "app", "0600")
    assert (res.owner, res.group, res.mode) == (None, None, None)  # the check changed nothing on the resource


def test_edit_line_and_block_are_idempotent():
    text = edit_line("a\n", "b", None, True)
    assert text == "a\nb\n" and edit_line(text, "b", None, True) == text
    assert edit_line(text, "b", None, False) == "a\n"
    block = edit_block("x\n", "one\ntwo", "# {mark} M", True)
    assert block == "x\n# BEGIN M\none\ntwo\n# END M\n"
    assert edit_block(block, "one\ntwo", "# {mark} M", True) == block
    assert edit_block(block, "three", "# {mark} M", True) == "x\n# BEGIN M\nthree\n# END M\n"
    assert edit_block(block, "", "# {mark} M", False) == "x\n"


def test_packages_install_refreshes_stale_cache_once():
    res = Packages(["ufw", "curl"])
    facts = StubFacts([(PackagesFact("curl", "ufw"), {"curl": "7"}), (AptCacheAgeFact(), 7200)])
    out = res.check(facts)
    assert out.changed and out.plan == PackagesPlan(("ufw",), True) and "refresh" in out.reason
    facts = StubFacts([(PackagesFact("curl", "ufw"), {"curl": "7", "ufw": "0.36"}), (AptCacheAgeFact(), 7200)])
    assert not res.check(facts).changed


@pytest.mark.parametrize("state,enabled,running,changed,expect", [
    ({"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled", "ConditionResult": "yes", "ConditionTimestampMonotonic": "1"}, True, True, False, "enabled, running"),
    ({"LoadState": "loaded", "ActiveState": "inactive", "UnitFileState": "disabled", "ConditionResult": "yes", "ConditionTimestampMonotonic": "1"}, True, True, True, "enable + start"),
    ({"LoadState": "loaded", "ActiveState": "inactive", "UnitFileState": "masked", "ConditionResult": "yes", "ConditionTimestampMonotonic": "1"}, True, True, True, "unmask + enable + start"),
    ({"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled", "ConditionResult": "yes", "ConditionTimestampMonotonic": "1"}, False, False, True, "disable + stop"),
    ({"LoadState": "loaded", "ActiveState": "inactive", "UnitFileState": "static", "ConditionResult": "yes", "ConditionTimestampMonotonic": "1"}, True, None, False, "static"),
    ({"LoadState": "not-found", "ActiveState": "inactive", "UnitFileState": "", "ConditionResult": ""}, True, True, False, "does not exist"),
])
def test_service(state, enabled, running, changed, expect):
    full = {"SubState": "", **state}
    out = Service("x.service", enabled=enabled, running=running).check(StubFacts([(ServiceFact("x.service"), full)]))
    assert out.changed is changed and expect in out.reason
    assert out.blocked is (state["LoadState"] == "not-found")


def test_service_whose_condition_fails_is_skipped():
    state = {"LoadState": "loaded", "ActiveState": "inactive", "SubState": "dead", "UnitFileState": "enabled",
             "ConditionResult": "no", "ConditionTimestampMonotonic": "123456"}
    out = Service("systemd-timesyncd").check(StubFacts([(ServiceFact("systemd-timesyncd"), state)]))
    assert out.skipped and "condition" in out.reason


def test_user():
    res = User("admin", groups=["sudo"])
    assert res.check(StubFacts([(UserFact("admin"), None)])).plan == UserPlan("create")
    live = {"name": "admin", "uid": 1000, "gid": 1000, "home": "/home/admin", "shell": "/bin/bash", "groups": ["admin"]}
    assert "add to groups sudo" in res.check(StubFacts([(UserFact("admin"), live)])).reason
    live["groups"].append("sudo")
    assert not res.check(StubFacts([(UserFact("admin"), live)])).changed


def test_authorized_keys_match_by_key_not_comment():
    key = "ssh-ed25519 AAAAC3Nza operator@laptop"
    res = AuthorizedKeys("admin", [key])
    live = {"home": "/home/admin", "group": "admin", "content": "ssh-ed25519 AAAAC3Nza renamed\n"}
    assert not res.check(StubFacts([(AuthorizedKeysFact("admin"), live)])).changed
    exclusive = AuthorizedKeys("admin", [key], exclusive=True)
    live["content"] += "ssh-rsa BBBB intruder\n"
    out = exclusive.check(StubFacts([(AuthorizedKeysFact("admin"), live)]))
    assert out.changed and out.plan.content == key + "\n"


def test_sysctl_skips_what_a_container_cannot_set():
    res = Sysctl({"net.ipv4.tcp_syncookies": 1, "kernel.kptr_restrict": 2})
    from vpskit.resources.sysctl import render_sysctl
    content = render_sysctl(res.settings).encode()
    live = {"net.ipv4.tcp_syncookies": {"access": "rw", "value": "1"},
            "kernel.kptr_restrict": {"access": "ro", "value": "0"}}
    out = res.check(StubFacts([(FileFact(res.path), file_state(content)), (SysctlFact(*res.settings), live)]))
    assert not out.changed and "read-only /proc/sys" in out.reason and "kernel.kptr_restrict" in out.reason
    live["net.ipv4.tcp_syncookies"]["value"] = "0"
    out = res.check(StubFacts([(FileFact(res.path), file_state(content)), (SysctlFact(*res.settings), live)]))
    assert out.changed and out.plan.drifted == {"net.ipv4.tcp_syncookies": ("0", "1")}


def test_command_needs_a_guard():
    with pytest.raises(ValueError, match="creates= or unless="):
        Command("touch /x")
    res = Command("touch /x", creates="/x")
    assert not res.check(StubFacts([(CommandFact("test -e /x"), 0)])).changed
    assert res.check(StubFacts([(CommandFact("test -e /x"), 1)])).changed


def test_cron_validation_and_rendering():
    assert validate_schedule("*/5  * * * 1-5") == "*/5 * * * 1-5"
    assert validate_schedule("@daily") == "@daily"
    for bad in ("* * *", "61! * * * *", "@sometimes"):
        with pytest.raises(ValueError):
            validate_schedule(bad)
    with pytest.raises(ValueError, match="letters, digits"):
        CronJob("back.up", "@daily", "true")
    job = CronJob("backup", "0 3 * * *", "/usr/local/bin/backup")
    assert job.path == "/etc/cron.d/vpskit-backup"
    assert job.content.endswith("0 3 * * * root /usr/local/bin/backup\n")


def test_download_requires_a_pinned_checksum():
    with pytest.raises(ValueError, match="sha256"):
        Download("http://x/y", "/usr/local/bin/y", "abc")


def test_block_resource_diff():
    res = Block("/etc/hosts", "10.0.0.1 db")
    out = res.check(StubFacts([(FileFact("/etc/hosts"), file_state(b"127.0.0.1 localhost\n"))]))
    assert out.changed and "+10.0.0.1 db" in out.diff
