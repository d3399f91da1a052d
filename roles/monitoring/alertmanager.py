"""Alertmanager's configuration built as data: receivers by severity, inhibitions, and the dead man's switch.

Routing: critical and warning alerts reach every receiver (each may narrow that with `severities`), info alerts
only the receivers that ask for them; a critical alert silences the warning and info alerts of the same name and
namespace, and the chart's InfoInhibitor silences info alerts of its namespace. The chart's always-firing
Watchdog goes to `monitoring_heartbeat_url` (a healthchecks-style URL: silence there is the alarm) when one is
given, else nowhere.
"""

from __future__ import annotations

from vpskit.errors import VpskitError
from vpskit.inventory.formats import http_url_error

from .checks import SEVERITIES, receivers_error

NULL = "null"
TEAM = "vpskit"  # the audit reads this name in the manifest (a route to the inventory's receivers)
HEARTBEAT = "heartbeat"
WATCHDOG = "Watchdog"
INFO_INHIBITOR = "InfoInhibitor"
# alerts vpskit's own rules raise for a scrape job; the chart's TargetDown for the same job says it again
JOB_ALERTS = ("ApplicationDown", "DatabaseDown", "NodeDown")


def _config(item: dict) -> tuple[str, dict]:
    kind, resolved = item["type"], bool(item.get("send_resolved", True))
    if kind == "slack":
        entry = {"api_url": item["url"], "send_resolved": resolved}
        if item.get("channel"):
            entry["channel"] = item["channel"]
        return "slack_configs", entry
    if kind == "email":
        entry = {"to": item["to"], "from": item["from"], "smarthost": item["smarthost"],
                 "require_tls": bool(item.get("require_tls", True)), "send_resolved": resolved}
        if item.get("username"):
            entry.update(auth_username=item["username"], auth_password=item.get("password", ""))
        return "email_configs", entry
    entry = {"url": item["url"], "send_resolved": resolved}
    if item.get("max_alerts"):
        entry["max_alerts"] = int(item["max_alerts"])
    return "webhook_configs", entry


def receiver_name(severity: str) -> str:
    return TEAM if severity == "critical" else f"{TEAM}-{severity}"


def _receivers(v: dict) -> dict[str, dict]:
    """One Alertmanager receiver per severity, holding the inventory receivers that take it (maybe none)."""
    found = {s: {"name": receiver_name(s)} for s in SEVERITIES}
    for item in v["monitoring_receivers"]:
        key, entry = _config(item)
        for severity in item.get("severities", SEVERITIES[:2]):
            found[severity].setdefault(key, []).append(entry)
    return {s: r for s, r in found.items() if len(r) > 1}


def _heartbeat(v: dict) -> dict | None:
    url = v.get("monitoring_heartbeat_url")
    if not url:
        return None
    problem = http_url_error(url)
    if problem:
        raise VpskitError(f"monitoring_heartbeat_url {problem}")
    return {"name": HEARTBEAT, "webhook_configs": [{"url": url, "send_resolved": False}]}


def routes(v: dict, used: dict[str, dict], heartbeat: bool) -> list[dict]:
    watchdog = {"receiver": HEARTBEAT if heartbeat else NULL, "matchers": [f'alertname="{WATCHDOG}"']}
    if heartbeat:
        # every interval, whether or not anything changed: the heartbeat service expects a ping per period
        interval = v["monitoring_heartbeat_interval"]
        watchdog.update(group_by=["alertname"], group_wait="0s", group_interval=interval, repeat_interval=interval)
    found = [watchdog, {"receiver": NULL, "matchers": [f'alertname="{INFO_INHIBITOR}"']}]
    for severity in SEVERITIES:
        route = {"receiver": used[severity]["name"] if severity in used else NULL,
                 "matchers": [f'severity="{severity}"']}
        if severity in used:
            route["repeat_interval"] = v[f"monitoring_repeat_interval_{severity}"]
        found.append(route)
    return found


def inhibit_rules() -> list[dict]:
    return [
        {"source_matchers": ['severity="critical"'], "target_matchers": ['severity=~"warning|info"'],
         "equal": ["namespace", "alertname"]},
        {"source_matchers": ['severity="warning"'], "target_matchers": ['severity="info"'],
         "equal": ["namespace", "alertname"]},
        {"source_matchers": [f'alertname="{INFO_INHIBITOR}"'], "target_matchers": ['severity="info"'],
         "equal": ["namespace"]},
        {"source_matchers": [f'alertname=~"{"|".join(JOB_ALERTS)}"'], "target_matchers": ['alertname="TargetDown"'],
         "equal": ["job"]},
    ]


def alertmanager_config(v: dict) -> dict:
    """alertmanager.yml from the inventory's receivers and heartbeat; secrets stay in the values. Pure."""
    problem = receivers_error(v["monitoring_receivers"])
    if problem:
        raise VpskitError(f"monitoring_receivers {problem}")
    used = _receivers(v)
    heartbeat = _heartbeat(v)
    # an alert with no (or an unknown) severity is treated as critical: better sent than lost
    root = used.get("critical", {}).get("name", NULL)
    route = {"receiver": root, "group_by": ["alertname", "job"],
             "group_wait": v["monitoring_group_wait"], "group_interval": v["monitoring_group_interval"],
             "repeat_interval": v["monitoring_repeat_interval"],
             "routes": routes(v, used, bool(heartbeat))}
    receivers = [{"name": NULL}, *used.values(), *([heartbeat] if heartbeat else [])]
    return {"route": route, "inhibit_rules": inhibit_rules(), "receivers": receivers}
