"""The outside checks of the listed URLs, as audits beside the hosts' (one per URL): a page's redirect, certificate
and security headers from one request each; a static asset's compression and caching from one request."""

from __future__ import annotations

import ssl
import urllib.parse

from ...inventory.formats import http_url_error
from ..model import Finding, HostAudit, Item, ItemResult
from . import fetch, judges


def _item(key: str, severity: str, title: str, fix: str) -> Item:
    return Item(f"outside.{key}", "outside", severity, title, fix, judge=lambda p, v: Finding.na(""))


REDIRECT = _item("https-redirect", "critical", "HTTP redirects to HTTPS",
                 "invoke certs (certs_https_redirect: true), or a redirect in the ingress")
CERT = _item("certificate", "critical", "Certificate trusted and not expiring soon",
             "invoke certs; check cert-manager's Certificate and ClusterIssuer")
HEADERS = [
    (_item("hsts", "warning", "Strict-Transport-Security",
           "Traefik Middleware headers: {stsSeconds: 31536000, stsIncludeSubdomains: true}"), judges.hsts),
    (_item("csp", "warning", "Content-Security-Policy",
           "Middleware headers.contentSecurityPolicy: \"default-src 'self'; frame-ancestors 'none'\""), judges.csp),
    (_item("frame-options", "warning", "X-Frame-Options or frame-ancestors",
           "Middleware headers: {frameDeny: true} (or CSP frame-ancestors)"), judges.framing),
    (_item("nosniff", "warning", "X-Content-Type-Options: nosniff",
           "Middleware headers: {contentTypeNosniff: true}"), judges.nosniff),
]
ASSET = [
    (_item("compression", "info", "Static asset compressed", "a Traefik compress Middleware on the route"),
     judges.compression),
    (_item("cache", "info", "Static asset cacheable",
           "Cache-Control: public, max-age=31536000, immutable on fingerprinted assets"), judges.caching),
]


def urls_error(value) -> str | None:
    """Why value is not a list of http(s) URLs, else None (the spec's check of audit_urls)."""
    if not isinstance(value, list):
        return f"must be a list of URLs, got {type(value).__name__}"
    bad = [i for i, url in enumerate(value) if http_url_error(url)]
    return f"entries {', '.join(map(str, bad))} must be http:// or https:// URLs" if bad else None


def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


def audit_page(url: str, v: dict, context: ssl.SSLContext | None = None) -> HostAudit:
    timeout = float(v["audit_url_timeout_seconds"])
    plain = fetch.get(url, timeout, scheme="http", port=int(v["audit_http_port"]))
    results = [ItemResult(REDIRECT, judges.https_redirect(plain, v))]
    if urllib.parse.urlsplit(url).scheme != "https":
        results.append(ItemResult(CERT, Finding.fail("the URL is plain http://: list its https:// URL")))
        page = plain
    else:
        cert = fetch.certificate(url, timeout, context)
        results.append(ItemResult(CERT, judges.certificate(cert, v)))
        # the certificate item already fails an untrusted one: the headers are still worth reading
        page = fetch.get(url, timeout, _unverified() if cert.error.startswith("not trusted") else context)
    results += [ItemResult(item, judge(page, v)) for item, judge in HEADERS]
    return HostAudit(url, results, connections=len(results) - len(HEADERS) + 1, commands=0)


def audit_asset(url: str, v: dict, context: ssl.SSLContext | None = None) -> HostAudit:
    """Its headers only: trust is the pages' certificate item, so an asset is read without verifying."""
    found = fetch.get(url, float(v["audit_url_timeout_seconds"]), context or _unverified(),
                      headers={"Accept-Encoding": "gzip, br"})
    return HostAudit(url, [ItemResult(item, judge(found, v)) for item, judge in ASSET], connections=1, commands=0)


def audit_urls(hosts, context: ssl.SSLContext | None = None) -> list[HostAudit]:
    """Each URL the selected hosts list (audit_urls, audit_static_assets), checked once, in the order listed."""
    pages, assets, chosen = {}, {}, {}
    for host in hosts:
        v = host.values
        for url in v.get("audit_urls") or []:
            pages.setdefault(url, v)
        for url in v.get("audit_static_assets") or []:
            assets.setdefault(url, v)
    for url, v in pages.items():
        chosen[url] = audit_page(url, v, context)
    for url, v in assets.items():
        chosen.setdefault(url, audit_asset(url, v, context))
    return list(chosen.values())
