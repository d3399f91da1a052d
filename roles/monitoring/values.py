"""kube-prometheus-stack's chart values, built as data and sized for a 2-4 GB VPS."""

from __future__ import annotations

ALERTMANAGER_SECRET = "vpskit-alertmanager"
GRAFANA_SECRET = "vpskit-grafana-admin"


def _resources(cpu: str, memory: str, limit: str) -> dict:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": limit}}


def chart_values(v: dict) -> dict:
    """Values for the pinned chart: small requests and limits, retention by time and size, K3s's layout. Pure."""
    storage = v["monitoring_prometheus_storage"]
    prometheus_spec = {
        "retention": v["monitoring_retention"],
        "retentionSize": v["monitoring_retention_size"],
        "resources": _resources("100m", "400Mi", v["monitoring_prometheus_memory"]),
        # pick up every PrometheusRule and ServiceMonitor, not only the chart's own
        "ruleSelectorNilUsesHelmValues": False,
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
    }
    if storage:
        prometheus_spec["storageSpec"] = {"volumeClaimTemplate": {"spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}}}}
    return {
        "defaultRules": {"create": True},
        # K3s runs these inside the one k3s process: their own scrape targets do not exist
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "prometheus": {"prometheusSpec": prometheus_spec},
        "alertmanager": {"alertmanagerSpec": {
            "useExistingSecret": True, "configSecret": ALERTMANAGER_SECRET,
            "retention": "120h", "resources": _resources("10m", "32Mi", "128Mi")}},
        "prometheusOperator": {"resources": _resources("50m", "64Mi", "256Mi")},
        "kube-state-metrics": {"resources": _resources("10m", "32Mi", "128Mi")},
        "prometheus-node-exporter": {"resources": _resources("10m", "16Mi", "64Mi")},
        "grafana": {
            "enabled": bool(v["monitoring_grafana_enabled"]),
            "admin": {"existingSecret": GRAFANA_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
            "resources": _resources("50m", "128Mi", "256Mi"),
            "persistence": {"enabled": False},
            "additionalDataSources": [*_loki(v), *(v.get("monitoring_grafana_datasources") or [])],
        },
    }


def _loki(v: dict) -> list[dict]:
    """Loki as a Grafana data source when the logging role is on."""
    if not v.get("logging_enabled"):
        return []
    return [{"name": "Loki", "type": "loki", "access": "proxy",
             "url": f"http://loki.{v.get('logging_namespace', 'logging')}.svc:3100"}]
