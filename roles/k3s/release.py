"""K3s release artifacts: asset names per architecture, the sha256 list, and checking a local air-gap folder."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from vpskit.errors import VpskitError
from vpskit.localfiles import sha256_of

ARCHES = {"x86_64": "amd64", "aarch64": "arm64"}


def binary_asset(arch: str) -> str:
    return "k3s" if arch == "amd64" else f"k3s-{arch}"


def images_asset(arch: str) -> str:
    return f"k3s-airgap-images-{arch}.tar.zst"


def sums_asset(arch: str) -> str:
    return f"sha256sum-{arch}.txt"


def release_url(base: str, version: str) -> str:
    """<base>/<version>, the `+` of K3s versions encoded as GitHub's download URLs need."""
    return f"{base.rstrip('/')}/{quote(version, safe='')}"


def parse_sums(text: str) -> dict[str, str]:
    """Asset name → sha256 from a sha256sum-<arch>.txt. Pure."""
    sums = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) == 64:
            sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def airgap_arch(folder: Path) -> str:
    """The architecture an air-gap folder is for, from the sha256 file it holds."""
    found = [arch for arch in ARCHES.values() if (folder / sums_asset(arch)).is_file()]
    if len(found) != 1:
        raise VpskitError(f"k3s_airgap_dir {folder}: expected exactly one of "
                          f"{', '.join(sums_asset(a) for a in ARCHES.values())}, found {len(found)}")
    return found[0]


def verify_airgap(folder: Path, arch: str) -> dict[str, Path]:
    """Checks the binary (and images, when present) against the folder's sha256 file before anything moves."""
    sums = parse_sums((folder / sums_asset(arch)).read_text())
    files = {binary_asset(arch): folder / binary_asset(arch)}
    if (folder / images_asset(arch)).is_file():
        files[images_asset(arch)] = folder / images_asset(arch)
    for name, path in files.items():
        if name not in sums:
            raise VpskitError(f"k3s_airgap_dir {folder}: {sums_asset(arch)} lists no {name}")
        got, _size = sha256_of(path)
        if got != sums[name]:
            raise VpskitError(f"k3s_airgap_dir {folder}: {name} has sha256 {got}, the release says {sums[name]}; "
                              "nothing was installed")
    return files
