"""The k3s command line: --version, server, agent, kubectl and etcd-snapshot, dispatched to their modules."""

import hashlib
import os
import sys

from .config import load_settings
from .host import Paths
from .kubectl import kubectl
from .logs import FatalError, log
from .node import Node
from .snapshots import etcd_snapshot
from .version import VERSION

GO_VERSION = "go1.24.4"


def version_text() -> str:
    commit = hashlib.sha256(VERSION.encode()).hexdigest()[:8]
    return f"k3s version {VERSION} ({commit})\ngo version {GO_VERSION}"


def main(argv: list[str], environ: dict) -> int:
    paths = Paths(environ.get("FAKE_K3S_ROOT", ""))
    if not argv or argv[0] in ("-h", "--help", "help"):
        print("usage: k3s --version | server | agent | kubectl get nodes | etcd-snapshot  (a fake, for tests)")
        return 0 if argv else 1
    if argv[0] in ("--version", "-v"):
        print(version_text())
        return 0
    command, rest = argv[0], argv[1:]
    try:
        if command in ("server", "agent"):
            return Node(command, load_settings(command, rest, paths, environ), paths, environ).run()
        if command == "kubectl":
            return kubectl(rest, paths, environ)
        if command == "etcd-snapshot":
            return etcd_snapshot(rest, paths, environ)
    except FatalError as exc:
        log("fatal", str(exc))
        return 1
    print(f"the fake k3s does not implement {command!r}: only --version, server, agent, kubectl get nodes, "
          "etcd-snapshot", file=sys.stderr)
    return 1



def run() -> None:
    """The entry point of the zipapp and of `python -m`: exits with main's status."""
    sys.exit(main(sys.argv[1:], dict(os.environ)))
