"""This host as the fake sees it: paths under FAKE_K3S_ROOT, atomic writes, its arch and addresses."""

import os
import platform
import socket
from pathlib import Path

DEFAULT_PORT = 6443
CONFIG_FILE = "/etc/rancher/k3s/config.yaml"
KUBECONFIG_FILE = "/etc/rancher/k3s/k3s.yaml"
NODE_PASSWORD_FILE = "/etc/rancher/node/password"
DATA_DIR = "/var/lib/rancher/k3s"


class Paths:
    """Every absolute path the fake touches, under FAKE_K3S_ROOT when that is set."""

    def __init__(self, root: str = ""):
        self.root = root.rstrip("/")

    def host(self, path: str | os.PathLike) -> Path:
        path = str(path)
        return Path(self.root + path) if self.root and path.startswith("/") else Path(path)

    def data_dir(self, settings: dict) -> Path:
        return self.host(settings.get("data-dir") or DATA_DIR)


def write_file(path: Path, text: str, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.chmod(tmp, mode)
    tmp.replace(path)


def host_arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def local_api_host(settings: dict) -> str:
    """Where this host reaches its own API: loopback, unless k3s was bound to one address."""
    bind = str(settings.get("bind-address") or "0.0.0.0")
    return "127.0.0.1" if bind in ("0.0.0.0", "::") else bind


def outbound_address(host: str, port: int) -> str:
    """The local address the kernel would use to reach host (a UDP connect sends nothing)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect((host, port))
            return sock.getsockname()[0]
    except OSError:
        return "127.0.0.1"
