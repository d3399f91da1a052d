"""The shapes of the monitoring role's structured variables (receivers, applications, job lists), checked at
inventory load through the role's spec.yml."""

from __future__ import annotations

import re

# Alertmanager receiver types: required keys, optional keys
RECEIVER_KEYS = {
    "slack": ({"url"}, {"channel", "send_resolved"}),
    "email": ({"to", "from", "smarthost"}, {"username", "password", "require_tls", "send_resolved"}),
    "webhook": ({"url"}, {"send_resolved", "max_alerts"}),
}
SEVERITIES = ("critical", "warning", "info")


def receivers_error(receivers) -> str | None:
    """Why a monitoring_receivers list is malformed, else None. Pure."""
    if not isinstance(receivers, list):
        return f"must be a list of receivers, got {type(receivers).__name__}"
    for index, item in enumerate(receivers):
        if not isinstance(item, dict):
            return f"[{index}] must be a mapping with a type ({', '.join(RECEIVER_KEYS)})"
        kind = item.get("type")
        if kind not in RECEIVER_KEYS:
            return f"[{index}]: type must be one of {', '.join(RECEIVER_KEYS)}, got {kind!r}"
        required, optional = RECEIVER_KEYS[kind]
        missing = sorted(required - set(item))
        if missing:
            return f"[{index}] ({kind}): missing {', '.join(missing)}"
        unknown = sorted(set(item) - required - optional - {"type", "severities"})
        if unknown:
            known = sorted(required | optional | {"severities"})
            return f"[{index}] ({kind}): unknown key {unknown[0]!r} (known: {', '.join(known)})"
        wanted = item.get("severities", list(SEVERITIES[:2]))
        if not (isinstance(wanted, list) and wanted and set(wanted) <= set(SEVERITIES)):
            return f"[{index}] ({kind}): severities must be a non-empty list of {', '.join(SEVERITIES)}, got {wanted!r}"
    return None


# values that go into PromQL strings: Prometheus's own syntax for label values we write, metric and label names
PROM_JOB = re.compile(r"^[A-Za-z0-9_.:/-]{1,100}$")
PROM_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
PROM_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
PROM_DURATION = re.compile(r"^(?:\d+(?:ms|s|m|h|d|w|y))+$")
APP_KEYS = {"job", "requests_metric", "status_label", "error_rate_threshold", "error_rate_window", "error_rate_for",
            "down_for"}


def jobs_error(value) -> str | None:
    """Why value is not a list of Prometheus job names vpskit can put in a selector, else None."""
    if not isinstance(value, list):
        return f"must be a list of job names, got {type(value).__name__}"
    bad = [j for j in value if not (isinstance(j, str) and PROM_JOB.match(j))]
    return f"not job names (letters, digits, '_', '.', ':', '/', '-'): {', '.join(map(repr, bad))}" if bad else None


def apps_error(value) -> str | None:
    """Why a monitoring_apps list is malformed, else None: each entry a job name or a mapping with a job. Pure."""
    if not isinstance(value, list):
        return f"must be a list of applications, got {type(value).__name__}"
    for index, item in enumerate(value):
        entry = {"job": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or "job" not in entry:
            return f"[{index}] must be a job name or a mapping with a job"
        unknown = sorted(set(entry) - APP_KEYS)
        if unknown:
            return f"[{index}]: unknown key {unknown[0]!r} (known: {', '.join(sorted(APP_KEYS))})"
        checks = [("job", PROM_JOB), ("requests_metric", PROM_METRIC), ("status_label", PROM_LABEL),
                  ("error_rate_window", PROM_DURATION), ("error_rate_for", PROM_DURATION), ("down_for", PROM_DURATION)]
        for key, pattern in checks:
            if key in entry and not (isinstance(entry[key], str) and pattern.match(entry[key])):
                return f"[{index}] ({entry.get('job')}): {key} {entry[key]!r} is not a valid Prometheus {key.replace('_', ' ')}"
        threshold = entry.get("error_rate_threshold", 0.5)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold < 1:
            return f"[{index}] ({entry['job']}): error_rate_threshold must be a ratio between 0 and 1, got {threshold!r}"
    return None
