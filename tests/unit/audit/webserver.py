"""A real HTTPS server on loopback for the outside checks: Python's http.server under ssl, a certificate from a CA
made for the test (cryptography), a page and a static asset whose headers each test chooses, and a plain-HTTP
listener that redirects or not. Serves until the context manager closes it."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import http.server
import ipaddress
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

GOOD_PAGE = {"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
             "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
             "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"}
GOOD_ASSET = {"Cache-Control": "public, max-age=31536000, immutable"}


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, text), x509.NameAttribute(NameOID.COMMON_NAME, text)])


def make_certificates(folder: Path, days: int = 90) -> tuple[Path, Path, Path]:
    """(CA file, certificate chain, key) for 127.0.0.1, valid `days` more days."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("Test CA")).issuer_name(_name("Test CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(_name("app")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(leaf.public_bytes(pem))
    paths[2].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


def _handler(page: dict, asset: dict, compress: bool, redirect_to: str | None):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if redirect_to is not None:
                self.send_response(308)
                self.send_header("Location", redirect_to + self.path)
                self.end_headers()
                return
            body = b"console.log(1);\n" * 64 if self.path.startswith("/static/") else b"<html>app</html>"
            headers = dict(asset if self.path.startswith("/static/") else page)
            if compress and "gzip" in self.headers.get("Accept-Encoding", ""):
                body, headers["Content-Encoding"] = gzip.compress(body, mtime=0), "gzip"
            self.send_response(200)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass
    return Handler


@contextlib.contextmanager
def serving(folder: Path, page=GOOD_PAGE, asset=GOOD_ASSET, compress=True, redirect=True, days=90):
    """Yields (https base URL, http port, CA file); counts requests in `requests` of the yielded dict."""
    ca, cert, key = make_certificates(folder, days)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(page, asset, compress, None))
    tls.socket = context.wrap_socket(tls.socket, server_side=True)
    base = f"https://127.0.0.1:{tls.server_address[1]}"
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler({}, {}, False, base if redirect else None))
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (tls, plain)]
    for t in threads:
        t.start()
    try:
        yield {"url": base, "http_port": plain.server_address[1], "ca": ca}
    finally:
        for server in (tls, plain):
            server.shutdown()
            server.server_close()
        for t in threads:
            t.join()
