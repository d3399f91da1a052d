"""The certs role's audit items: cert-manager ready, its ClusterIssuers Ready, certificates far from expiry, and
the HTTPS redirect the role writes into Traefik's HelmChartConfig."""

from __future__ import annotations

import datetime as dt

from vpskit.audit.cluster.where import cluster, listed, on_servers
from vpskit.audit.model import Finding, Item, Probes

from ..k3s.audit import CLUSTER, ready_workloads
from ..k3s.manifests import MANIFESTS

PROBES = {
    "cert_manager": f"{CLUSTER.kubectl} get deployments -n cert-manager -o json",
    "issuers": f"{CLUSTER.kubectl} get clusterissuers -o json",
    "certificates": f"{CLUSTER.kubectl} get certificates -A -o json",
    # what this role wrote to the auto-deploy folder: Traefik's HelmChartConfig carries the redirect
    "redirect": f"grep -l -E 'redirectScheme' {MANIFESTS}/vpskit-certs.yaml",
}


@on_servers
def cert_manager(p: Probes, v: dict) -> Finding:
    ready = ready_workloads(listed(p, "cert_manager"))
    if not ready:
        return Finding.fail("no cert-manager deployments (namespace cert-manager)")
    bad = [n for n, ok in ready.items() if not ok]
    return Finding.fail(f"not ready: {', '.join(bad)}") if bad else Finding.ok(f"{len(ready)} deployment(s) ready")


@on_servers
def issuers(p: Probes, v: dict) -> Finding:
    data = listed(p, "issuers")
    if not data or not data.get("items"):
        return Finding.fail("no ClusterIssuer")
    states = {i["metadata"]["name"]: any(c.get("type") == "Ready" and c.get("status") == "True"
                                         for c in i.get("status", {}).get("conditions", [])) for i in data["items"]}
    bad = [n for n, ok in states.items() if not ok]
    return Finding.fail(f"not Ready: {', '.join(bad)}") if bad else Finding.ok(f"Ready: {', '.join(sorted(states))}")


@on_servers
def certificates(p: Probes, v: dict) -> Finding:
    data = listed(p, "certificates")
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


def items(v: dict) -> list[Item]:
    def needs(name: str) -> dict:
        return {**cluster(CLUSTER), name: PROBES[name]}
    return [
        Item("tls.cert-manager", "tls", "critical", "cert-manager ready", "invoke certs", cert_manager,
             needs("cert_manager"), rank=10),
        Item("tls.issuers", "tls", "critical", "Let's Encrypt ClusterIssuers Ready", "invoke certs", issuers,
             needs("issuers"), rank=20),
        Item("tls.expiry", "tls", "critical", "Certificates not expiring soon", "check cert-manager's logs and issuers",
             certificates, needs("certificates"), rank=30),
        Item("tls.https-redirect", "tls", "warning", "HTTP redirected to HTTPS", "invoke certs", https_redirect,
             needs("redirect"), rank=40),
    ]
