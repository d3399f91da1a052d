"""Host-wide facts: OS identity, sysctl values, and the exit status of a probe command."""

from __future__ import annotations

import re

from .base import Fact, q


class HostInfoFact(Fact):
    """Distribution, release, kernel, OpenSSH version, virtualisation and init system."""

    def command(self) -> str:
        return (
            ". /etc/os-release 2>/dev/null; echo \"id=$ID\"; echo \"version_id=$VERSION_ID\"; "
            "echo \"codename=$VERSION_CODENAME\"; echo \"kernel=$(uname -r)\"; echo \"arch=$(uname -m)\"; "
            "echo \"openssh=$(ssh -V 2>&1 | head -1)\"; echo \"virt=$(systemd-detect-virt 2>/dev/null || echo none)\"; "
            "echo \"hostname=$(hostname)\"; echo \"init=$(ps -p 1 -o comm= 2>/dev/null)\"; "
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

    def __init__(self, *keys: str):
        super().__init__(*sorted(keys))

    def command(self) -> str:
        parts = []
        for key in self.args:
            path = q("/proc/sys/" + key.replace(".", "/"))
            parts.append(
                f"if [ -e {path} ]; then v=$(tr '\\t\\n' '  ' < {path}); "
                f"if [ -w {path} ]; then w=rw; else w=ro; fi; else v=; w=missing; fi; "
                f"printf '%s\\t%s\\t%s\\n' {q(key)} \"$w\" \"$v\""
            )
        return "; ".join(parts)

    def parse(self, output: str, rc: int) -> dict[str, dict]:
        values = {}
        for line in output.splitlines():
            parts = line.split("\t")
            if len(parts) == 3:
                values[parts[0]] = {"access": parts[1], "value": " ".join(parts[2].split())}
        return values


class CommandFact(Fact):
    """The exit status of a read-only probe command (for `unless`/`creates` guards)."""

    def __init__(self, command: str):
        super().__init__(command)

    def command(self) -> str:
        return f"( {self.args[0]} ) >/dev/null 2>&1; echo $?"

    def parse(self, output: str, rc: int) -> int:
        return int(output.strip().splitlines()[-1])
