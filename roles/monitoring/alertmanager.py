"""Alertmanager's configuration built as data from the inventory's receivers (Slack-compatible, e-mail, webhook)."""

from __future__ import annotations

from vpskit.errors import VpskitError
from .receivers import receivers_error

NULL = "null"
# kube-prometheus-stack's own always-firing and inhibition helpers: never sent to a person
SILENT = ("Watchdog", "InfoInhibitor")


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


def alertmanager_config(v: dict) -> dict:
    """alertmanager.yml: every receiver of the inventory gets every alert; secrets stay in the values. Pure."""
    problem = receivers_error(v["monitoring_receivers"])
    if problem:
        raise VpskitError(f"monitoring_receivers {problem}")
    team: dict = {"name": "vpskit"}
    for item in v["monitoring_receivers"]:
        key, entry = _config(item)
        team.setdefault(key, []).append(entry)
    route = {"receiver": "vpskit" if len(team) > 1 else NULL,
             "group_by": ["alertname", "job"],
             "group_wait": v["monitoring_group_wait"], "group_interval": v["monitoring_group_interval"],
             "repeat_interval": v["monitoring_repeat_interval"],
             "routes": [{"receiver": NULL, "matchers": [f'alertname="{name}"']} for name in SILENT]}
    return {"route": route, "receivers": [{"name": NULL}, team] if len(team) > 1 else [{"name": NULL}]}
