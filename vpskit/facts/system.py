"""Host-wide facts: OS identity, sysctl values, and the exit status (and output) of a probe command."""

from __future__ import annotations

import re

from .base import Fact, q


class HostInfoFact(Fact):
    """Distribution, release, kernel, OpenSSH version, virtualisation and init system."""

    def command(self) -> str:
        return (
            ". /etc/os-release 2>/dev/null; echo \"id=$ID\"; echo \"version_id=$VERSION_ID\"; "
            "echo \"codename=$VERSION_CODENAME\"; "
            # what uname -r and -m print, read where the kernel keeps it (kernel.arch since Linux 5.x; else uname)
            "{ read -r k < /proc/sys/kernel/osrelease && read -r m < /proc/sys/kernel/arch; } 2>/dev/null || "
            "{ set -- $(uname -rm); k=$1; m=$2; }; echo \"kernel=$k\"; echo \"arch=$m\"; "
            "echo \"openssh=$(ssh -V 2>&1)\"; echo \"virt=$(systemd-detect-virt 2>/dev/null || echo none)\"; "
            # builtins read what hostname and ps would print: each program started costs the host CPU
            "read -r h < /proc/sys/kernel/hostname; echo \"hostname=$h\"; "
            "read -r i < /proc/1/comm 2>/dev/null; echo \"init=$i\"; "
            "echo \"ssh_client=${SSH_CONNECTION%% *}\""
        )

    def parse(self, output: str, rc: int) -> dict:
        info = {}
        for line in output.splitlines():
            key, _, value = line.partition("=")
            info[key.strip()] = value.strip()
        match = re.search(r"OpenSSH_(\d+)\.(\d+)", info.get("openssh", ""))
        info["openssh_version"] = [int(match.group(1)), int(match.group(2))] if match else None
        info["container"] = info.get("virt") in {"systemd-nspawn", "lxc", "lxc-libvirt", "docker", "podman", "openvz", "wsl"}
        return info


class SysctlFact(Fact):
    """Current value of each sysctl key, and whether this host lets us write it."""

    shares_shell = True

    def __init__(self, *keys: str):
        super().__init__(*sorted(keys))

    def command(self) -> str:
        # shell tests for access, then one grep for every value (a shell `read` of /proc/sys is not safe:
        # dash reads byte by byte and integer files end after the first byte read that way)
        parts = []
        for key in self.args:
            path = q(_proc_path(key))
            access = f"printf 'access\\t%s\\t%s\\n' {q(key)}"
            parts.append(f"if [ ! -e {path} ]; then {access} missing; elif [ -w {path} ]; then {access} rw; "
                         f"else {access} ro; fi")
        paths = " ".join(q(_proc_path(k)) for k in self.args)
        return "; ".join(parts) + f"; grep -H '' {paths} 2>/dev/null; true"

    def parse(self, output: str, rc: int) -> dict[str, dict]:
        access, lines = {}, {}
        for line in output.splitlines():
            if line.startswith("access\t"):
                _, key, how = line.split("\t", 2)
                access[key] = how
            elif line.startswith("/proc/sys/") and ":" in line:
                path, _, value = line.partition(":")
                lines.setdefault(path, []).append(value)
        return {key: {"access": how, "value": " ".join(" ".join(lines.get(_proc_path(key), [])).split())}
                for key, how in access.items()}


def _proc_path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


class CommandFact(Fact):
    """The exit status of a read-only probe command (for `unless`/`creates` guards)."""

    # the probe runs in a subshell of its own: whatever it does stays there
    shares_shell = True

    def __init__(self, command: str):
        super().__init__(command)

    def command(self) -> str:
        return f"( {self.args[0]} ) >/dev/null 2>&1; echo $?"

    def parse(self, output: str, rc: int) -> int:
        return int(output.strip().splitlines()[-1])


class CommandOutputFact(Fact):
    """The exit status and stdout of a read-only probe command (for waiting on an endpoint, a file, a state)."""

    shares_shell = True

    def __init__(self, command: str):
        super().__init__(command)

    def command(self) -> str:
        # the status goes last, on a line of its own, so any output (even without a final newline) stays exact
        return f"( {self.args[0]} ) 2>/dev/null; printf '\\n%s' $?"

    def parse(self, output: str, rc: int) -> tuple[int, str]:
        stdout, _, status = output.rpartition("\n")
        return int(status.strip()), stdout
