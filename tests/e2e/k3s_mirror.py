"""A K3s release mirror for tests: fake k3s releases over HTTP on the lab's gateway, and air-gap folders."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
import urllib.parse
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.fakes.k3s.build import fake_k3s_bytes

ARCHES = ("amd64", "arm64")


def binary_name(arch: str) -> str:
    """The release asset of the k3s binary: `k3s` for amd64, `k3s-<arch>` for the others."""
    return "k3s" if arch == "amd64" else f"k3s-{arch}"


def images_name(arch: str) -> str:
    return f"k3s-airgap-images-{arch}.tar.zst"


def sha_file_name(arch: str) -> str:
    return f"sha256sum-{arch}.txt"


def release_path(version: str) -> str:
    """A version as it appears in a release URL: v1.36.4+k3s1 → v1.36.4%2Bk3s1."""
    return urllib.parse.quote(version, safe="")


def fake_images(version: str, arch: str) -> bytes:
    """A stand-in for the air-gap images tarball: a few KiB of bytes that differ per version and arch."""
    return f"FAKE K3S AIRGAP IMAGES {version} {arch} (not a tarball)\n".encode() * 64


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_release(folder: Path, version: str, arches=("amd64",)) -> dict[str, Path]:
    """Writes one release's assets into `folder` (binary, images, sha256sum-<arch>.txt per arch); returns them."""
    folder.mkdir(parents=True, exist_ok=True)
    binary = fake_k3s_bytes(version)
    written = {}
    for arch in arches:
        assets = {binary_name(arch): binary, images_name(arch): fake_images(version, arch)}
        for name, data in assets.items():
            (folder / name).write_bytes(data)
            written[name] = folder / name
        (folder / binary_name(arch)).chmod(0o755)
        sums = "".join(f"{sha256(data)}  {name}\n" for name, data in assets.items())
        (folder / sha_file_name(arch)).write_text(sums)
        written[sha_file_name(arch)] = folder / sha_file_name(arch)
    return written


def write_airgap_dir(folder: Path, version: str, arch: str = "amd64") -> Path:
    """An air-gap folder on the controller for `version`: the binary, its sha256sum file and the images."""
    write_release(Path(folder), version, (arch,))
    return Path(folder)


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves the mirror's folder and notes each request's path instead of logging it."""

    def __init__(self, *args, requests: list, **kwargs):
        self._requests = requests
        super().__init__(*args, **kwargs)

    def log_request(self, code="-", size="-"):
        self._requests.append(urllib.parse.unquote(self.path))

    def log_message(self, format, *args):
        pass


class K3sMirror:
    """Fake k3s releases served as <base_url>/<version, + as %2B>/<asset>, from a temporary folder.

    mirror = K3sMirror(lab.gateway, versions=["v1.36.4+k3s1", "v1.36.5+k3s1"]).start()
    mirror.url("v1.36.4+k3s1", "k3s")  →  http://10.213.1.1:8089/v1.36.4%2Bk3s1/k3s
    mirror.corrupt("v1.36.5+k3s1")     # its binary no longer matches its sha256sum file
    mirror.stop()                      # the air gap: nothing answers any more
    """

    def __init__(self, address: str, port: int = 8089, versions=(), arches=("amd64",)):
        self.address, self.port, self.arches = address, port, tuple(arches)
        self.root = Path(tempfile.mkdtemp(prefix="fake-k3s-mirror-"))
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for version in versions:
            self.add_version(version)

    @property
    def base_url(self) -> str:
        return f"http://{self.address}:{self.port}"

    def url(self, version: str, asset: str) -> str:
        return f"{self.base_url}/{release_path(version)}/{asset}"

    def folder(self, version: str) -> Path:
        """Where a version's assets are on disk (the handler decodes %2B, so the folder has the `+`)."""
        return self.root / version

    def add_version(self, version: str) -> dict[str, Path]:
        return write_release(self.folder(version), version, self.arches)

    def corrupt(self, version: str, arch: str = "amd64") -> None:
        """Serves a binary that is not the one the sha256sum file names (as a tampered download would be)."""
        binary = self.folder(version) / binary_name(arch)
        binary.write_bytes(fake_k3s_bytes(version) + b"# corrupted by the test mirror\n")

    def repair(self, version: str, arch: str = "amd64") -> None:
        (self.folder(version) / binary_name(arch)).write_bytes(fake_k3s_bytes(version))

    def start(self) -> "K3sMirror":
        if self._server is None:
            handler = partial(_QuietHandler, directory=str(self.root), requests=self.requests)
            self._server = ThreadingHTTPServer((self.address, self.port), handler)
            self._server.daemon_threads = True
            self._thread = threading.Thread(target=self._server.serve_forever, name="k3s-mirror", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving (the files stay, so start() serves them again)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "K3sMirror":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
