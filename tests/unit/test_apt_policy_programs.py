"""AptPolicyFact picks apt-config's keys itself: one program fewer than the command before it (kept below as it
was, a grep after apt-config), the same parse.

Over this machine's real apt-config, told by APT_CONFIG to read a configuration under tmp (its parts folder
there too, where the command's grep reads them).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from vpskit.facts import AptPolicyFact

pytestmark = pytest.mark.skipif(not shutil.which("apt-config"), reason="apt-config is not installed here")

# AptPolicyFact's command at commit 6d9ce10
COMMAND_BEFORE = ("apt-config dump 2>/dev/null | grep -e '^APT::Periodic::' -e '^Unattended-Upgrade::Origins-Pattern' "
                  "-e '^Unattended-Upgrade::Allowed-Origins'; echo @@lines; "
                  "grep -Hn -e 'APT::Periodic::' -e '#clear' /etc/apt/apt.conf /etc/apt/apt.conf.d/* 2>/dev/null; true")

PARTS = {
    "20auto-upgrades": 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
    "50unattended-upgrades": 'Unattended-Upgrade::Origins-Pattern {\n  "origin=Debian,codename=${distro_codename}";\n'
                             '};\nUnattended-Upgrade::Allowed-Origins { "Debian:stable"; };\n'
                             'Unattended-Upgrade::Mail "root";\n',
    "60later": '#clear APT::Periodic::Unattended-Upgrade;\nAPT::Periodic::Unattended-Upgrade "0";\n'
               'APT::Periodic-Like "x";\nAPT::Periodicals::X "y";\n',
}


def parse(tmp_path, command: str) -> dict:
    etc = tmp_path / "etc" / "apt"
    (etc / "apt.conf.d").mkdir(parents=True, exist_ok=True)
    for name, text in PARTS.items():
        (etc / "apt.conf.d" / name).write_text(text)
    (etc / "apt.conf").write_text(f'Dir::Etc::parts "{etc}/apt.conf.d";\nAPT::Periodic::Verbose "2";\n')
    env = {**os.environ, "APT_CONFIG": str(etc / "apt.conf")}
    done = subprocess.run(["sh", "-c", command.replace("/etc/apt", str(etc))], capture_output=True, text=True,
                          env=env)
    return AptPolicyFact().parse(done.stdout.replace(str(etc), "/etc/apt"), done.returncode)


def test_the_keys_picked_in_parse_are_those_grep_picked(tmp_path):
    before, now = parse(tmp_path, COMMAND_BEFORE), parse(tmp_path, AptPolicyFact().command())
    assert now == before
    assert now["values"]["APT::Periodic::Unattended-Upgrade"] == ["0"]
    assert "Unattended-Upgrade::Mail" not in now["values"] and "APT::Periodic-Like" not in now["values"]
    assert ("/etc/apt/apt.conf.d/60later", 1, "#clear APT::Periodic::Unattended-Upgrade;") in now["lines"]
