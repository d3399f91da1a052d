"""known_hosts read line by line: marker lines and unreadable lines no longer stop every connection."""

from __future__ import annotations

import base64

import paramiko
import pytest

from vpskit.connection import _RejectUnknownHost, _TrustAndRecord, host_key_known
from vpskit.errors import HostKeyError
from vpskit.knownhosts import load

HOST_KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIOaXQIARye6KEWSBfLva6HOuNDdjaHNaR2QP7ES0XXw1"
OTHER_KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIHPbtg4T3ukalgMvZQ9zcU0mNHMjWbO+kAz9xnrP2kaX"


def known_hosts(tmp_path, *lines: str) -> str:
    path = tmp_path / "known_hosts"
    path.write_text("".join(line + "\n" for line in lines))
    return str(path)


def test_marker_and_broken_lines_are_skipped_with_file_and_line_and_the_rest_loads(tmp_path):
    path = known_hosts(tmp_path,
                       f"@cert-authority *.example.com ssh-ed25519 {OTHER_KEY} ca",
                       "# a comment",
                       "10.0.0.9 ssh-ed25519 not-base64!",
                       f"10.0.0.1 ssh-ed25519 {HOST_KEY}",
                       f"[10.0.0.2]:2222 ssh-ed25519 {HOST_KEY}")
    known = load([path, str(tmp_path / "missing")])
    assert known.keys.lookup("10.0.0.1") and known.keys.lookup("[10.0.0.2]:2222")
    assert known.skipped[0].startswith(f"{path}:1: @cert-authority skipped")
    assert known.skipped[1].startswith(f"{path}:3: unreadable line skipped")
    assert len(known.skipped) == 2
    assert host_key_known("10.0.0.1", [22], [path])  # before: one such line made every host unknown


@pytest.mark.parametrize("policy", [_RejectUnknownHost, lambda known: _TrustAndRecord("/nonexistent/kh", known)])
def test_a_revoked_key_is_refused_and_never_recorded(tmp_path, policy):
    path = known_hosts(tmp_path, f"@revoked * ssh-ed25519 {HOST_KEY}")
    known = load([path])
    key = paramiko.PKey.from_type_string("ssh-ed25519", base64.b64decode(HOST_KEY))
    assert known.is_revoked(key)
    with pytest.raises(HostKeyError, match="@revoked"):
        policy(known).missing_host_key(paramiko.SSHClient(), "10.0.0.1", key)
