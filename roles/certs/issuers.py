"""Let's Encrypt ClusterIssuers (staging and production) and Traefik's redirect that spares the HTTP-01 path."""

from __future__ import annotations

ACME = {"letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
        "letsencrypt-prod": "https://acme-v02.api.letsencrypt.org/directory"}
DNS01_SECRET = "vpskit-dns01-cloudflare"
REDIRECT = "vpskit-https-redirect"
# the one HelmChartConfig K3s's helm controller reads for its bundled Traefik chart
TRAEFIK_CONFIG = "traefik"
# above the rule-length priorities Traefik gives ordinary routers, so every app on :80 is redirected
REDIRECT_PRIORITY = 100000


def cluster_issuers(v: dict) -> list[dict]:
    """Both issuers: HTTP-01 through the ingress class; DNS-01 for the listed zones when a token is given. Pure."""
    solvers = [{"http01": {"ingress": {"ingressClassName": v["certs_ingress_class"]}}}]
    if v.get("certs_dns01_zones") and v.get("certs_dns01_cloudflare_token"):
        solvers.insert(0, {"selector": {"dnsZones": list(v["certs_dns01_zones"])},
                           "dns01": {"cloudflare": {"apiTokenSecretRef": {"name": DNS01_SECRET, "key": "api-token"}}}})
    return [{"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": name},
             "spec": {"acme": {"server": server, "email": v["certs_acme_email"],
                               "privateKeySecretRef": {"name": f"{name}-account-key"}, "solvers": solvers}}}
            for name, server in ACME.items()]


def traefik_values(v: dict) -> dict:
    """The inventory's Traefik values with the redirect's objects added to its extraObjects; empty: none. Pure."""
    values = dict(v.get("certs_traefik_values") or {})
    if v["certs_https_redirect"]:
        values["extraObjects"] = [*(values.get("extraObjects") or []), *traefik_redirect_values()["extraObjects"]]
    return values


def traefik_redirect_values() -> dict:
    """Values for K3s's bundled Traefik chart: extraObjects (a key of the Traefik chart's values) holding a
    redirectScheme Middleware and a web-entrypoint IngressRoute matching every path but the ACME challenge's.

    The chart's entrypoint redirection (ports.web.http.redirections.entryPoint, v39+) is one router with one
    priority (MaxInt-1 unless set): high enough to redirect every app, it takes /.well-known/acme-challenge/
    too; low enough to spare the solver's Ingress, every app's own router wins over it. This router's rule
    leaves that one path to cert-manager's solver, answered on plain HTTP as HTTP-01 expects."""
    middleware = {"apiVersion": "traefik.io/v1alpha1", "kind": "Middleware",
                  "metadata": {"name": REDIRECT, "namespace": "kube-system"},
                  "spec": {"redirectScheme": {"scheme": "https", "permanent": True}}}
    route = {"apiVersion": "traefik.io/v1alpha1", "kind": "IngressRoute",
             "metadata": {"name": REDIRECT, "namespace": "kube-system"},
             "spec": {"entryPoints": ["web"], "routes": [{
                 "kind": "Rule", "priority": REDIRECT_PRIORITY,
                 "match": "PathPrefix(`/`) && !PathPrefix(`/.well-known/acme-challenge/`)",
                 "middlewares": [{"name": REDIRECT}],
                 "services": [{"name": "noop@internal", "kind": "TraefikService"}]}]}}
    return {"extraObjects": [middleware, route]}
