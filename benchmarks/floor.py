"""The shell floor: benchmarks/shell/harden.sh and the profile's files carried to each host in one ssh, as a user
with no tool runs them (a tar stream piped into `ssh … 'tar x && bash harden.sh'`, all hosts at once)."""

from __future__ import annotations

import shlex
from pathlib import Path

BENCH_DIR = Path(__file__).parent
SHELL_DIR = BENCH_DIR / "shell"
# written beside the other inventories (tools.write_inventories)
SSH_CONFIG, HOSTS, ADMIN_KEY = "ssh_config", "hosts.txt", "admin.pub"

# on the host: a scratch folder for the payload, gone when the script ends however it ends
REMOTE = ('d=$(mktemp -d) && trap \'rm -rf "$d"\' EXIT && tar -x --no-same-owner -C "$d" && '
          'bash "$d/harden.sh"')


def ssh_config(key: Path, known_hosts: Path) -> str:
    """The ~/.ssh/config a user keeps for these hosts: root, the key, the known host keys checked strictly."""
    return "\n".join(["Host *", "  User root", f"  IdentityFile {key}", "  IdentitiesOnly yes",
                      f"  UserKnownHostsFile {known_hosts}", "  StrictHostKeyChecking yes", "  BatchMode yes", ""])


def payload_command(folder: Path) -> list[str]:
    """tar writing harden.sh, files/ and the admin's public key to stdout, all at the archive's top."""
    return ["tar", "-c", "-C", str(SHELL_DIR), "harden.sh", "-C", str(BENCH_DIR), "files",
            "-C", str(folder), ADMIN_KEY]


def shell_command(folder: Path) -> list[str]:
    """bash: for each address in the folder's hosts.txt, the payload piped into one ssh, every host at once;
    fails when any host failed."""
    ssh = f'ssh -F {shlex.quote(str(folder / SSH_CONFIG))} "$address" {shlex.quote(REMOTE)}'
    script = "\n".join([
        "set -o pipefail",
        "pids=()",
        'for address in "$@"; do',
        f"    {shlex.join(payload_command(folder))} | {ssh} &",
        '    pids+=("$!")',
        "done",
        "failed=0",
        'for pid in "${pids[@]}"; do',
        '    wait "$pid" || failed=1',
        "done",
        'exit "$failed"',
    ])
    addresses = (folder / HOSTS).read_text().split()
    return ["bash", "-c", script, "shell", *addresses]
