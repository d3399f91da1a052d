"""certs role: cert-manager, Let's Encrypt ClusterIssuers (HTTP-01 via Traefik) and an HTTPS redirect, as manifests."""

from __future__ import annotations

from vpskit.resources import File, Handler
from vpskit.role import RolePlan

from ..k3s.charts import chart_wait
from ..k3s.manifests import helm_chart, helm_chart_config, manifest_path, namespace, render, secret, uninstall_command
from ..k3s.topology import topology
from .issuers import DNS01_SECRET, cluster_issuers, traefik_redirect_values

CHART = "cert-manager"
FILES = ("certs", "certs-issuers")
UNINSTALL = "uninstall certs"


def plan(ctx) -> RolePlan:
    if not topology(ctx).is_first:
        return RolePlan("certs", [])
    if not ctx["certs_enabled"]:
        objects = [f"helmchart.helm.cattle.io/{CHART}", "helmchartconfig.helm.cattle.io/traefik"]
        return RolePlan("certs", [File(manifest_path(f), state="absent", notify=[UNINSTALL]) for f in FILES],
                        [Handler(UNINSTALL, uninstall_command(list(FILES), objects), changes=[])])
    documents = manifests(ctx.vars)
    return RolePlan("certs", [
        File(manifest_path("certs"), content=render("certs", documents["certs"]), mode="0600", secret=True),
        File(manifest_path("certs-issuers"), content=render("certs", documents["certs-issuers"]), mode="0600"),
        chart_wait(CHART, ctx["certs_namespace"], ctx["certs_wait_timeout"]),
    ])


def chart_values(v: dict) -> dict:
    """cert-manager's values: CRDs by the chart (kept on uninstall), small requests, metrics for Prometheus. Pure."""
    small = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}
    return {"crds": {"enabled": True, "keep": True},
            "resources": small, "webhook": {"resources": small}, "cainjector": {"resources": small},
            "prometheus": {"enabled": True, "servicemonitor": {"enabled": bool(v.get("monitoring_enabled"))}}}


def manifests(v: dict) -> dict[str, list[dict]]:
    """The documents of each manifest file. Pure."""
    ns = v["certs_namespace"]
    docs = [namespace(ns)]
    if v.get("certs_dns01_zones") and v.get("certs_dns01_cloudflare_token"):
        docs.append(secret(DNS01_SECRET, ns, {"api-token": v["certs_dns01_cloudflare_token"]}))
    docs.append(helm_chart(CHART, CHART, v["certs_chart_repo"], v["certs_chart_version"], ns, chart_values(v)))
    if v["certs_https_redirect"]:
        docs.append(helm_chart_config("traefik", traefik_redirect_values()))
    return {"certs": docs, "certs-issuers": cluster_issuers(v)}
