"""Checklist items no host can answer: listed as manual, with what to check, so the report covers it all."""

from __future__ import annotations

from .model import Item

MANUAL = [
    ("ops.on-call", "critical", "On-call rotation", "Who is paged when an alert fires, at night and on holidays? "
     "Is the rotation written down, and does Alertmanager's receiver reach that person?"),
    ("ops.runbooks", "warning", "Runbooks for the critical alerts", "For each critical alert, a page that says what "
     "it means, how to confirm it and the first steps to take."),
    ("ops.incident", "warning", "Incident process", "How an incident is declared, who leads it, where it is "
     "discussed, and that a blameless post-mortem follows."),
    ("ops.secrets", "warning", "Secrets kept off the servers", "The K3s token, restic password and alerting "
     "credentials are in a password manager or secret store, not only on the hosts."),
    ("ops.load-test", "info", "Load tested", "The application was load tested at expected peak traffic, and the "
     "headroom it left was written down."),
]


def items(v: dict) -> list[Item]:
    return [Item(key, "operations", severity, title, "a team decision, written down", prompt=prompt, rank=20 + 10 * n)
            for n, (key, severity, title, prompt) in enumerate(MANUAL)]
