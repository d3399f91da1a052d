"""Checklist items about the K3s cluster and the stack in it: versions, nodes, snapshots, TLS, observability."""

from __future__ import annotations

import datetime as dt
import json
import time

from .cluster.objects import WORKLOAD_KINDS
from .model import Finding, Item, Probes
from .parse import k3s_minor, ufw_allowed_ports
from .probes import shared

# the stack's workloads, by a word their names contain
COMPONENTS = {"prometheus": "Prometheus", "alertmanager": "Alertmanager", "grafana": "Grafana", "loki": "Loki",
              "alloy": "Grafana Alloy"}


def _k3s(p: Probes) -> str:
    return p.out("k3s_role").strip() if p.ok("k3s_role") else ""


def on_servers(judge):
    """A judge that applies on K3s servers only (n/a elsewhere, with the reason)."""
    def judged(p: Probes, v: dict) -> Finding:
        where = _k3s(p)
        if where != "server":
            return Finding.na("K3s is not installed here" if not where else "checked on the servers")
        return judge(p, v)
    return judged


def _json(p: Probes, name: str) -> dict | None:
    if not p.ok(name):
        return None
    try:
        return json.loads(p.out(name))
    except ValueError:
        return None


def version(p: Probes, v: dict) -> Finding:
    if not _k3s(p):
        return Finding.na("K3s is not installed here")
    minor = k3s_minor(p.out("k3s_version"))
    ends = {str(k): (x if isinstance(x, dt.date) else dt.date.fromisoformat(str(x)))
            for k, x in v["audit_k3s_support"].items()}
    if minor not in ends:
        return Finding.warn(f"{p.out('k3s_version').splitlines()[0]}: minor {minor} not in audit_k3s_support")
    left = (ends[minor] - dt.date.today()).days
    text = f"K3s {minor}: patch support ends {ends[minor]} ({left} days)"
    return Finding.fail(text) if left < 0 else Finding.warn(text) if left < v["audit_k3s_support_warn_days"] \
        else Finding.ok(text)


@on_servers
def nodes_ready(p: Probes, v: dict) -> Finding:
    data = _json(p, "nodes")
    if data is None:
        return Finding.fail("kubectl get nodes failed: the API does not answer")
    states = {n["metadata"]["name"]: next((c["status"] for c in n["status"].get("conditions", [])
                                           if c["type"] == "Ready"), "Unknown") for n in data["items"]}
    bad = [name for name, ready in states.items() if ready != "True"]
    return Finding.fail(f"not Ready: {', '.join(bad)}") if bad else Finding.ok(f"{len(states)} node(s) Ready")


@on_servers
def nodes_cordoned(p: Probes, v: dict) -> Finding:
    """A node left unschedulable (a drain that was interrupted, a cordon forgotten) takes no new pods."""
    data = _json(p, "nodes")
    if data is None:
        return Finding.fail("kubectl get nodes failed: the API does not answer")
    cordoned = sorted(n["metadata"]["name"] for n in data["items"] if (n.get("spec") or {}).get("unschedulable"))
    if cordoned:
        return Finding.warn(f"cordoned (no new pods scheduled there): {', '.join(cordoned)}; "
                            f"k3s kubectl uncordon {' '.join(cordoned)}")
    return Finding.ok(f"{len(data['items'])} node(s) schedulable")


@on_servers
def snapshots(p: Probes, v: dict) -> Finding:
    if not p.ok("etcd"):
        return Finding.na("SQLite datastore (no embedded etcd): the backups role copies it")
    rows = [line.split(" ", 2) for line in p.out("etcd").splitlines() if line.strip()]
    if not rows:
        return Finding.fail("embedded etcd without any snapshot")
    newest = max(float(r[0]) for r in rows)
    hours = (time.time() - newest) / 3600
    text = f"{len(rows)} snapshot(s), newest {hours:.1f} h old"
    return Finding.fail(text) if hours > v["audit_max_snapshot_age_hours"] else Finding.ok(text)


@on_servers
def kubeconfig_mode(p: Probes, v: dict) -> Finding:
    if not p.ok("kubeconfig"):
        return Finding.fail("/etc/rancher/k3s/k3s.yaml is missing")
    mode, owner = p.out("kubeconfig").split()
    text = f"/etc/rancher/k3s/k3s.yaml mode {mode}, owner {owner}"
    return Finding.ok(text) if mode == "600" and owner == "root" else Finding.fail(text)


@on_servers
def api_not_public(p: Probes, v: dict) -> Finding:
    sources = ufw_allowed_ports(p.out("ufw")).get(6443, [])
    if "Status: active" not in p.out("ufw"):
        return Finding.fail("ufw is not active: 6443 is open to the world")
    if any(s.startswith("Anywhere") for s in sources):
        return Finding.fail("ufw allows 6443 from anywhere")
    return Finding.ok(f"6443 allowed from {len(sources)} cluster source(s) only")


def _ready_workloads(data: dict | None) -> dict[str, bool]:
    ready = {}
    for w in (data or {}).get("items", []):
        if w.get("kind") not in WORKLOAD_KINDS:
            continue
        status, kind = w.get("status", {}), w.get("kind", "")
        if kind == "DaemonSet":
            ok = status.get("numberReady", 0) >= max(status.get("desiredNumberScheduled", 1), 1)
        else:
            ok = status.get("readyReplicas", 0) >= max(w.get("spec", {}).get("replicas", 1), 1)
        ready[f"{w['metadata'].get('namespace', '')}/{w['metadata']['name']}"] = ok
    return ready


@on_servers
def cert_manager(p: Probes, v: dict) -> Finding:
    ready = _ready_workloads(_json(p, "cert_manager"))
    if not ready:
        return Finding.fail("no cert-manager deployments (namespace cert-manager)")
    bad = [n for n, ok in ready.items() if not ok]
    return Finding.fail(f"not ready: {', '.join(bad)}") if bad else Finding.ok(f"{len(ready)} deployment(s) ready")


@on_servers
def issuers(p: Probes, v: dict) -> Finding:
    data = _json(p, "issuers")
    if not data or not data.get("items"):
        return Finding.fail("no ClusterIssuer")
    states = {i["metadata"]["name"]: any(c.get("type") == "Ready" and c.get("status") == "True"
                                         for c in i.get("status", {}).get("conditions", [])) for i in data["items"]}
    bad = [n for n, ok in states.items() if not ok]
    return Finding.fail(f"not Ready: {', '.join(bad)}") if bad else Finding.ok(f"Ready: {', '.join(sorted(states))}")


@on_servers
def certificates(p: Probes, v: dict) -> Finding:
    data = _json(p, "certificates")
    if data is None:
        return Finding.fail("cannot list Certificates (is cert-manager installed?)")
    if not data.get("items"):
        return Finding.na("no Certificate resources yet")
    limit = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=v["audit_cert_min_days"])
    soon = []
    for c in data["items"]:
        after = c.get("status", {}).get("notAfter")
        if not after or dt.datetime.fromisoformat(after.replace("Z", "+00:00")) < limit:
            soon.append(f"{c['metadata'].get('namespace')}/{c['metadata']['name']} ({after or 'not issued'})")
    return Finding.fail(f"expiring within {v['audit_cert_min_days']} days: {', '.join(soon)}") if soon else \
        Finding.ok(f"{len(data['items'])} certificate(s) valid beyond {v['audit_cert_min_days']} days")


@on_servers
def https_redirect(p: Probes, v: dict) -> Finding:
    return Finding.ok("Traefik's HelmChartConfig redirects HTTP to HTTPS") if p.ok("redirect") else \
        Finding.fail("no HTTP→HTTPS redirect in vpskit-certs.yaml (certs_enabled, certs_https_redirect)")


def component(word: str, name: str):
    @on_servers
    def judge(p: Probes, v: dict) -> Finding:
        ready = {n: ok for n, ok in _ready_workloads(_json(p, "workloads")).items() if word in n.split("/")[1]}
        if not ready:
            return Finding.fail(f"no {name} workload")
        bad = [n for n, ok in ready.items() if not ok]
        return Finding.fail(f"not ready: {', '.join(bad)}") if bad else Finding.ok(f"ready: {', '.join(sorted(ready))}")
    return judge


@on_servers
def receivers(p: Probes, v: dict) -> Finding:
    names = p.out("receivers").split()
    return Finding.ok("alerts route to the inventory's receivers (vpskit-monitoring.yaml)") if p.ok("receivers") \
        and names else Finding.fail("Alertmanager sends alerts nowhere: no monitoring_receivers")


@on_servers
def alert_rules(p: Probes, v: dict) -> Finding:
    data = _json(p, "alert_rules")
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
    data = _json(p, "alert_rules")
    if data is None:
        return Finding.fail("cannot list PrometheusRules (is the monitoring stack installed?)")
    rules = [r for item in data.get("items", []) for g in item.get("spec", {}).get("groups", [])
             for r in g.get("rules", []) if r.get("alert") and (r.get("labels") or {}).get("severity") == "critical"]
    bare = sorted({r["alert"] for r in rules if not {"runbook", "runbook_url"} & set(r.get("annotations") or {})})
    if bare:
        return Finding.fail(f"critical alerts without a runbook: {', '.join(bare)} (invoke runbooks writes vpskit's)")
    return Finding.ok(f"all {len({r['alert'] for r in rules})} critical alerts name a runbook")


def items(v: dict) -> list[Item]:
    k3s = shared("k3s_role")
    server = lambda *names: {**k3s, **shared(*names)}  # noqa: E731
    found = [
        Item("k8s.version", "kubernetes", "warning", "K3s version inside its support window", "invoke k3s.upgrade",
             version, server("k3s_version")),
        Item("k8s.nodes-ready", "kubernetes", "critical", "All nodes Ready", "invoke k3s", nodes_ready, server("nodes")),
        Item("k8s.nodes-cordoned", "kubernetes", "warning", "No node left cordoned",
             "k3s kubectl uncordon NODE (on a server), once the node is healthy", nodes_cordoned, server("nodes")),
        Item("k8s.etcd-snapshots", "kubernetes", "critical", "etcd snapshots recent (HA)", "invoke backups", snapshots,
             server("etcd")),
        Item("k8s.kubeconfig-mode", "kubernetes", "critical", "Server kubeconfig private (0600)", "invoke k3s",
             kubeconfig_mode, server("kubeconfig")),
        Item("k8s.api-not-public", "kubernetes", "critical", "API (6443) not open to the world", "invoke firewall",
             api_not_public, server("ufw")),
        Item("tls.cert-manager", "tls", "critical", "cert-manager ready", "invoke certs", cert_manager,
             server("cert_manager")),
        Item("tls.issuers", "tls", "critical", "Let's Encrypt ClusterIssuers Ready", "invoke certs", issuers,
             server("issuers")),
        Item("tls.expiry", "tls", "critical", "Certificates not expiring soon", "check cert-manager's logs and issuers",
             certificates, server("certificates")),
        Item("tls.https-redirect", "tls", "warning", "HTTP redirected to HTTPS", "invoke certs", https_redirect,
             server("redirect")),
    ]
    found += [Item(f"obs.{word}", "observability", "critical" if word in ("prometheus", "alertmanager") else "warning",
                   f"{name} ready", "invoke monitoring" if word not in ("loki", "alloy") else "invoke logging",
                   component(word, name), server("workloads")) for word, name in COMPONENTS.items()]
    found += [
        Item("obs.receivers", "observability", "critical", "Alertmanager has a receiver", "invoke monitoring",
             receivers, server("receivers")),
        Item("obs.alert-rules", "observability", "critical", "Critical alert rules loaded", "invoke monitoring",
             alert_rules, server("alert_rules")),
        Item("obs.runbooks", "observability", "warning", "Every critical alert names a runbook", "invoke runbooks",
             runbooks, server("alert_rules")),
    ]
    return found
