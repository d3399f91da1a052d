"""Builds a fake k3s "binary" for one version: the fake/ package as one executable zipapp, that version baked in."""

from __future__ import annotations

import io
import re
import sys
import zipapp
import zipfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent / "fake"
ARCHIVE_PACKAGE = "fake_k3s"  # the package's name inside the zipapp
INTERPRETER = "/usr/bin/env python3"  # lab hosts run it with their python3 (and python3-yaml)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # every member's timestamp, so that a version always gives the same bytes
VERSION_FORMAT = re.compile(r"v\d+\.\d+\.\d+\+k3s\d+")
ARCHIVE_MAIN = f'''"""Runs the fake k3s packed in this zipapp (built by tests/fakes/k3s/build.py)."""

from {ARCHIVE_PACKAGE}.cli import run

run()
'''


def version_module(version: str) -> str:
    """The generated fake/version.py for `version` (the one in the source tree is only a default)."""
    return (f'"""The k3s version the fake claims to be: {version}, baked in by tests/fakes/k3s/build.py."""\n\n'
            f'VERSION = "{version}"\n')


def archive_members(version: str) -> list[tuple[str, bytes]]:
    """(name in the archive, contents) of every member, sorted by name: the package, version.py generated."""
    if not VERSION_FORMAT.fullmatch(version):
        raise ValueError(f"{version!r} is not a k3s version like v1.36.4+k3s1")
    members = {"__main__.py": ARCHIVE_MAIN.encode()}
    for source in PACKAGE.glob("*.py"):
        members[f"{ARCHIVE_PACKAGE}/{source.name}"] = source.read_bytes()
    members[f"{ARCHIVE_PACKAGE}/version.py"] = version_module(version).encode()
    return sorted(members.items())


def fake_k3s_bytes(version: str) -> bytes:
    """The fake k3s for `version`: a zipapp with a `#!/usr/bin/env python3` line; the same bytes for the same
    version (fixed timestamps, order and modes; stored, not compressed), different bytes for another version."""
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w", zipfile.ZIP_STORED) as archive:
        for name, data in archive_members(version):
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.create_system = 3  # Unix, wherever it is built
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, data)
    plain.seek(0)
    packed = io.BytesIO()
    zipapp.create_archive(plain, packed, interpreter=INTERPRETER)
    return packed.getvalue()


def build_fake_k3s(version: str, destination: Path) -> Path:
    """Writes the fake k3s for `version` to `destination` (mode 0755) and returns that path."""
    data = fake_k3s_bytes(version)
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(data)
    destination.chmod(0o755)
    return destination


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m tests.fakes.k3s.build VERSION DESTINATION")
    print(build_fake_k3s(sys.argv[1], Path(sys.argv[2])))
