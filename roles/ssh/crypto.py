"""Choosing sshd algorithms by OpenSSH version: post-quantum key exchange first, nothing ssh-audit fails."""

from __future__ import annotations

from vpskit.errors import VpskitError

CIPHERS = ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com",
           "aes256-ctr", "aes192-ctr", "aes128-ctr"]
MACS = ["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com"]
HOST_KEY_ALGORITHMS = ["ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", "rsa-sha2-512", "rsa-sha2-256",
                       "rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com"]
CLASSIC_KEX = ["curve25519-sha256", "curve25519-sha256@libssh.org", "diffie-hellman-group16-sha512",
               "diffie-hellman-group18-sha512", "diffie-hellman-group-exchange-sha256"]


def key_exchange(version: tuple[int, int]) -> list[str]:
    """Post-quantum hybrids where this OpenSSH has them; classical ones only where it has none better."""
    if version >= (9, 9):
        # only post-quantum hybrids: ssh-audit warns about every classical exchange
        return ["mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com"]
    pq = ["sntrup761x25519-sha512@openssh.com"] if version >= (8, 5) else []
    return pq + CLASSIC_KEX


def choose(version: tuple[int, int] | None, client: dict[str, set[str]]) -> dict[str, list[str]]:
    """The algorithm lists for sshd; fails when vpskit's own client could not connect with them. Pure."""
    if version is None:
        raise VpskitError("cannot tell the host's OpenSSH version (ssh -V); refusing to choose algorithms")
    chosen = {"kex": key_exchange(tuple(version)), "ciphers": CIPHERS, "macs": MACS,
              "host_keys": HOST_KEY_ALGORITHMS}
    for kind, names in chosen.items():
        if not set(names) & client[kind]:
            raise VpskitError(f"no {kind} algorithm in common between sshd ({', '.join(names)}) and vpskit's SSH "
                              "client; applying them would lock vpskit out")
    return chosen
