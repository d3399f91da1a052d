"""The monitoring role's audit items: node metrics exported, the stack's workloads ready, Alertmanager routing
to the inventory's receivers, the critical alert rules loaded, and each critical alert naming its runbook."""

from __future__ import annotations

from vpskit.audit.cluster.where import cluster, listed, on_servers
from vpskit.audit.model import Finding, Item, Probes

from ..k3s.audit import CLUSTER, component
from ..k3s.manifests import MANIFESTS

PROBES = {
    "node_exporter": "ss -H -tln 'sport = :9100' | grep -q . || systemctl is-active --quiet prometheus-node-exporter",
    "alert_rules": f"{CLUSTER.kubectl} get prometheusrules -A -o json",
    # what this role wrote to the auto-deploy folder: Alertmanager's root route goes to the inventory's receivers
    # (not the null one)
    "receivers": f"grep -l -E '^ *receiver: vpskit *$' {MANIFESTS}/vpskit-monitoring.yaml",
}
# the stack's workloads, by a word their names contain
COMPONENTS = {"prometheus": "Prometheus", "alertmanager": "Alertmanager", "grafana": "Grafana"}


def node_exporter(p: Probes, v: dict) -> Finding:
    return Finding.ok("node-exporter answers on :9100") if p.ok("node_exporter") else \
        Finding.fail("nothing listens on :9100 and prometheus-node-exporter is not active")


@on_servers
def receivers(p: Probes, v: dict) -> Finding:
    names = p.out("receivers").split()
    return Finding.ok("alerts route to the inventory's receivers (vpskit-monitoring.yaml)") if p.ok("receivers") \
        and names else Finding.fail("Alertmanager sends alerts nowhere: no monitoring_receivers")


@on_servers
def alert_rules(p: Probes, v: dict) -> Finding:
    data = listed(p, "alert_rules")
    if data is None:
        return Finding.fail("cannot list PrometheusRules (is the monitoring stack installed?)")
    found = {r.get("alert") for item in data.get("items", []) for g in item.get("spec", {}).get("groups", [])
             for r in g.get("rules", [])}
    missing = [a for a in v["audit_required_alerts"] if a not in found]
    return Finding.fail(f"missing alerts: {', '.join(missing)}") if missing else \
        Finding.ok(f"present: {', '.join(v['audit_required_alerts'])}")


@on_servers
def runbooks(p: Probes, v: dict) -> Finding:
    """Every critical alert of every PrometheusRule names its runbook (a `runbook` or `runbook_url` annotation)."""
    data = listed(p, "alert_rules")
    if data is None:
        return Finding.fail("cannot list PrometheusRules (is the monitoring stack installed?)")
    rules = [r for item in data.get("items", []) for g in item.get("spec", {}).get("groups", [])
             for r in g.get("rules", []) if r.get("alert") and (r.get("labels") or {}).get("severity") == "critical"]
    bare = sorted({r["alert"] for r in rules if not {"runbook", "runbook_url"} & set(r.get("annotations") or {})})
    if bare:
        return Finding.fail(f"critical alerts without a runbook: {', '.join(bare)} (invoke runbooks writes vpskit's)")
    return Finding.ok(f"all {len({r['alert'] for r in rules})} critical alerts name a runbook")


def items(v: dict) -> list[Item]:
    rules = {**cluster(CLUSTER), "alert_rules": PROBES["alert_rules"]}
    found = [Item("infra.node-exporter", "infrastructure", "warning", "Node metrics exported", "invoke monitoring",
                  node_exporter, {"node_exporter": PROBES["node_exporter"]}, rank=70)]
    found += [Item(f"obs.{word}", "observability", "critical" if word in ("prometheus", "alertmanager") else "warning",
                   f"{name} ready", "invoke monitoring", component(word, name), cluster(CLUSTER, "workloads"),
                   rank=10 * (n + 1))
              for n, (word, name) in enumerate(COMPONENTS.items())]
    found += [
        Item("obs.receivers", "observability", "critical", "Alertmanager has a receiver", "invoke monitoring",
             receivers, {**cluster(CLUSTER), "receivers": PROBES["receivers"]}, rank=60),
        Item("obs.alert-rules", "observability", "critical", "Critical alert rules loaded", "invoke monitoring",
             alert_rules, rules, rank=70),
        Item("obs.runbooks", "observability", "warning", "Every critical alert names a runbook", "invoke runbooks",
             runbooks, rules, rank=80),
    ]
    return found
