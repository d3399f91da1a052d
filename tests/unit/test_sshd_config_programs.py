"""SshdConfigFact reads each file with one sed (its lines and its Include patterns at once) where the command
before it (kept below as it was) ran two, and parses to the same files and globs.

Over this machine's real sh and sed, on a configuration under tmp (both commands' /etc/ssh moved there):
relative and absolute includes, nested ones, a file included twice, a glob matching nothing, `Include=`, an
indented lower-case include, a file without its final newline, an empty file, lines holding `|`, backslashes and
`@@include`, and a file that includes itself (the depth limit). Absolute includes name the moved folder.
"""

from __future__ import annotations

import pytest

from tests.unit.programs import Programs
from vpskit.facts import SshdConfigFact

# SshdConfigFact's command at commit 6d9ce10
COMMAND_BEFORE = "\n".join([
    "vpskit_sshd_read() (",
    "  depth=$1; shift; [ \"$depth\" -le 8 ] || exit 0",
    "  for f in \"$@\"; do",
    "    [ -f \"$f\" ] || continue",
    "    echo \"@@file $f\"; sed 's/^/|/' \"$f\"; echo",
    "    for p in $(sed -n 's/^[[:space:]]*[Ii][Nn][Cc][Ll][Uu][Dd][Ee][[:space:]=][[:space:]]*//p' \"$f\"); do",
    "      case $p in /*) ;; *) p=/etc/ssh/$p ;; esac",
    "      echo \"@@glob $p\"; set +f; set -- $p; set -f",
    "      for m in \"$@\"; do [ -e \"$m\" ] && echo \"$m\"; done; echo @@end",
    "      vpskit_sshd_read $((depth + 1)) \"$@\"",
    "    done",
    "  done",
    ")",
    "set -f; vpskit_sshd_read 0 /etc/ssh/sshd_config",
])

CONFIGS = {
    "debian, hardened": {
        "sshd_config": "Include @SSH@/sshd_config.d/*.conf\n\n#Port 22\nKbdInteractiveAuthentication no\n",
        "sshd_config.d/00-vpskit-hardening.conf": "Port 22\nPermitRootLogin no\n",
        "sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\n",
    },
    "many kinds of include": {
        "sshd_config": "Port 2222\nInclude conf.d/*.conf extra.conf\n  include=nested/a.conf\nInclude none/*.conf\n"
                       "Include extra.conf\nX a|b \\\\ c\n@@include not/an/include\n|starts with a bar",
        "conf.d/10-a.conf": "Match User deploy\n  PermitRootLogin yes\n",
        "conf.d/20-empty.conf": "",
        "extra.conf": "INCLUDE @SSH@/nested/b.conf\n",
        "nested/a.conf": "MaxAuthTries 3\n",
        "nested/b.conf": "Include loop.conf\n",
        "loop.conf": "Include loop.conf\nLogLevel VERBOSE\n",
    },
    "no config": {},
}


def run(tmp_path, command: str, files: dict[str, str]):
    ssh = tmp_path / "ssh"
    ssh.mkdir(parents=True)
    for name, text in files.items():
        path = ssh / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("@SSH@", str(ssh)))  # an absolute include, under the moved folder
    programs = Programs(tmp_path).real("sed")
    done = programs.run(command.replace("/etc/ssh", str(ssh)))
    assert done.returncode == 0, done.stderr
    return SshdConfigFact().parse(done.stdout.replace(str(ssh), "/etc/ssh"), 0), programs.started()


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_one_sed_a_file_reads_what_two_did(tmp_path, case):
    before, started_before = run(tmp_path / "before", COMMAND_BEFORE, CONFIGS[case])
    now, started_now = run(tmp_path / "now", SshdConfigFact().command(), CONFIGS[case])
    assert now == before
    assert len(started_before) == 2 * len(started_now)
    if case == "debian, hardened":
        assert list(now["files"]) == ["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/00-vpskit-hardening.conf",
                                      "/etc/ssh/sshd_config.d/50-cloud-init.conf"]
    if case == "many kinds of include":
        assert now["files"]["/etc/ssh/sshd_config"][-2:] == ["@@include not/an/include", "|starts with a bar"]
        assert now["globs"]["/etc/ssh/none/*.conf"] == [] and "/etc/ssh/loop.conf" in now["files"]
        assert now["files"]["/etc/ssh/conf.d/20-empty.conf"] == []
