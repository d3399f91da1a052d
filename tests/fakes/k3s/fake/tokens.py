"""Cluster tokens as k3s writes them: K10<ca hash>::server:<secret>."""

import secrets


class Token:
    """A cluster token: the CA hash and the secret part; a bare token is only a secret."""

    def __init__(self, ca_hash: str | None, secret: str, user: str = "server"):
        self.ca_hash, self.secret, self.user = ca_hash, secret, user

    @classmethod
    def parse(cls, text: str) -> "Token":
        text = text.strip()
        if text.startswith("K10") and "::" in text:
            head, rest = text[3:].split("::", 1)
            user, _, secret = rest.partition(":")
            return cls(head, secret, user)
        return cls(None, text)

    def full(self) -> str:
        return f"K10{self.ca_hash}::{self.user}:{self.secret}"

    def admits(self, presented: str, accept_secrets: tuple[str, ...]) -> bool:
        """k3s compares the secret part, and the CA hash too when a full token is presented."""
        other = Token.parse(presented or "")
        if other.ca_hash is not None and other.ca_hash != self.ca_hash:
            return False
        return bool(other.secret) and any(secrets.compare_digest(other.secret, s) for s in accept_secrets if s)
