"""Who a node says it is: its node password, addresses, labels, air-gap images and heartbeat body."""

import secrets
import urllib.parse

from .checks import split_items
from .config import node_args
from .host import DEFAULT_PORT, NODE_PASSWORD_FILE, host_arch, outbound_address, write_file
from .version import VERSION


class NodeIdentity:
    """Node's identity methods (a mixin: Node sets role, settings, paths, data_dir, upstream, name, token)."""

    def _node_password(self) -> str:
        path = self.paths.host(NODE_PASSWORD_FILE)
        if not path.exists():
            write_file(path, secrets.token_hex(16) + "\n")
        return path.read_text().strip()

    def addresses(self) -> dict:
        ips = split_items(self.settings.get("node-ip", []))
        if ips:
            internal = ips[0]
        elif self.upstream:
            parsed = urllib.parse.urlparse(self.upstream)
            internal = outbound_address(parsed.hostname, parsed.port or DEFAULT_PORT)
        else:
            internal = outbound_address("192.0.2.1", 9)
        external = split_items(self.settings.get("node-external-ip", []))
        return {"InternalIP": internal, "ExternalIP": external[0] if external else None}

    def labels(self) -> dict:
        arch = host_arch()
        labels = {"kubernetes.io/hostname": self.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": arch,
                  "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": arch,
                  "beta.kubernetes.io/instance-type": "k3s", "node.kubernetes.io/instance-type": "k3s"}
        for item in self.settings.get("node-label", []):
            key, _, value = item.partition("=")
            labels[key] = value
        return labels

    def images(self) -> list:
        folder = self.data_dir / "agent" / "images"
        files = sorted(folder.iterdir()) if folder.is_dir() else []
        return [{"names": [f"fake-airgap/{f.name}"], "sizeBytes": f.stat().st_size} for f in files if f.is_file()]

    def heartbeat_body(self) -> dict:
        return {"name": self.name, "role": self.role, "version": VERSION, "boot_id": self.boot_id,
                "token": self.credential(),
                "addresses": self.addresses(), "labels": self.labels(),
                "taints": self.settings.get("node-taint", []), "node_args": node_args(self.role, self.settings),
                "images": self.images()}

    def credential(self) -> str:
        """What this node presents: a server the cluster's full token, an agent the token it was given."""
        return self.token.full() if self.role == "server" and self.token else str(self.settings.get("token"))
