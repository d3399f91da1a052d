"""The files a server writes: its token files and the kubeconfig."""

import base64
import os
import secrets
from pathlib import Path

import yaml

from .host import KUBECONFIG_FILE, local_api_host, write_file
from .logs import FatalError, log
from .tokens import Token


class NodeFiles:
    """Node's file methods (a mixin: Node sets settings, paths, data_dir, port, name, token)."""

    def server_dir(self) -> Path:
        return self.data_dir / "server"

    def write_tokens(self, token: Token) -> None:
        for name in ("token", "node-token"):
            write_file(self.server_dir() / name, token.full() + "\n")
        if self.settings.get("agent-token"):
            agent = Token(token.ca_hash, Token.parse(self.settings["agent-token"]).secret, "node")
            write_file(self.server_dir() / "agent-token", agent.full() + "\n")

    def first_server_token(self) -> Token:
        """The cluster token: kept from an earlier start, else from config, else random (as k3s does)."""
        path = self.server_dir() / "token"
        configured = Token.parse(str(self.settings["token"])) if self.settings.get("token") else None
        if path.exists():
            token = Token.parse(path.read_text())
            if configured and configured.secret != token.secret:
                raise FatalError("starting kubernetes: preparing server: bootstrap data already found and "
                                 "encrypted with different token")
            return token
        ca_hash = (configured.ca_hash if configured else None) or secrets.token_hex(32)
        return Token(ca_hash, configured.secret if configured else secrets.token_hex(16))

    def write_kubeconfig(self) -> None:
        path = self.paths.host(self.settings.get("write-kubeconfig") or KUBECONFIG_FILE)
        mode = int(self.settings.get("write-kubeconfig-mode") or "0600", 8)

        def pem(what: str) -> str:
            text = f"-----BEGIN {what}-----\nFAKE-K3S {self.token.ca_hash} {self.name}\n-----END {what}-----\n"
            return base64.b64encode(text.encode()).decode()

        api_url = f"https://{local_api_host(self.settings)}:{self.port}"
        kubeconfig = {
            "apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": "default",
            "clusters": [{"name": "default", "cluster": {"server": api_url,
                                                         "certificate-authority-data": pem("CERTIFICATE")}}],
            "users": [{"name": "default", "user": {"client-certificate-data": pem("CERTIFICATE"),
                                                   "client-key-data": pem("EC PRIVATE KEY")}}],
            "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
        }
        write_file(path, yaml.safe_dump(kubeconfig, sort_keys=False), mode)
        group = self.settings.get("write-kubeconfig-group")
        if group:
            try:
                os.chown(path, -1, __import__("grp").getgrnam(group).gr_gid)
            except (KeyError, PermissionError) as exc:
                log("warning", f"cannot give {path} to group {group}: {exc}")
