"""The outside checks' only network use: one bounded request (or one TLS handshake) per call, to a URL the
inventory lists, never following a redirect; what came back as plain data for the judges."""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.parse
from dataclasses import dataclass, field

MAX_HEADER_BYTES = 64 * 1024  # a response is never read past its headers


@dataclass(frozen=True)
class Response:
    """An HTTP response's status and headers (names lower-cased; repeated ones joined with ', '), or the error."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class Certificate:
    """The server's certificate as Python's ssl module reads a verified one, or why verification failed."""

    issuer: str = ""
    not_after: float = 0.0  # seconds since the epoch
    error: str = ""


def _target(url: str, scheme: str | None = None, port: int | None = None) -> tuple[str, str, int, str]:
    parts = urllib.parse.urlsplit(url)
    scheme = scheme or parts.scheme
    default = 443 if scheme == "https" else 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname or "", port or (parts.port if scheme == parts.scheme else None) or default, path


def get(url: str, timeout: float, context: ssl.SSLContext | None = None, scheme: str | None = None,
        port: int | None = None, headers: dict | None = None) -> Response:
    """One GET of url (as `scheme` on `port` when given), its headers only."""
    scheme, host, port, path = _target(url, scheme, port)
    conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context) if scheme == "https" \
        else http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"User-Agent": "vpskit-audit", **(headers or {})})
        answer = conn.getresponse()
        found: dict[str, str] = {}
        for name, value in answer.getheaders():
            key = name.lower()
            found[key] = f"{found[key]}, {value}" if key in found else value
        return Response(answer.status, found)
    except (OSError, http.client.HTTPException) as exc:
        return Response(error=f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def certificate(url: str, timeout: float, context: ssl.SSLContext | None = None) -> Certificate:
    """One TLS handshake with url's host, verified against the system's CAs (or `context`'s)."""
    _, host, port, _ = _target(url)
    context = context or ssl.create_default_context()
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw, \
                context.wrap_socket(raw, server_hostname=host) as tls:
            cert = tls.getpeercert()
    except ssl.SSLCertVerificationError as exc:
        return Certificate(error=f"not trusted: {exc.verify_message}")
    except (OSError, ssl.SSLError) as exc:
        return Certificate(error=f"{type(exc).__name__}: {exc}")
    issuer = dict(pair for rdn in cert.get("issuer", ()) for pair in rdn)
    return Certificate(issuer.get("organizationName") or issuer.get("commonName", "?"),
                       ssl.cert_time_to_seconds(cert["notAfter"]))
