"""The outside checks against a real HTTPS server on loopback (webserver.py), with good and bad headers, a
certificate trusted or not, and nothing listening; and the judges on their own."""

from __future__ import annotations

import socket
import ssl

import pytest

from vpskit.audit.outside import fetch, judges
from vpskit.audit.outside.run import audit_asset, audit_page, audit_urls, urls_error
from vpskit.inventory.model import Host, Var
from tests.unit.audit.webserver import serving
from tests.unit.audit.workloads import DEFAULTS


def variables(server: dict, **more) -> dict:
    return {**DEFAULTS, "audit_http_port": server["http_port"], "audit_url_timeout_seconds": 5, **more}


def statuses(audit) -> dict[str, str]:
    return {r.item.id: r.finding.status for r in audit.results}


def trusting(server: dict) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server["ca"]))


def test_a_well_configured_site_passes_every_outside_item(tmp_path):
    with serving(tmp_path) as server:
        page = audit_page(server["url"] + "/", variables(server), trusting(server))
        asset = audit_asset(server["url"] + "/static/app.js", variables(server), trusting(server))
    assert set(statuses(page).values()) == {"pass"}, [r.finding for r in page.results]
    assert set(statuses(asset).values()) == {"pass"}, [r.finding for r in asset.results]
    cert = next(r.finding for r in page.results if r.item.id == "outside.certificate")
    assert "issued by Test CA" in cert.evidence and ("89 days" in cert.evidence or "90 days" in cert.evidence)
    assert page.connections == 3 and asset.connections == 1  # one request (or handshake) per check


def test_missing_headers_no_redirect_and_an_untrusted_certificate_fail(tmp_path):
    with serving(tmp_path, page={"X-Frame-Options": "ALLOWALL", "Strict-Transport-Security": "max-age=300",
                                 "Content-Security-Policy-Report-Only": "default-src 'self'"},
                 asset={"Cache-Control": "no-cache"}, compress=False, redirect=False) as server:
        page = audit_page(server["url"] + "/", variables(server))  # the system's CAs: the test CA is unknown
        asset = audit_asset(server["url"] + "/static/app.js", variables(server), trusting(server))
    found = {r.item.id: r.finding for r in page.results + asset.results}
    assert {k: f.status for k, f in found.items()} == {k: "fail" for k in found}
    assert "not trusted" in found["outside.certificate"].evidence
    assert "answers 200 without redirecting" in found["outside.https-redirect"].evidence
    assert "max-age below" in found["outside.hsts"].evidence
    assert "Report-Only" in found["outside.csp"].evidence
    assert "ALLOWALL" in found["outside.frame-options"].evidence


def test_a_certificate_expiring_soon_fails(tmp_path):
    with serving(tmp_path, days=5) as server:
        page = audit_page(server["url"] + "/", variables(server), trusting(server))
    assert statuses(page)["outside.certificate"] == "fail"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_nothing_listening_fails_every_item_quickly_with_the_reason():
    port = _free_port()
    audit = audit_page(f"https://127.0.0.1:{port}/", {**DEFAULTS, "audit_http_port": port,
                                                      "audit_url_timeout_seconds": 2})
    assert set(statuses(audit).values()) == {"fail"}
    assert all("Refused" in r.finding.evidence or "refused" in r.finding.evidence for r in audit.results)


def test_each_url_is_checked_once_across_hosts(tmp_path):
    with serving(tmp_path) as server:
        v = variables(server, audit_urls=[server["url"] + "/"], audit_static_assets=[server["url"] + "/static/a.js"])
        hosts = [Host(name, vars={k: Var(x, "test") for k, x in v.items()}) for name in ("web1", "web2")]
        audits = audit_urls(hosts, trusting(server))
    assert [a.host for a in audits] == [server["url"] + "/", server["url"] + "/static/a.js"]


def test_the_spec_check_of_the_url_lists():
    assert urls_error(["https://shop.example.com/", "http://x/"]) is None
    assert urls_error("https://x/") and "entries 1" in urls_error(["https://x/", "ftp://y"])


@pytest.mark.parametrize("headers, judge, status", [
    ({"content-security-policy": "frame-ancestors 'self'"}, judges.framing, "pass"),
    ({"x-frame-options": "sameorigin"}, judges.framing, "pass"),
    ({"x-content-type-options": "nosniff"}, judges.nosniff, "pass"),
    ({}, judges.nosniff, "fail"),
    ({"cache-control": "max-age=600"}, judges.caching, "fail"),
    ({"cache-control": "public, max-age=86400"}, judges.caching, "pass"),
    ({"cache-control": "no-store, immutable"}, judges.caching, "fail"),
    ({"content-encoding": "br"}, judges.compression, "pass"),
    ({"strict-transport-security": 'max-age="31536000"'}, judges.hsts, "pass"),
])
def test_header_judges(headers, judge, status):
    assert judge(fetch.Response(200, headers), DEFAULTS).status == status


def test_a_redirect_to_plain_http_is_no_redirect():
    found = judges.https_redirect(fetch.Response(301, {"location": "http://shop.example.com/"}), DEFAULTS)
    assert found.status == "fail" and "→ http://shop.example.com/" in found.evidence
