"""SshdEffectiveFact runs `sshd -T` once when no file under /etc/ssh holds a Match block or an Include that may
reach elsewhere: sshd then applies no connection's parameters, and each `-C` context is reported as the plain
run (OpenSSH's servconf.c: outside Match blocks the reprocessing with connection info sets nothing). Otherwise,
or for a specification sshd may refuse, every context is run as before.

The detection runs over this machine's real sh and grep on folders under tmp; a stand-in `sshd` (there is none
here) counts its runs and prints one line per run, as a fake.
"""

from __future__ import annotations

import pytest

from tests.unit.programs import Programs
from vpskit.facts import SshdEffectiveFact
from vpskit.facts.sshd import SSH_DIR

DEBIAN = ("Include /etc/ssh/sshd_config.d/*.conf\n#Match User anoncvs\n#\tX11Forwarding no\n"
          "PasswordAuthentication yes\n")
HARDENED = "Port 22\nPermitRootLogin no\nAllowUsers ops root\nHostKey /etc/ssh/ssh_host_ed25519_key\n"
CLIENT = "Include /etc/ssh/ssh_config.d/*.conf\nHost *\n    SendEnv LANG LC_*\n"

# (drop-in text, whether a connection's settings may differ)
CASES = {
    "debian and the drop-in": ("", False),
    "a Match block": ("Match User deploy\n  PasswordAuthentication yes\n", True),
    "lower case, indented": ("  match address 10.0.0.0/8\n", True),
    "Match=": ("Match=User x\n", True),
    "quoted keyword": ('"Match" User x\n', True),
    "relative include": ("Include extra.d/*.conf\n", False),
    "include under /etc/ssh": ("Include /etc/ssh/extra.d/*.conf /etc/ssh/more.conf\n", False),
    "include elsewhere": ("Include /srv/ssh/*.conf\n", True),
    "include= elsewhere": ("Include=/srv/ssh.conf\n", True),
    "include of a neighbour": ("Include /etc/sshd/x.conf\n", True),
    "include of /etc/ssh itself": ("Include /etc/ssh\n", True),
    "include in another case": ("Include /ETC/SSH/x.conf\n", True),
    "include climbing out": ("Include extra.d/../../srv/x.conf\n", True),
    "include quoted": ('Include "/srv/my dir/x.conf"\n', True),
    "include second word elsewhere": ("Include extra.conf /srv/x.conf\n", True),
    "include with a byte not ASCII": ("Include caf\xe9/../../x.conf\n", True),
    "commented include": ("# Include /srv/x.conf\n", False),
}


def run(tmp_path, drop_in: str, fact: SshdEffectiveFact) -> tuple[dict, list[str]]:
    ssh = tmp_path / "etc-ssh"
    (ssh / "sshd_config.d").mkdir(parents=True)
    (ssh / "ssh_config.d").mkdir()
    (ssh / "sshd_config").write_text(DEBIAN)
    (ssh / "ssh_config").write_text(CLIENT)
    (ssh / "sshd_config.d" / "00-vpskit-hardening.conf").write_text(HARDENED)
    (ssh / "sshd_config.d" / "50-case.conf").write_bytes(drop_in.encode("latin-1"))
    programs = Programs(tmp_path).real("grep").fake("sshd", 'echo "port 22"; echo "permitrootlogin no"')
    done = programs.run(fact.command().replace(f" {SSH_DIR} 2>", f" {ssh} 2>"))
    assert done.returncode == 0, done.stderr
    return fact.parse(done.stdout, 0), programs.started()


@pytest.mark.parametrize("case", sorted(CASES))
def test_sshd_runs_once_unless_a_connection_may_see_other_settings(tmp_path, case):
    text, may_differ = CASES[case]
    fact = SshdEffectiveFact("10.0.0.5", "ops", "root")
    found, started = run(tmp_path, text, fact)
    assert started.count("sshd") == (3 if may_differ else 1)
    assert list(found) == fact.contexts()
    plain = {"rc": 0, "settings": {"port": ["22"], "permitrootlogin": ["no"]}, "error": ""}
    assert all(value == plain for value in found.values())
    found[""]["settings"]["port"].append("2222")  # each context's value is its own
    assert found["user=ops,host=10.0.0.5,addr=10.0.0.5"]["settings"]["port"] == ["22"]


@pytest.mark.parametrize("fact", [SshdEffectiveFact("10.0.0.5", "ops,admin"), SshdEffectiveFact("host name", "ops"),
                                  SshdEffectiveFact("10.0.0.5", "o'brien")])
def test_a_specification_sshd_may_refuse_is_run(tmp_path, fact):
    _found, started = run(tmp_path, "", fact)
    assert started == ["sshd", "sshd"]


def test_without_an_address_sshd_runs_once_and_nothing_is_grepped(tmp_path):
    found, started = run(tmp_path, "", SshdEffectiveFact(None, "ops"))
    assert started == ["sshd"] and list(found) == [""]


def test_a_failing_plain_run_is_reported_for_every_context():
    output = "@@context \nsshd: no hostkeys available -- exiting.\n@@rc 1\n@@same user=ops,host=h,addr=h\n"
    found = SshdEffectiveFact("h", "ops").parse(output, 0)
    assert found["user=ops,host=h,addr=h"] == found[""] == {
        "rc": 1, "settings": {}, "error": "sshd: no hostkeys available -- exiting."}
