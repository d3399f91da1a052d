"""Each application item on the recorded workloads: the course's shape written well passes, as first written fails
naming the workload and what is missing; and the "not yet" cases in between."""

from __future__ import annotations

import pytest

from vpskit.audit import items_workloads
from vpskit.audit.cluster import availability, hygiene, isolation, monitors, podsecurity
from vpskit.audit.model import Probes
from tests.unit.audit.workloads import DEFAULTS, cluster, objects_of, probe_outputs, workload

ALWAYS = ["app.replicas", "app.pdb", "app.spread", "app.probes", "app.resources", "sec.non-root",
          "sec.read-only-root", "sec.capabilities", "sec.privilege-escalation", "sec.seccomp", "sec.service-account",
          "sec.images-pinned", "sec.inline-secrets", "sec.network-policy", "obs.scraped", "sec.pod-security"]


def judged(outputs: Probes, **variables) -> dict:
    v = {**DEFAULTS, **variables}
    return {item.id: item.judge(outputs, v) for item in items_workloads.items(v)}


def test_the_good_application_passes_every_item():
    found = judged(probe_outputs("good"))
    assert {i: found[i].status for i in ALWAYS} == {i: "pass" for i in ALWAYS}, found
    assert found["app.hpa"].status == "n/a" and "audit_require_hpa" in found["app.hpa"].evidence


def test_the_first_draft_fails_every_item_naming_the_workload():
    found = judged(probe_outputs("bad", monitors=None))
    assert {i: found[i].status for i in ALWAYS} == {i: "fail" for i in ALWAYS}, found
    assert "legacy/deployment/backend: 1 replica(s), want at least 2" in found["app.replicas"].evidence
    assert "minAvailable 1 of 1 replica(s) blocks every eviction" in found["app.pdb"].evidence
    assert "maxUnavailable 0 blocks every eviction" in found["app.pdb"].evidence
    assert "legacy/statefulset/postgres" in found["app.spread"].evidence
    assert "no livenessProbe, readinessProbe" in found["app.probes"].evidence
    assert "postgres: no readinessProbe" in found["app.probes"].evidence
    assert "wait-for-db: no requests.cpu, requests.memory, limits.memory" in found["app.resources"].evidence
    assert "postgres: runAsUser 0" in found["sec.non-root"].evidence
    assert "capabilities.add NET_ADMIN" in found["sec.capabilities"].evidence
    assert "seccompProfile Unconfined" in found["sec.seccomp"].evidence
    assert "shop/backend (no tag)" in found["sec.images-pinned"].evidence
    assert "busybox:latest (:latest)" in found["sec.images-pinned"].evidence
    assert "legacy: no pod-security.kubernetes.io/enforce label" in found["sec.pod-security"].evidence
    assert "no ServiceMonitor/PodMonitor kinds" in found["obs.scraped"].evidence


def test_inline_secrets_are_named_never_shown():
    evidence = judged(probe_outputs("bad"))["sec.inline-secrets"].evidence
    assert "DATABASE_URL" in evidence and "STRIPE_API_KEY" in evidence and "POSTGRES_PASSWORD" in evidence
    assert "hunter2" not in evidence and "sk_live" not in evidence and "LOG_LEVEL" not in evidence


def test_each_item_names_a_fix():
    assert all(item.fix for item in items_workloads.items(DEFAULTS))


def test_a_failing_api_fails_each_item_and_an_agent_is_not_asked():
    broken = Probes({**probe_outputs().results, "workloads": (1, "The connection to the server was refused")})
    assert {f.status for k, f in judged(broken).items() if k != "obs.structured-logs"} == {"fail"}
    agent = Probes({**probe_outputs().results, "cluster_node": (0, "agent\n")})
    assert {f.status for f in judged(agent).values()} == {"n/a"}


def test_no_workloads_yet_is_not_applicable_rather_than_a_pass():
    found = judged(probe_outputs("good"), audit_namespaces=["empty"])
    assert {f.status for f in found.values()} == {"n/a"}
    assert "no workloads" in found["app.probes"].evidence


def test_one_node_needs_no_spreading():
    assert judged(probe_outputs("good", node_count=1))["app.spread"].status == "n/a"
    assert availability.spread(workload(cluster("bad", node_count=3), "legacy/statefulset/postgres"),
                               cluster("bad", node_count=3), DEFAULTS)


def test_an_autoscaler_where_asked():
    assert judged(probe_outputs("good"), audit_require_hpa=True)["app.hpa"].status == "fail"  # postgres has none
    c = cluster()
    assert availability.autoscaler(workload(c, "shop/deployment/backend"), c, DEFAULTS) is None


@pytest.mark.parametrize("budget, replicas, blocks", [
    ({"maxUnavailable": 1}, 1, False), ({"maxUnavailable": 0}, 3, True), ({"maxUnavailable": "0%"}, 3, True),
    ({"maxUnavailable": "10%"}, 3, False),  # rounds up to 1
    ({"minAvailable": 2}, 2, True), ({"minAvailable": 1}, 2, False), ({"minAvailable": "100%"}, 4, True),
    ({"minAvailable": "50%"}, 2, False), ({"minAvailable": "51%"}, 2, True),  # 1.02 rounds up to 2
])
def test_a_budget_that_blocks_every_eviction(budget, replicas, blocks):
    def edit(items):
        objects_of(items, "Deployment", "backend")["spec"]["replicas"] = replicas
        objects_of(items, "PodDisruptionBudget", "backend")["spec"] = {
            **budget, "selector": {"matchLabels": {"app.kubernetes.io/name": "backend"}}}
    c = cluster(edit=edit)
    problem = availability.disruption_budget(workload(c, "shop/deployment/backend"), c, DEFAULTS)
    assert bool(problem and "blocks every eviction" in problem) is blocks, problem


def test_a_budget_selecting_other_pods_is_missing():
    def edit(items):
        objects_of(items, "PodDisruptionBudget", "backend")["spec"]["selector"] = {"matchLabels": {"app": "x"}}
    c = cluster(edit=edit)
    assert availability.disruption_budget(workload(c, "shop/deployment/backend"), c, DEFAULTS) == \
        "no PodDisruptionBudget selects its pods"


def _backend_container(items):
    return objects_of(items, "Deployment", "backend")["spec"]["template"]["spec"]["containers"][0]


def _pod(items):
    return objects_of(items, "Deployment", "backend")["spec"]["template"]["spec"]


@pytest.mark.parametrize("edit, check, problem", [
    (lambda i: _backend_container(i)["securityContext"].update(runAsNonRoot=False), podsecurity.non_root,
     "runAsNonRoot not true"),
    (lambda i: _pod(i)["securityContext"].pop("runAsNonRoot"), podsecurity.non_root, "runAsNonRoot not true"),
    (lambda i: _pod(i)["securityContext"].pop("seccompProfile"), podsecurity.seccomp, "seccompProfile unset"),
    (lambda i: _backend_container(i)["securityContext"].pop("allowPrivilegeEscalation"),
     podsecurity.no_privilege_escalation, "allowPrivilegeEscalation not false"),
    (lambda i: _backend_container(i)["securityContext"]["capabilities"].update(drop=["NET_RAW"]),
     podsecurity.capabilities_dropped, "capabilities.drop lacks ALL"),
    (lambda i: _backend_container(i)["securityContext"].pop("readOnlyRootFilesystem"), podsecurity.read_only_root,
     "readOnlyRootFilesystem not true"),
    (lambda i: _backend_container(i).pop("readinessProbe"), availability.probes, "no readinessProbe"),
    (lambda i: _backend_container(i)["resources"].pop("limits"), availability.resources, "no limits.memory"),
    (lambda i: [_pod(i).pop("automountServiceAccountToken"), _pod(i).update(serviceAccountName="default",
                                                                            serviceAccount="default")],
     hygiene.default_account_token, "default service account"),
    (lambda i: _backend_container(i).update(image="registry.example.com:5000/shop/backend"), hygiene.images_pinned,
     "(no tag)"),
    (lambda i: _backend_container(i)["env"].append({"name": "SENTRY_DSN", "value": "https://k:s@sentry.io/1"}),
     hygiene.inline_secrets, "SENTRY_DSN"),
    (lambda i: [i.remove(p) for p in [x for x in i if x["kind"] == "NetworkPolicy"]], isolation.network_policy,
     "no NetworkPolicy"),
])
def test_one_thing_taken_away_from_the_good_backend_is_found(edit, check, problem):
    c = cluster(edit=edit)
    found = check(workload(c, "shop/deployment/backend"), c, DEFAULTS)
    assert found and problem in found, found


def test_the_container_context_wins_over_the_pod_and_limits_count_as_requests():
    def edit(items):
        _pod(items)["securityContext"]["seccompProfile"] = {"type": "Unconfined"}
        _backend_container(items)["securityContext"]["seccompProfile"] = {"type": "RuntimeDefault"}
        _backend_container(items)["resources"] = {"limits": {"cpu": "1", "memory": "256Mi"}}
    c = cluster(edit=edit)
    backend = workload(c, "shop/deployment/backend")
    assert podsecurity.seccomp(backend, c, DEFAULTS) is None and availability.resources(backend, c, DEFAULTS) is None


def test_the_default_account_with_automount_off_on_the_account_passes():
    def edit(items):
        _pod(items).pop("automountServiceAccountToken")
        _pod(items).update(serviceAccountName="default", serviceAccount="default")
        objects_of(items, "ServiceAccount", "default")["automountServiceAccountToken"] = False
    c = cluster(edit=edit)
    assert hygiene.default_account_token(workload(c, "shop/deployment/backend"), c, DEFAULTS) is None


@pytest.mark.parametrize("image, tag", [("nginx", None), ("nginx:1.27", "1.27"), ("reg:5000/a/b", None),
                                        ("reg:5000/a/b:2", "2"), ("a/b@sha256:abc", ""), ("b:latest", "latest")])
def test_image_tags_as_distribution_reference_reads_them(image, tag):
    assert hygiene.image_tag(image) == tag


@pytest.mark.parametrize("labels, level, problem", [
    ({"pod-security.kubernetes.io/enforce": "restricted"}, "restricted", False),
    ({"pod-security.kubernetes.io/enforce": "baseline"}, "restricted", True),
    ({"pod-security.kubernetes.io/enforce": "restricted"}, "baseline", False),
    ({"pod-security.kubernetes.io/warn": "restricted"}, "baseline", True),  # warn enforces nothing
])
def test_pod_security_levels(labels, level, problem):
    assert bool(isolation.pss_level("ns", labels, {**DEFAULTS, "audit_pss_level": level})) is problem


def test_a_monitor_that_does_not_reach_the_metrics_port_is_missing():
    c = cluster(monitors={"items": [{"kind": "ServiceMonitor", "metadata": {"namespace": "shop", "name": "m"},
                                     "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "backend"}},
                                              "endpoints": [{"port": "http"}]}}]})
    assert "no ServiceMonitor or PodMonitor" in monitors.monitored(workload(c, "shop/deployment/backend"), c, DEFAULTS)
    pod_monitor = {"kind": "PodMonitor", "metadata": {"namespace": "monitoring", "name": "p"},
                   "spec": {"namespaceSelector": {"matchNames": ["shop"]},
                            "selector": {"matchLabels": {"app.kubernetes.io/name": "backend"}},
                            "podMetricsEndpoints": [{"port": "metrics"}]}}
    c = cluster(monitors={"items": [pod_monitor]})
    assert monitors.monitored(workload(c, "shop/deployment/backend"), c, DEFAULTS) is None


def test_a_failing_budget_or_policy_names_the_manifest_that_fixes_that_workload():
    found = judged(probe_outputs("bad"))
    assert found["app.pdb"].fix.startswith("apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: "
                                           "{name: backend, namespace: legacy}, spec: {maxUnavailable: 1, "
                                           "selector: {matchLabels: {app: backend}}}")
    assert "(and likewise for the others)" in found["app.pdb"].fix
    assert "podSelector: {matchLabels: {app: backend}}" in found["sec.network-policy"].fix
    assert found["app.probes"].fix == ""  # the item's own fix applies
