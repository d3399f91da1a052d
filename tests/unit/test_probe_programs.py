"""The ssh role's probes start fewer programs and tell what the probes before them (kept below as they were) told,
and HostInfoFact reads the kernel's release and machine where the kernel keeps them, as uname prints them.

Over this machine's real sh, awk and ssh-keygen, on files under tmp (the probes' paths moved there).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from roles.ssh import RSA_KEY, RSA_KEY_STRONG, moduli_filter
from tests.unit.programs import Programs
from vpskit.facts import HostInfoFact

MODULI = "/etc/ssh/moduli"
# the probes at commit 6d9ce10
MODULI_BEFORE = "! awk '$1 !~ /^#/ && NF >= 7 && $5 + 1 < 3072' /etc/ssh/moduli | grep -q ."
RSA_BEFORE = f"[ \"$(ssh-keygen -l -f {RSA_KEY}.pub | cut -d' ' -f1)\" -ge 3072 ]"

MODULUS = "20230101000000 2 6 100 {size} 2 C0FFEE"
MODULI_CASES = {
    "weak ones": "# Time Type Tests Tries Size Generator Modulus\n" + "\n".join(
        MODULUS.format(size=s) for s in (2047, 3071, 4095)) + "\n",
    "filtered": "# Time Type Tests Tries Size Generator Modulus\n" + "\n".join(
        MODULUS.format(size=s) for s in (3071, 4095, 8191)) + "\n",
    "a weak one last, no final newline": MODULUS.format(size=4095) + "\n" + MODULUS.format(size=1023),
    "comments and short lines": "# 20230101000000 2 6 100 1023 2 C0FFEE\n20230101000000 2 6 100 1023\n",
    "empty": "",
    "missing": None,
}


def probe_status(folder: Path, probe: str, path: str, text: str | None) -> tuple[int, list[str]]:
    local = folder / path.lstrip("/")
    local.parent.mkdir(parents=True, exist_ok=True)
    if text is not None:
        local.write_text(text)
    programs = Programs(folder).real("awk", "grep", "cut", "ssh-keygen")
    done = programs.run(f"( {probe.replace(path, str(local))} ) >/dev/null 2>&1; echo $?")
    return int(done.stdout), programs.started()


@pytest.mark.parametrize("case", sorted(MODULI_CASES))
def test_the_moduli_probe_tells_what_it_told_with_awk_alone(tmp_path, case):
    probe = moduli_filter(3072).unless
    before = probe_status(tmp_path / "before", MODULI_BEFORE, MODULI, MODULI_CASES[case])
    now = probe_status(tmp_path / "now", probe, MODULI, MODULI_CASES[case])
    assert now[0] == before[0]
    assert now[0] == (1 if case in ("weak ones", "a weak one last, no final newline") else 0)
    assert now[1] == ["awk"] and sorted(before[1]) == ["awk", "grep"]


@pytest.fixture(scope="module")
def rsa_keys(tmp_path_factory) -> dict[str, str | None]:
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen is not installed here")
    folder = tmp_path_factory.mktemp("keys")
    keys = {}
    for bits in (2048, 3072):
        subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", str(bits), "-N", "", "-C", "root@host (a * comment)",
                        "-f", str(folder / f"k{bits}")], check=True)
        keys[f"{bits} bits"] = (folder / f"k{bits}.pub").read_text()
    keys["not a key"] = "garbage\n"
    keys["missing"] = None
    return keys


@pytest.mark.parametrize("case", ["2048 bits", "3072 bits", "not a key", "missing"])
def test_the_rsa_key_probe_tells_what_it_told_with_cut(tmp_path, rsa_keys, case):
    before = probe_status(tmp_path / "before", RSA_BEFORE, f"{RSA_KEY}.pub", rsa_keys[case])
    now = probe_status(tmp_path / "now", RSA_KEY_STRONG, f"{RSA_KEY}.pub", rsa_keys[case])
    assert now[0] == before[0] and (now[0] == 0) == (case == "3072 bits")
    assert now[1] == ["ssh-keygen"] and sorted(before[1]) == ["cut", "ssh-keygen"]


def test_host_info_reads_the_kernels_release_and_machine_as_uname_prints_them():
    command = HostInfoFact().command()
    fallback = command.replace("/proc/sys/kernel/arch", "/proc/sys/kernel/no-such-file")
    read, uname = (HostInfoFact().parse(subprocess.run(["sh", "-c", c], capture_output=True, text=True).stdout, 0)
                   for c in (command, fallback))
    expected = subprocess.run(["uname", "-rm"], capture_output=True, text=True).stdout.split()
    assert [read["kernel"], read["arch"]] == [uname["kernel"], uname["arch"]] == expected
