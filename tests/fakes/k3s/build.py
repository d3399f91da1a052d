"""Writes a fake k3s "binary" for one version from fake_k3s.py: the same script with that version baked in."""

from __future__ import annotations

import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "fake_k3s.py"
VERSION_LINE = re.compile(r'^VERSION = "[^"]*"(.*)$', re.MULTILINE)
VERSION_FORMAT = re.compile(r"v\d+\.\d+\.\d+\+k3s\d+")


def fake_k3s_text(version: str) -> str:
    """The fake's source with `version` baked in (so each version has its own sha256)."""
    if not VERSION_FORMAT.fullmatch(version):
        raise ValueError(f"{version!r} is not a k3s version like v1.36.4+k3s1")
    text, count = VERSION_LINE.subn(f'VERSION = "{version}"  # baked in by tests/fakes/k3s/build.py',
                                    TEMPLATE.read_text())
    if count != 1:
        raise RuntimeError(f"{TEMPLATE} must have exactly one VERSION line")
    return text


def build_fake_k3s(version: str, destination: Path) -> Path:
    """Writes the fake k3s for `version` to `destination` (mode 0755) and returns that path."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(fake_k3s_text(version))
    destination.chmod(0o755)
    return destination


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m tests.fakes.k3s.build VERSION DESTINATION")
    print(build_fake_k3s(sys.argv[1], Path(sys.argv[2])))
