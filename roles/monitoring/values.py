"""kube-prometheus-stack's chart values, built as data and sized for a 2-4 GB VPS."""

from __future__ import annotations

ALERTMANAGER_SECRET = "vpskit-alertmanager"
GRAFANA_SECRET = "vpskit-grafana-admin"
# kube-prometheus-stack's own node-exporter arguments (its values.yaml, 75.8.1): a list given in the values replaces
# them, so they are repeated here (tests/charts checks the rendered DaemonSet keeps every one)
NODE_EXPORTER_CHART_ARGS = (
    "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|var/lib/docker/.+|var/lib/kubelet/.+)($|/)",
    "--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs"
    "|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs"
    "|sysfs|tracefs|erofs)$",
)
# the node-exporter chart mounts the host's / here (hostRootFsMount)
HOST_ROOT = "/host/root"


def _resources(cpu: str, memory: str, limit: str) -> dict:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": limit}}


def chart_values(v: dict) -> dict:
    """Values for the pinned chart: small requests and limits, retention by time and size, K3s's layout. Pure."""
    storage = v["monitoring_prometheus_storage"]
    prometheus: dict = {}
    prometheus_spec = {
        "retention": v["monitoring_retention"],
        "retentionSize": v["monitoring_retention_size"],
        "resources": _resources("100m", "400Mi", v["monitoring_prometheus_memory"]),
        # pick up every PrometheusRule and ServiceMonitor, not only the chart's own
        "ruleSelectorNilUsesHelmValues": False,
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
    }
    if v.get("certs_enabled"):
        prometheus["additionalServiceMonitors"] = [_cert_manager_monitor(v)]
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
        "prometheus": {**prometheus, "prometheusSpec": prometheus_spec},
        "alertmanager": {"alertmanagerSpec": {
            "useExistingSecret": True, "configSecret": ALERTMANAGER_SECRET,
            "retention": "120h", "resources": _resources("10m", "32Mi", "128Mi")}},
        "prometheusOperator": {
            "resources": _resources("50m", "64Mi", "256Mi"),
            # the sidecar the operator adds to the Prometheus and Alertmanager pods
            "prometheusConfigReloader": {"resources": _resources("10m", "16Mi", "64Mi")},
            # the jobs that make and patch the admission webhook's certificate
            "admissionWebhooks": {"patch": {"resources": _resources("10m", "16Mi", "64Mi")}}},
        "kube-state-metrics": {"resources": _resources("10m", "32Mi", "128Mi")},
        "prometheus-node-exporter": {"resources": _resources("10m", "16Mi", "64Mi"),
                                     "extraArgs": _node_exporter_args(v)},
        "grafana": {
            "enabled": bool(v["monitoring_grafana_enabled"]),
            "admin": {"existingSecret": GRAFANA_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
            "resources": _resources("50m", "128Mi", "256Mi"),
            "sidecar": {"resources": _resources("10m", "32Mi", "128Mi")},
            "persistence": {"enabled": False},
            "additionalDataSources": [*_loki(v), *(v.get("monitoring_grafana_datasources") or [])],
        },
    }


def _node_exporter_args(v: dict) -> list[str]:
    """The chart's arguments, and the textfile collector reading the folder the backups role writes its metrics to
    (the chart's node-exporter has no textfile directory of its own)."""
    args = list(NODE_EXPORTER_CHART_ARGS)
    if v.get("backups_textfile_dir"):
        args.append(f"--collector.textfile.directory={HOST_ROOT}{v['backups_textfile_dir']}")
    return args


def _cert_manager_monitor(v: dict) -> dict:
    """cert-manager's metrics, scraped through a ServiceMonitor this chart makes: one made by cert-manager's chart
    would need this chart's CRDs before they exist (the certs role installs first), and its install would retry
    for ever."""
    return {"name": "cert-manager",
            "namespaceSelector": {"matchNames": [v.get("certs_namespace", "cert-manager")]},
            "selector": {"matchLabels": {"app.kubernetes.io/name": "cert-manager",
                                         "app.kubernetes.io/instance": "cert-manager",
                                         "app.kubernetes.io/component": "controller"}},
            "endpoints": [{"port": "http-metrics", "interval": "60s"}]}


def _loki(v: dict) -> list[dict]:
    """Loki as a Grafana data source when the logging role is on."""
    if not v.get("logging_enabled"):
        return []
    return [{"name": "Loki", "type": "loki", "access": "proxy",
             "url": f"http://loki.{v.get('logging_namespace', 'logging')}.svc:3100"}]
