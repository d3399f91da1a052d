"""Pure judgements of what fetch.py brought back: each (Response or Certificate, variables) → Finding."""

from __future__ import annotations

import re
import time

from ..model import Finding
from .fetch import Certificate, Response


def _unreached(r: Response) -> Finding | None:
    return Finding.fail(f"no answer: {r.error}") if r.error else None


def https_redirect(r: Response, v: dict) -> Finding:
    """The plain-HTTP request is redirected (301, 302, 307, 308) to an https:// URL."""
    location = r.headers.get("location", "")
    if r.error:
        return Finding.fail(f"plain HTTP does not answer ({r.error}): users typing the name get nothing")
    if r.status in (301, 302, 307, 308) and location.startswith("https://"):
        return Finding.ok(f"HTTP {r.status} → {location}")
    return Finding.fail(f"plain HTTP answers {r.status}" + (f" → {location}" if location else " without redirecting"))


def certificate(c: Certificate, v: dict, now: float | None = None) -> Finding:
    if c.error:
        return Finding.fail(c.error)
    days = int((c.not_after - (now or time.time())) // 86400)
    text = f"issued by {c.issuer}, {days} days left"
    return Finding.fail(text) if days < v["audit_cert_min_days"] else Finding.ok(text)


def hsts(r: Response, v: dict) -> Finding:
    value = r.headers.get("strict-transport-security")
    if not value:
        return _unreached(r) or Finding.fail("no Strict-Transport-Security header")
    found = re.search(r"max-age\s*=\s*\"?(\d+)", value, re.I)
    age, want = (int(found.group(1)) if found else 0), v["audit_hsts_min_age_seconds"]
    return Finding.ok(value) if age >= want else Finding.fail(f"{value} (max-age below {want})")


def csp(r: Response, v: dict) -> Finding:
    value = r.headers.get("content-security-policy")
    if not value:
        only = r.headers.get("content-security-policy-report-only")
        return _unreached(r) or Finding.fail("only Content-Security-Policy-Report-Only: nothing enforced" if only
                                             else "no Content-Security-Policy header")
    return Finding.ok(value[:200])


def framing(r: Response, v: dict) -> Finding:
    """X-Frame-Options DENY/SAMEORIGIN, or CSP frame-ancestors (which browsers prefer when both are there)."""
    ancestors = re.search(r"frame-ancestors\s+([^;]+)", r.headers.get("content-security-policy", ""), re.I)
    if ancestors:
        return Finding.ok(f"frame-ancestors {ancestors.group(1).strip()}")
    value = r.headers.get("x-frame-options", "")
    if value.strip().upper() in ("DENY", "SAMEORIGIN"):
        return Finding.ok(f"X-Frame-Options: {value}")
    return _unreached(r) or Finding.fail(f"X-Frame-Options: {value}" if value else
                                         "neither X-Frame-Options nor CSP frame-ancestors: the page can be framed")


def nosniff(r: Response, v: dict) -> Finding:
    value = r.headers.get("x-content-type-options", "")
    if value.strip().lower() == "nosniff":
        return Finding.ok("X-Content-Type-Options: nosniff")
    return _unreached(r) or Finding.fail(f"X-Content-Type-Options: {value}" if value else "no X-Content-Type-Options")


def compression(r: Response, v: dict) -> Finding:
    value = r.headers.get("content-encoding", "")
    if value.lower() in ("gzip", "br", "zstd", "deflate"):
        return Finding.ok(f"Content-Encoding: {value}")
    return _unreached(r) or Finding.fail(f"HTTP {r.status}, not compressed (asked for gzip, br)")


def caching(r: Response, v: dict) -> Finding:
    """A static asset can be cached for at least audit_static_min_max_age_seconds (or is immutable)."""
    value = r.headers.get("cache-control", "")
    found = re.search(r"max-age\s*=\s*(\d+)", value, re.I)
    want = v["audit_static_min_max_age_seconds"]
    if "no-store" not in value.lower() and ("immutable" in value.lower() or (found and int(found.group(1)) >= want)):
        return Finding.ok(f"Cache-Control: {value}")
    return _unreached(r) or Finding.fail(f"Cache-Control: {value} (want max-age ≥ {want})" if value
                                         else "no Cache-Control header")
