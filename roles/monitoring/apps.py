"""The applications the alerts guard: `monitoring_apps` entries, each completed from the role-wide defaults."""

from __future__ import annotations

# an entry's key -> the role variable that gives its default
DEFAULTS = {
    "requests_metric": "monitoring_http_requests_metric",
    "status_label": "monitoring_http_status_label",
    "error_rate_threshold": "monitoring_error_rate_threshold",
    "error_rate_window": "monitoring_error_rate_window",
    "error_rate_for": "monitoring_error_rate_for",
    "down_for": "monitoring_app_down_for",
}


def applications(v: dict) -> list[dict]:
    """Each declared application with every key filled in (its own value, else the role-wide one). Pure."""
    apps = []
    for entry in v.get("monitoring_apps") or []:
        app = {"job": entry} if isinstance(entry, str) else dict(entry)
        for key, variable in DEFAULTS.items():
            if app.get(key) is None:
                app[key] = v[variable]
        apps.append(app)
    return apps
