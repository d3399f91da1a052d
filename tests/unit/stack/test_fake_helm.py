"""The fake K3s's helm controller with a real helm and real charts: a chart whose kind has no CRD yet keeps its job
retrying (never completed, never failed) until the chart with the CRD is in; a bad value fails each run with
helm's message; failurePolicy reinstall / abort / retry as klipper-helm applies it; what helm deletes on a reinstall,
an upgrade and a deleted HelmChart; a HelmChartConfig's values over the HelmChart's; without helm, the old
behaviour, said in the log."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.charts.tools import require_chart, require_helm
from tests.fakes.k3s.build import build_fake_k3s
from tests.fakes.k3s.fake import kinds
from tests.fakes.k3s.helm_tools import write_helm_tools
from tests.unit.stack.golden import GOLDEN
from tests.unit.planctx import cluster as inventory_cluster, member_context
from tests.unit.stack.test_chart_wait import run
from vpskit.builtin_roles import certs
from vpskit.builtin_roles.k3s.charts import chart_wait, parse, probe_command
from vpskit.builtin_roles.k3s.manifests import MANIFESTS, helm_chart, helm_chart_config, render
from vpskit.roleloader import RoleLibrary

DATA = "/var/lib/rancher/k3s"
TINY_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: tiny\nversion: 1.0.0\n",
    "values.yaml": "replicas: 1\nmonitor: false\n",
    "values.schema.json": json.dumps({"type": "object", "properties": {"replicas": {"type": "integer"}}}),
    "templates/objects.yaml": """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: tiny-data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: tiny-kept, annotations: {helm.sh/resource-policy: keep}}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: tiny}
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: tiny}}
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete}
  template:
    metadata: {labels: {app: tiny}}
    spec: {containers: [{name: tiny, image: busybox}]}
  volumeClaimTemplates:
    - metadata: {name: storage}
      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
{{- if .Capabilities.APIVersions.Has "example.org/v1/Widget" }}
---
apiVersion: example.org/v1
kind: Widget
metadata: {name: tiny}
{{- end }}
{{- if .Values.monitor }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: tiny}
spec: {selector: {matchLabels: {app: tiny}}, endpoints: [{port: http}]}
{{- end }}
""",
}

# a chart whose crds/ folder brings the Widget kind, and which makes a Widget itself
WIDGETS_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: widgets\nversion: 2.0.0\n",
    "values.schema.json": json.dumps({"type": "object", "properties": {"size": {"type": "integer"}}}),
    "crds/widget.yaml": """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.org}
spec:
  group: example.org
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
""",
    "templates/widget.yaml": "apiVersion: example.org/v1\nkind: Widget\nmetadata: {name: own}\n",
}


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    path = tmp_path_factory.mktemp("fake") / "k3s"
    build_fake_k3s("v1.36.4+k3s1", path)
    return path


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory):
    """A chart cache holding the real charts' links and a tiny chart packaged by the real helm."""
    helm = require_helm()
    folder = tmp_path_factory.mktemp("tiny")
    cache = folder / "cache"
    cache.mkdir()
    for chart, files in (("tiny", TINY_CHART), ("widgets", WIDGETS_CHART)):
        for name, text in files.items():
            (folder / chart / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / chart / name).write_text(text)
        done = subprocess.run([str(helm), "package", str(folder / chart), "-d", str(cache)], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    return cache


class Cluster:
    """A fake K3s server's data folder, its kubectl, its manifests, its helm tools file."""

    def __init__(self, binary: Path, root: Path):
        self.root = root
        self.kubectl = (f"FAKE_K3S_ROOT={shlex.quote(str(root))} {shlex.quote(sys.executable)} "
                        f"{shlex.quote(str(binary))} kubectl")

    def path(self, absolute: str) -> Path:
        path = Path(str(self.root) + absolute)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def tools(self, charts: Path | None = None) -> None:
        write_helm_tools(self.root, charts, backoff=0.1)

    def behave(self, **charts) -> None:
        self.path(f"{DATA}/fake-helm.yaml").write_text(yaml.safe_dump(charts))

    def manifest(self, name: str, text: str) -> None:
        path = self.path(f"{MANIFESTS}/{name}.yaml")
        path.write_text(text)
        os.utime(path)

    def sh(self, command: str) -> subprocess.CompletedProcess:
        return subprocess.run(["sh", "-c", f"{self.kubectl} {command}"], capture_output=True, text=True, timeout=120)

    def state(self, chart: str):
        probe = subprocess.run(["sh", "-c", probe_command(chart, "x", self.kubectl)], capture_output=True,
                               text=True, timeout=120)
        return parse(probe.stdout)

    def job(self, chart: str) -> dict:
        return json.loads(self.sh(f"-n kube-system get job helm-install-{chart} -o json").stdout)["status"]

    def runs(self, chart: str) -> list[dict]:
        return json.loads(self.path(f"{DATA}/fake-helm-state.json").read_text())["charts"][chart]["runs"]

    def release(self, chart: str) -> dict:
        return json.loads(self.path(f"{DATA}/fake-helm-state.json").read_text())["charts"][chart]["release"]

    def uninstalled(self) -> list[str]:
        path = self.path(f"{DATA}/fake-uninstalled.log")
        return path.read_text().splitlines() if path.exists() else []

    def until(self, chart: str, predicate, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while True:
            state = self.state(chart)
            if predicate(state) or time.monotonic() > deadline:
                return state
            time.sleep(0.2)


@pytest.fixture
def cluster(binary, tmp_path):
    return Cluster(binary, tmp_path / "root")


def pinned(role: str, key: str) -> str:
    return str(RoleLibrary().load(role).defaults[key].value)


def tiny(values: dict | None = None, **spec) -> str:
    chart = helm_chart("tiny", "tiny", "https://charts.example.org", "1.0.0", "apps", values or {})
    chart["spec"].update(spec)
    return render("test", [chart])


def test_a_servicemonitor_before_the_prometheus_crds_keeps_the_job_retrying_until_they_are_installed(cluster,
                                                                                                  tmp_path):
    version = pinned("certs", "certs_chart_version")
    require_chart("cert-manager", version)
    require_chart("kube-prometheus-stack", pinned("monitoring", "monitoring_chart_version"))
    cluster.tools()
    cluster.behave(**{"cert-manager": {"seconds": 0.2}, "kube-prometheus-stack": {"seconds": 0.2}})
    # cert-manager at the pinned version with its ServiceMonitor on, before any prometheus-operator CRD
    values = {"crds": {"enabled": True}, "prometheus": {"enabled": True, "servicemonitor": {"enabled": True}}}
    cluster.manifest("vpskit-certs", render("certs", [helm_chart(
        "cert-manager", "cert-manager", "https://charts.jetstack.io", version, "cert-manager", values)]))
    state = cluster.until("cert-manager", lambda s: len(cluster.runs("cert-manager")) >= 3)
    assert not state.installed and not state.failed  # as on K3s: retried, neither completed nor failed
    assert cluster.job("cert-manager") == {"active": 1}
    assert 'no matches for kind "ServiceMonitor" in version "monitoring.coreos.com/v1"' in state.log
    assert "Error: INSTALLATION FAILED: unable to build kubernetes objects from release manifest" in state.log
    assert "ensure CRDs are installed first" in state.log
    waited, report, _ = run(tmp_path, [chart_wait("cert-manager", "cert-manager", 1.5, cluster.kubectl, 0.3)])
    assert waited.failed and "not reached within 1.5s" in waited.error and "ServiceMonitor" in waited.error
    runs = cluster.runs("cert-manager")
    gaps = [b["at"] - a["ends"] for a, b in zip(runs, runs[1:])]
    assert gaps == sorted(gaps) and gaps[1] == pytest.approx(2 * gaps[0], abs=1e-3)  # the kubelet's back-off doubles

    cluster.manifest("vpskit-monitoring", (GOLDEN / "defaults-monitoring.yaml").read_text())  # as vpskit writes it
    monitoring = cluster.until("kube-prometheus-stack", lambda s: s.installed)
    assert monitoring.ready and "STATUS: deployed" in monitoring.log
    done = cluster.until("cert-manager", lambda s: s.installed)
    assert done.installed and "REVISION: 1" in done.log
    names = json.loads(cluster.sh("-n cert-manager get deployments,statefulsets,daemonsets -o json").stdout)
    assert sorted(i["metadata"]["name"] for i in names["items"]) == [
        "cert-manager", "cert-manager-cainjector", "cert-manager-webhook"]  # the chart's own workloads
    waited, report, _ = run(tmp_path, [chart_wait("cert-manager", "cert-manager", 10, cluster.kubectl, 0.3)])
    assert not waited.failed, report


def test_a_bad_value_fails_each_run_with_helms_message_and_the_job_only_at_its_backoff_limit(cluster, tmp_path):
    version = pinned("certs", "certs_chart_version")
    require_chart("cert-manager", version)
    cluster.tools()
    cluster.behave(**{"cert-manager": {"seconds": 0.1}})
    chart = helm_chart("cert-manager", "cert-manager", "https://charts.jetstack.io", version, "cert-manager",
                       {"replicaCount": "two"})
    cluster.manifest("vpskit-certs", render("certs", [chart]))
    state = cluster.until("cert-manager", lambda s: len(cluster.runs("cert-manager")) >= 2)
    assert not state.failed and not state.installed
    assert "Error: INSTALLATION FAILED: values don't meet the specifications of the schema(s)" in state.log
    assert "at '/replicaCount': got string, want number" in state.log

    chart["spec"]["backOffLimit"] = 2
    cluster.manifest("vpskit-certs", render("certs", [chart]))
    result, report, took = run(tmp_path, [chart_wait("cert-manager", "cert-manager", 30, cluster.kubectl, 0.3)])
    assert result.failed and took < 20
    assert "the helm-install-cert-manager job failed" in result.error
    assert "got string, want number" in result.error
    assert cluster.job("cert-manager")["conditions"][0]["reason"] == "BackoffLimitExceeded"
    assert len(cluster.runs("cert-manager")) == 2


def test_a_helmchartconfig_values_win_and_its_change_replaces_the_job(cluster, tiny_cache):
    cluster.tools(tiny_cache)
    cluster.behave(tiny={"seconds": 0.1})
    cluster.manifest("tiny", tiny({"replicas": 1}))
    assert cluster.until("tiny", lambda s: s.installed).installed
    cluster.manifest("tiny-config", render("test", [helm_chart_config("tiny", {"replicas": 3})]))
    state = cluster.until("tiny", lambda s: "REVISION: 2" in s.log)
    assert state.installed and "Upgrading tiny" in state.log
    workloads = json.loads(cluster.sh("-n apps get deployments,statefulsets,daemonsets -o json").stdout)["items"]
    shown = [(w["kind"], w["metadata"]["name"], w["spec"]["replicas"]) for w in workloads]
    assert shown == [("StatefulSet", "tiny", 3)]


def failed_upgrade(cluster, tiny_cache, **spec) -> None:
    """tiny installed, then an upgrade the cluster refuses (fake-helm.yaml outcome fail): release status failed."""
    cluster.tools(tiny_cache)
    cluster.behave(tiny={"seconds": 0.1})
    cluster.manifest("tiny", tiny({"replicas": 1}, **spec))
    assert cluster.until("tiny", lambda s: s.installed).installed
    cluster.behave(tiny={"seconds": 0.1, "outcome": "fail",
                         "log": 'cannot patch "tiny" with kind StatefulSet: spec: Forbidden'})
    cluster.manifest("tiny", tiny({"replicas": 2}, **spec))


def test_failure_policy_reinstall_uninstalls_the_release_and_so_deletes_its_claims(cluster, tiny_cache):
    # helm-controller's default (vpskit's HelmCharts set abort instead)
    failed_upgrade(cluster, tiny_cache, failurePolicy="reinstall")
    state = cluster.until("tiny", lambda s: len(cluster.runs("tiny")) >= 2)
    first, second = cluster.runs("tiny")[:2]
    assert "Error: UPGRADE FAILED: cannot patch" in first["log"]
    assert "Uninstalling failed helm chart" in second["log"] and "Deleted" in second["log"]
    assert not state.installed
    deleted = cluster.uninstalled()
    assert "tiny reinstall apps persistentvolumeclaim/tiny-data" in deleted
    assert "tiny reinstall apps persistentvolumeclaim/storage-tiny-*" in deleted  # whenDeleted: Delete
    assert not any("tiny-kept" in line for line in deleted)  # helm.sh/resource-policy: keep


def test_failure_policy_abort_waits_for_an_operator_and_deletes_nothing(cluster, tiny_cache):
    failed_upgrade(cluster, tiny_cache, failurePolicy="abort")
    state = cluster.until("tiny", lambda s: len(cluster.runs("tiny")) >= 3)
    assert not state.installed and not state.failed
    assert ("Release status is 'failed' and failure policy is 'abort'; waiting for operator intervention"
            in state.log)
    assert cluster.uninstalled() == []


def test_failure_policy_retry_upgrades_again_and_completes_the_job_even_when_that_fails(cluster, tiny_cache):
    failed_upgrade(cluster, tiny_cache, failurePolicy="retry")
    state = cluster.until("tiny", lambda s: s.installed)
    assert state.installed and "Upgrading tiny from failed state" in state.log and "UPGRADE FAILED" in state.log
    assert cluster.uninstalled() == []


def test_an_object_of_an_unknown_kind_stops_an_upgrade_and_the_release_stays_deployed(cluster, tiny_cache):
    cluster.tools(tiny_cache)
    cluster.behave(tiny={"seconds": 0.1})
    cluster.manifest("tiny", tiny())
    assert cluster.until("tiny", lambda s: s.installed).installed
    cluster.manifest("tiny", tiny({"monitor": True}))
    state = cluster.until("tiny", lambda s: len(cluster.runs("tiny")) >= 3)
    assert not state.installed and "from new release manifest" in state.log
    assert all("Upgrading tiny" in r["log"] and "Uninstalling" not in r["log"] for r in cluster.runs("tiny"))
    assert cluster.uninstalled() == []  # the release is still deployed: no reinstall


def test_a_deleted_helmchart_is_uninstalled_but_kept_and_crds_dir_objects(cluster, tiny_cache):
    cluster.tools(tiny_cache)
    cluster.behave(tiny={"seconds": 0.1})
    cluster.manifest("tiny", tiny())
    assert cluster.until("tiny", lambda s: s.installed).installed
    assert cluster.sh("-n kube-system delete helmchart.helm.cattle.io/tiny --ignore-not-found").returncode == 0
    assert sorted(cluster.uninstalled()) == ["tiny delete apps persistentvolumeclaim/storage-tiny-*",
                                             "tiny delete apps persistentvolumeclaim/tiny-data",
                                             "tiny delete apps statefulset/tiny"]
    assert "NotFound" in cluster.sh("-n kube-system get job helm-install-tiny -o json").stderr


def widgets(values: dict | None = None) -> str:
    return render("test", [helm_chart("widgets", "widgets", "https://charts.example.org", "2.0.0", "apps",
                                      values or {})])


def test_a_crds_dir_kind_is_served_once_its_chart_is_installed_and_then_seen_by_the_capabilities(cluster,
                                                                                                  tiny_cache):
    cluster.tools(tiny_cache)
    cluster.behave(tiny={"seconds": 0.1}, widgets={"seconds": 0.1})
    cluster.manifest("tiny", tiny())
    assert cluster.until("tiny", lambda s: s.installed).installed
    assert "Widget" not in [o["kind"] for o in cluster.release("tiny")["objects"]]  # not served: not rendered
    cluster.manifest("widgets", widgets())
    assert cluster.until("widgets", lambda s: s.installed).installed  # its own Widget: crds/ go first
    cluster.manifest("tiny", tiny({"replicas": 2}))
    assert "REVISION: 2" in cluster.until("tiny", lambda s: "REVISION: 2" in s.log).log
    assert "Widget" in [o["kind"] for o in cluster.release("tiny")["objects"]]


def test_a_chart_that_fails_to_render_has_applied_its_crds_dir_first(cluster, tiny_cache):
    cluster.tools(tiny_cache)
    cluster.behave(tiny={"seconds": 0.1}, widgets={"seconds": 0.1})
    cluster.manifest("widgets", widgets({"size": "big"}))
    state = cluster.until("widgets", lambda s: bool(s.log) and "schema" in s.log)
    assert not state.installed and "at '/size': got string, want integer" in state.log
    cluster.manifest("tiny", tiny())
    assert cluster.until("tiny", lambda s: s.installed).installed
    assert "Widget" in [o["kind"] for o in cluster.release("tiny")["objects"]]


def test_without_a_helm_the_job_completes_as_before_and_its_log_says_so(cluster):
    cluster.behave(web={"seconds": 0.1})
    cluster.manifest("web", render("test", [helm_chart("web", "web", "https://charts.example.org", "1", "apps", {})]))
    state = cluster.until("web", lambda s: s.installed)
    assert state.ready
    assert state.log.splitlines()[0] == (f"fake k3s: chart not rendered (no {DATA}/fake-helm-tools.yaml naming a "
                                         f"helm and a chart cache); the job ends as {DATA}/fake-helm.yaml says")


def test_a_chart_missing_from_the_cache_completes_as_before_and_says_which_file(cluster, tiny_cache):
    cluster.tools(tiny_cache)
    cluster.behave(web={"seconds": 0.1})
    cluster.manifest("web", render("test", [helm_chart("web", "web", "https://charts.example.org", "1", "apps", {})]))
    state = cluster.until("web", lambda s: s.installed)
    assert f"web-1.tgz is not in the chart cache {tiny_cache}" in state.log


def test_the_builtin_kinds_are_kubernetes_1_36s():
    import kubernetes_validate
    folder = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / "v1.36.0-local-strict"
    known = set()
    for file in folder.glob("*.json"):
        if file.name in ("_definitions.json", "all.json"):
            continue
        for gvk in json.loads(file.read_text()).get("x-kubernetes-group-version-kind", []):
            known.add(f"{gvk['group'] + '/' if gvk['group'] else ''}{gvk['version']} {gvk['kind']}")
    builtin = {f"{api} {kind}" for api, names in kinds.BUILTIN.items() for kind in names}
    assert builtin <= known, builtin - known


def test_a_deleted_prometheus_keeps_its_claim_unless_its_retention_policy_says_delete(cluster):
    version = pinned("monitoring", "monitoring_chart_version")
    require_chart("kube-prometheus-stack", version)
    cluster.tools()
    cluster.behave(**{"kube-prometheus-stack": {"seconds": 0.1}})
    storage = {"volumeClaimTemplate": {"spec": {"resources": {"requests": {"storage": "1Gi"}}}}}
    spec = {"storageSpec": storage, "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"}}
    values = {"prometheus": {"prometheusSpec": spec}, "alertmanager": {"alertmanagerSpec": {"storage": storage}}}
    cluster.manifest("vpskit-monitoring", render("monitoring", [helm_chart(
        "kube-prometheus-stack", "kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts",
        version, "monitoring", values)]))
    assert cluster.until("kube-prometheus-stack", lambda s: s.installed).installed
    assert cluster.sh("-n kube-system delete helmchart.helm.cattle.io/kube-prometheus-stack").returncode == 0
    claims = [line for line in cluster.uninstalled() if "persistentvolumeclaim/" in line]
    # Prometheus's claims go with it (whenDeleted: Delete); Alertmanager's stay (the StatefulSet default, Retain)
    assert claims == ["kube-prometheus-stack delete monitoring persistentvolumeclaim/"
                      "prometheus-kube-prometheus-stack-prometheus-db-prometheus-kube-prometheus-stack-prometheus-*"]


def test_vpskits_loki_keeps_its_stored_logs_when_the_logging_role_deletes_its_chart(cluster):
    require_chart("oci://ghcr.io/grafana-community/helm-charts/loki", pinned("logging", "logging_loki_chart_version"))
    cluster.tools()
    cluster.behave(**{"loki": {"seconds": 0.1}, "alloy": {"seconds": 0.1}})
    cluster.manifest("vpskit-logging", (GOLDEN / "defaults-logging.yaml").read_text())  # as vpskit writes it
    assert cluster.until("loki", lambda s: s.installed).installed
    # the logging role switched off deletes the HelmChart: helm uninstall, as K3s's helm-delete job runs it
    assert cluster.sh("-n kube-system delete helmchart.helm.cattle.io/loki").returncode == 0
    deleted = cluster.uninstalled()
    assert any(line.startswith("loki delete logging statefulset") for line in deleted), deleted
    assert not [line for line in deleted if "persistentvolumeclaim/" in line], deleted


def test_the_certs_roles_switch_off_command_runs_against_kubectl_and_deletes_only_a_labelled_traefik_config(cluster):
    variables = {k: v.value for k, v in RoleLibrary().load("certs").defaults.items()}
    off = certs.plan(member_context({}, inventory_cluster({**variables, "certs_enabled": False}, ["s1"]), "s1"))
    command = off.handlers[0].command.replace("/usr/local/bin/k3s kubectl", cluster.kubectl)
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    deleted = cluster.path(f"{DATA}/fake-deleted.log").read_text().splitlines()
    assert "kube-system helmchart.helm.cattle.io/cert-manager" in deleted
    assert "kube-system helmchartconfig.helm.cattle.io/traefik -l app.kubernetes.io/managed-by=vpskit" in deleted
    # a name together with a selector is refused, as kubectl refuses it
    assert cluster.sh("-n kube-system delete helmchartconfig.helm.cattle.io/traefik -l a=b").returncode == 1
