"""Whether a host needs a reboot: Debian's /var/run/reboot-required (and the packages that asked for it, from
reboot-required.pkgs, written by update-notifier-common's and the kernel's postinst hooks), or an installed kernel
newer than the running one; and which boot this is (boot id, when PID 1 started)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from .base import Fact

REQUIRED = "/var/run/reboot-required"


@dataclass(frozen=True)
class RebootState:
    required_since: float | None = None  # mtime of /var/run/reboot-required, UTC seconds
    packages: tuple[str, ...] = ()
    running_kernel: str = ""
    installed_kernels: tuple[str, ...] = ()
    boot_id: str = ""
    booted: float | None = None  # when PID 1 started, UTC seconds
    now: float | None = None

    @property
    def newest_kernel(self) -> str | None:
        return max(self.installed_kernels, key=kernel_key) if self.installed_kernels else None

    @property
    def kernel_behind(self) -> bool:
        newest = self.newest_kernel
        return bool(newest and self.running_kernel and kernel_key(newest) > kernel_key(self.running_kernel))

    @property
    def needed(self) -> bool:
        return self.required_since is not None or self.kernel_behind

    def reasons(self) -> list[str]:
        """Why this host needs a reboot, in words (empty: it does not)."""
        found = []
        if self.required_since is not None:
            since = datetime.datetime.fromtimestamp(self.required_since, datetime.timezone.utc)
            asked = f", asked by {', '.join(self.packages)}" if self.packages else ""
            found.append(f"{REQUIRED} since {since:%Y-%m-%d %H:%M} UTC{asked}")
        if self.kernel_behind:
            found.append(f"kernel {self.newest_kernel} installed, {self.running_kernel} running")
        return found

    def required_days(self) -> float | None:
        if self.required_since is None or self.now is None:
            return None
        return max(0.0, (self.now - self.required_since) / 86400)


def kernel_key(version: str) -> tuple:
    """Orders kernel release names as `sort -V` would: 6.1.0-28-amd64 after 6.1.0-9-amd64."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", version) if p)


class RebootFact(Fact):
    """The reboot state above, in one command."""

    def command(self) -> str:
        return (f"if [ -e {REQUIRED} ]; then echo \"required $(stat -c %Y {REQUIRED})\"; fi; "
                f"if [ -e {REQUIRED}.pkgs ]; then sed 's/^/pkg /' {REQUIRED}.pkgs; fi; "
                "echo \"running $(uname -r)\"; "
                "for k in /boot/vmlinuz-*; do [ -e \"$k\" ] && echo \"installed ${k#/boot/vmlinuz-}\"; done; "
                "echo \"boot_id $(cat /proc/sys/kernel/random/boot_id)\"; "
                "echo \"booted $(date -d \"$(ps -o lstart= -p 1)\" +%s)\"; echo \"now $(date +%s)\"")

    def parse(self, output: str, rc: int) -> RebootState:
        return parse_reboot(output)


def parse_reboot(output: str) -> RebootState:
    """Pure: RebootFact's output → RebootState (lines of `key value`)."""
    values: dict = {"packages": [], "installed": []}
    for line in output.splitlines():
        key, _, value = line.strip().partition(" ")
        value = value.strip()
        if key == "pkg" and value and value not in values["packages"]:
            values["packages"].append(value)
        elif key == "installed" and value:
            values["installed"].append(value)
        elif key in ("required", "booted", "now") and re.fullmatch(r"\d+(\.\d+)?", value):
            values[key] = float(value)
        elif key in ("running", "boot_id"):
            values[key] = value
    return RebootState(values.get("required"), tuple(values["packages"]), values.get("running", ""),
                       tuple(values["installed"]), values.get("boot_id", ""), values.get("booted"),
                       values.get("now"))
