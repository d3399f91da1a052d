"""Builds a Debian root file system once per release with mmdebstrap, and caches it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..errors import LabError

RELEASES = ("bookworm", "trixie")
# what a provider's minimal VPS image has: init, sshd, sudo, cron, networking
PACKAGES = ["systemd-sysv", "dbus", "openssh-server", "iproute2", "sudo", "cron", "ca-certificates", "procps",
            "less", "kmod", "iputils-ping"]


def rootfs_path(cache_dir: Path, release: str) -> Path:
    return cache_dir / "rootfs" / release


def ensure_rootfs(cache_dir: Path, release: str, mirror: str | None, log) -> Path:
    """Returns the cached rootfs, building it first when missing (into a temp dir, then renamed)."""
    if release not in RELEASES:
        raise LabError(f"release must be one of {', '.join(RELEASES)}, not {release!r}")
    target = rootfs_path(cache_dir, release)
    if (target / "etc" / "os-release").exists():
        return target
    building = target.with_name(f".{release}.building")
    if building.exists():
        shutil.rmtree(building)
    building.parent.mkdir(parents=True, exist_ok=True)
    log(f"building the {release} root file system with mmdebstrap (once; cached in {target})")
    argv = ["mmdebstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", release, str(building)]
    if mirror:
        argv.append(mirror.rstrip("/"))
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        raise LabError(f"mmdebstrap {release} failed: {result.stderr.strip()[-800:]}")
    building.rename(target)
    return target
