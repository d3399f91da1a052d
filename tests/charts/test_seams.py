"""The seams between vpskit and the charts, as properties of what the real charts render with vpskit's values: each
one a place where the stack would be silently broken on a real cluster while every object is valid."""

from urllib.parse import urlparse

import pytest
import yaml

from vpskit.builtin_roles.certs import KUBERNETES_SUPPORT
from vpskit.builtin_roles.monitoring.values import ALERTMANAGER_SECRET, NODE_EXPORTER_CHART_ARGS
from vpskit.roleloader import RoleLibrary

from .crds import is_custom
from .written import (INVENTORIES, chart_crds, documents, helm_charts, kubernetes_minor, own_objects, render_chart,
                      render_traefik, variables)

# the order the first server's play installs them in (roles/bootstrap.yml: k3s, certs, monitoring, logging)
INSTALL_ORDER = ("cert-manager", "kube-prometheus-stack", "loki", "alloy")
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


def rendered(inventory: str, name: str) -> list[dict]:
    chart = next(c for c in helm_charts(inventory) if c["metadata"]["name"] == name)
    return render_chart(chart)


def one(objects: list[dict], kind: str, name_part: str = "") -> dict:
    found = [o for o in objects if o["kind"] == kind and name_part in o["metadata"]["name"]]
    assert len(found) == 1, f"{len(found)} {kind} named *{name_part}*: {[o['metadata']['name'] for o in found]}"
    return found[0]


def pod_spec(workload: dict) -> dict:
    spec = workload["spec"]
    return spec["jobTemplate"]["spec"]["template"]["spec"] if workload["kind"] == "CronJob" else spec["template"]["spec"]


def selects(selector: dict | None, labels: dict) -> bool:
    """A Kubernetes label selector against labels ({} selects everything, None nothing)."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for rule in selector.get("matchExpressions") or []:
        value, op = labels.get(rule["key"]), rule["operator"]
        if (op == "In" and value not in rule["values"]) or (op == "NotIn" and value in rule["values"]) \
                or (op == "Exists" and value is None) or (op == "DoesNotExist" and value is not None):
            return False
    return True


def host_path_of(workload: dict, container: dict, path: str) -> str | None:
    """The host path a container path is, through the container's hostPath mounts; None when not mounted."""
    volumes = {v["name"]: v for v in pod_spec(workload).get("volumes", [])}
    best = None
    for mount in container.get("volumeMounts", []):
        root = mount["mountPath"].rstrip("/")
        if (path == root or path.startswith(root + "/")) and "hostPath" in volumes.get(mount["name"], {}):
            if best is None or len(root) > len(best[0]):
                best = (root, volumes[mount["name"]]["hostPath"]["path"].rstrip("/"))
    if best is None:
        return None
    return (best[1] + path[len(best[0]):]) or "/"


@pytest.mark.parametrize("inventory", ["defaults", "full"])
def test_the_backup_metrics_reach_prometheus_through_node_exporters_textfile_collector(inventory):
    daemonset = one(rendered(inventory, "kube-prometheus-stack"), "DaemonSet", "node-exporter")
    container = next(c for c in pod_spec(daemonset)["containers"] if c["name"] == "node-exporter")
    folders = [a.split("=", 1)[1] for a in container["args"] if a.startswith("--collector.textfile.directory=")]
    assert len(folders) == 1, f"node-exporter has no textfile collector folder: {container['args']}"
    assert host_path_of(daemonset, container, folders[0]) == variables(inventory)["backups_textfile_dir"]


def test_node_exporter_keeps_every_argument_the_chart_gives_it():
    chart = next(c for c in helm_charts("defaults") if c["metadata"]["name"] == "kube-prometheus-stack")
    bare = {**chart, "spec": {**chart["spec"], "valuesContent": "{}"}}
    daemonset = one(render_chart(bare), "DaemonSet", "node-exporter")
    chart_args = next(c for c in pod_spec(daemonset)["containers"] if c["name"] == "node-exporter")["args"]
    ours = one(rendered("defaults", "kube-prometheus-stack"), "DaemonSet", "node-exporter")
    assert set(chart_args) <= set(pod_spec(ours)["containers"][0]["args"])
    assert set(NODE_EXPORTER_CHART_ARGS) <= set(chart_args), "the chart's own arguments changed: update them"


@pytest.mark.parametrize("inventory", sorted(INVENTORIES))
def test_every_container_of_every_chart_has_requests_and_a_memory_limit(inventory):
    missing = []
    objects = [o for chart in helm_charts(inventory) for o in render_chart(chart)]
    for workload in (o for o in objects if o["kind"] in WORKLOADS):
        pod = pod_spec(workload)
        for container in pod.get("initContainers", []) + pod["containers"]:
            resources = container.get("resources") or {}
            if not (resources.get("requests", {}).get("cpu") and resources.get("requests", {}).get("memory")
                    and resources.get("limits", {}).get("memory")):
                missing.append(f"{workload['kind']} {workload['metadata']['name']}: {container['name']}")
    for custom in (o for o in objects if o["kind"] in ("Prometheus", "Alertmanager")):
        if not custom["spec"].get("resources", {}).get("limits", {}).get("memory"):
            missing.append(f"{custom['kind']} {custom['metadata']['name']}")
    operator = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("-operator")]
    for deployment in operator:
        args = pod_spec(deployment)["containers"][0]["args"]
        for flag in ("--config-reloader-cpu-request=", "--config-reloader-memory-request=",
                     "--config-reloader-memory-limit="):
            if f"{flag}0" in args:
                missing.append(f"the config-reloader sidecars the operator adds ({flag}0)")
    assert not missing, "without requests and a memory limit: " + "; ".join(missing)


def test_alertmanager_reads_vpskits_secret():
    alertmanager = one(rendered("full", "kube-prometheus-stack"), "Alertmanager")
    assert alertmanager["spec"]["configSecret"] == ALERTMANAGER_SECRET
    secret = next(d for d in documents("full") if d["kind"] == "Secret" and d["metadata"]["name"] == ALERTMANAGER_SECRET)
    assert secret["metadata"]["namespace"] == alertmanager["metadata"]["namespace"]
    # the operator reads this key of the Secret (prometheus-operator: alertmanagerConfigFile)
    assert "alertmanager.yaml" in secret["stringData"]


@pytest.mark.parametrize("kind, selector, namespace_selector", [
    ("PrometheusRule", "ruleSelector", "ruleNamespaceSelector"),
    ("ServiceMonitor", "serviceMonitorSelector", "serviceMonitorNamespaceSelector"),
])
def test_prometheus_selects_vpskits_rules_and_monitors(kind, selector, namespace_selector):
    objects = rendered("full", "kube-prometheus-stack")
    prometheus = one(objects, "Prometheus")["spec"]
    candidates = [o for o in own_objects("full") + objects if o["kind"] == kind
                  and (o["metadata"]["name"].startswith("vpskit") or o["metadata"]["name"] == "cert-manager")]
    assert candidates
    for item in candidates:
        assert selects(prometheus.get(selector), item["metadata"].get("labels") or {}), item["metadata"]["name"]
        assert prometheus.get(namespace_selector) == {} or item["metadata"]["namespace"] == \
            one(objects, "Prometheus")["metadata"]["namespace"], item["metadata"]["name"]


def test_cert_managers_metrics_are_scraped_by_a_monitor_that_matches_its_service():
    monitor = one(rendered("full", "kube-prometheus-stack"), "ServiceMonitor", "cert-manager")["spec"]
    cert_manager = rendered("full", "cert-manager")
    services = [s for s in cert_manager if s["kind"] == "Service"
                and s["metadata"]["namespace"] in monitor["namespaceSelector"]["matchNames"]
                and selects(monitor["selector"], s["metadata"].get("labels") or {})]
    assert len(services) == 1, [s["metadata"]["name"] for s in services]
    assert {e["port"] for e in monitor["endpoints"]} <= {p["name"] for p in services[0]["spec"]["ports"]}


def _service_for(url: str, objects: list[dict]) -> dict:
    parsed = urlparse(url)
    name, namespace = parsed.hostname.split(".")[:2]
    matches = [s for s in objects if s["kind"] == "Service" and s["metadata"]["name"] == name
               and s["metadata"]["namespace"] == namespace and parsed.port in [p["port"] for p in s["spec"]["ports"]]]
    assert matches, f"{url}: the Loki chart makes no Service {name}.{namespace} on port {parsed.port}"
    return matches[0]


def test_grafanas_loki_data_source_is_the_service_the_loki_chart_makes():
    configmaps = [o for o in rendered("defaults", "kube-prometheus-stack") if o["kind"] == "ConfigMap"
                  and o["metadata"].get("labels", {}).get("grafana_datasource")]
    sources = [s for cm in configmaps for text in cm["data"].values()
               for s in (yaml.safe_load(text) or {}).get("datasources", [])]
    loki = [s for s in sources if s["type"] == "loki"]
    assert len(loki) == 1, sources
    loki_objects = rendered("defaults", "loki")
    service = _service_for(loki[0]["url"], loki_objects)
    pods = one(loki_objects, "StatefulSet", "loki")["spec"]["template"]["metadata"]["labels"]
    assert selects({"matchLabels": service["spec"]["selector"]}, pods), "the Service selects no Loki pod"


def test_alloy_pushes_to_the_service_the_loki_chart_makes():
    config = yaml.safe_load(one(rendered("defaults", "alloy"), "ConfigMap")["data"]["config.alloy"]
                            .split('url = "', 1)[1].split('"', 1)[0])
    _service_for(config, rendered("defaults", "loki"))


def test_alloys_daemonset_can_read_what_its_config_reads():
    objects = rendered("defaults", "alloy")
    daemonset = one(objects, "DaemonSet", "alloy")
    container = next(c for c in pod_spec(daemonset)["containers"] if c["name"] == "alloy")
    config = one(objects, "ConfigMap")["data"]["config.alloy"]
    journal = config.split('path          = "', 1)[1].split('"', 1)[0]
    assert host_path_of(daemonset, container, journal) == journal, "the journal folder is not the host's"
    # discovery by node: the config filters on HOSTNAME, which must be the node's name
    env = {e["name"]: e for e in container.get("env", [])}
    assert env["HOSTNAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    # loki.source.kubernetes reads pod logs through the API: the chart's ClusterRole must allow it
    rules = one(objects, "ClusterRole")["rules"]
    assert any("pods/log" in r.get("resources", []) and "get" in r["verbs"] for r in rules)


def test_stored_logs_and_metrics_outlive_the_release():
    """Switching a role off deletes its HelmChart (helm uninstall); a failed upgrade with K3s's default
    failurePolicy (reinstall) uninstalls too: what holds data must not go with the release."""
    for chart in helm_charts("full"):
        assert chart["spec"].get("failurePolicy") == "abort", chart["metadata"]["name"]
    for name in ("loki", "kube-prometheus-stack"):
        for o in rendered("full", name):
            if o["kind"] == "StatefulSet" or o["kind"] == "Prometheus":
                policy = o["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
                assert policy.get("whenDeleted", "Retain") == "Retain", f"{o['kind']} {o['metadata']['name']}"
    loki = one(rendered("full", "loki"), "StatefulSet", "loki")
    assert [t["spec"]["resources"]["requests"]["storage"] for t in loki["spec"]["volumeClaimTemplates"]] == ["5Gi"]
    prometheus = one(rendered("full", "kube-prometheus-stack"), "Prometheus")
    assert prometheus["spec"]["storage"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "10Gi"


@pytest.mark.parametrize("inventory", ["defaults", "full"])
def test_no_chart_renders_a_kind_whose_crd_a_later_chart_installs(inventory):
    """K3s's helm-install job fails on a kind the cluster does not know yet and retries for ever: every custom
    kind a chart renders comes with it, with K3s (HelmChart, Traefik's), or with a chart installed before it."""
    known = {("helm.cattle.io/v1", "HelmChart"), ("helm.cattle.io/v1", "HelmChartConfig")}
    known |= {(f"{c['spec']['group']}/{v['name']}", c["spec"]["names"]["kind"])
              for c in render_traefik(inventory, include_crds=True) if c["kind"] == "CustomResourceDefinition"
              for v in c["spec"]["versions"]}
    charts = {c["metadata"]["name"]: c for c in helm_charts(inventory)}
    for name in INSTALL_ORDER:
        objects = render_chart(charts[name], include_crds=True)
        known |= {(f"{c['spec']['group']}/{v['name']}", c["spec"]["names"]["kind"]) for c in objects
                  if c["kind"] == "CustomResourceDefinition" for v in c["spec"]["versions"]}
        custom = {(o["apiVersion"], o["kind"]) for o in objects
                  if is_custom(o["apiVersion"])}
        assert custom <= known, f"{name} renders {sorted(custom - known)} before any chart installed its CRD"


def test_the_pinned_k3s_is_a_kubernetes_cert_manager_supports():
    pinned = RoleLibrary().load("certs").defaults["certs_chart_version"].value
    release = ".".join(pinned.split(".")[:2])
    assert release in KUBERNETES_SUPPORT, f"cert-manager {pinned}: no supported Kubernetes range recorded"
    low, high = (tuple(int(p) for p in v.split(".")) for v in KUBERNETES_SUPPORT[release])
    assert low <= tuple(int(p) for p in kubernetes_minor().split(".")) <= high, (
        f"cert-manager {release} supports Kubernetes {low}..{high}, not the pinned K3s's {kubernetes_minor()}")


def test_the_charts_crds_are_read():
    assert len(chart_crds()) > 20


def _job_of(monitor: dict, service: dict) -> str:
    """The `job` label Prometheus gives a ServiceMonitor's targets: the Service's label named by jobLabel, else the
    Service's name (prometheus-operator's generated relabelling)."""
    label = monitor["spec"].get("jobLabel")
    return (service["metadata"].get("labels") or {}).get(label) if label else service["metadata"]["name"]


@pytest.mark.parametrize("variable, chart, monitor_name", [
    ("monitoring_node_jobs", "kube-prometheus-stack", "node-exporter"),
    ("monitoring_certmanager_job", "cert-manager", "cert-manager"),
])
def test_the_jobs_vpskits_rules_select_are_the_jobs_the_charts_scrape(variable, chart, monitor_name):
    monitoring = rendered("full", "kube-prometheus-stack")
    monitor = one(monitoring, "ServiceMonitor", monitor_name)
    services = [s for s in rendered("full", chart) if s["kind"] == "Service"
                and selects(monitor["spec"]["selector"], s["metadata"].get("labels") or {})]
    assert len(services) == 1
    wanted = variables("full")[variable]
    assert _job_of(monitor, services[0]) in (wanted if isinstance(wanted, list) else [wanted])
