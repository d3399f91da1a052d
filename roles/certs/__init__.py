"""certs role: cert-manager, Let's Encrypt ClusterIssuers (HTTP-01 via Traefik) and an HTTPS redirect, as manifests."""

from __future__ import annotations

from vpskit.resources import File, Handler
from vpskit.role import RolePlan

from ..k3s.charts import chart_wait
from ..k3s.manifests import (delete_labelled, helm_chart, helm_chart_config, manifest_path, namespace, render, secret,
                             uninstall_command)
from ..k3s.topology import topology
from .issuers import DNS01_SECRET, TRAEFIK_CONFIG, cluster_issuers, traefik_values

CHART = "cert-manager"
# cert-manager release → the Kubernetes minors it supports (cert-manager.io/docs/releases): the pinned K3s must be in
KUBERNETES_SUPPORT = {"v1.18": ("1.29", "1.33"), "v1.21": ("1.33", "1.36")}
FILES = ("certs", "certs-issuers")
UNINSTALL = "uninstall certs"


def plan(ctx) -> RolePlan:
    if not topology(ctx).is_first:
        return RolePlan("certs", [])
    if not ctx["certs_enabled"]:
        # only the HelmChartConfig vpskit wrote: a user's own Traefik settings stay
        command = (uninstall_command(list(FILES), [f"helmchart.helm.cattle.io/{CHART}"])
                   + f" && {delete_labelled('helmchartconfig.helm.cattle.io', TRAEFIK_CONFIG)}")
        return RolePlan("certs", [File(manifest_path(f), state="absent", notify=[UNINSTALL]) for f in FILES],
                        [Handler(UNINSTALL, command, changes=[])])
    documents = manifests(ctx.vars)
    return RolePlan("certs", [
        File(manifest_path("certs"), content=render("certs", documents["certs"]), mode="0600", secret=True),
        File(manifest_path("certs-issuers"), content=render("certs", documents["certs-issuers"]), mode="0600"),
        chart_wait(CHART, ctx["certs_namespace"], ctx["certs_wait_timeout"]),
    ])


def chart_values(v: dict) -> dict:
    """cert-manager's values: CRDs by the chart (kept on uninstall), small requests, a metrics Service. Pure.

    No ServiceMonitor of this chart's: its CRD comes with the monitoring role's chart, installed after this one,
    and K3s's install job would retry for ever on the unknown kind; the monitoring role scrapes cert-manager."""
    small = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}
    return {"crds": {"enabled": True, "keep": True},
            "resources": small, "webhook": {"resources": small}, "cainjector": {"resources": small},
            "startupapicheck": {"resources": small},
            "prometheus": {"enabled": True, "servicemonitor": {"enabled": False}}}


def manifests(v: dict) -> dict[str, list[dict]]:
    """The documents of each manifest file. Pure."""
    ns = v["certs_namespace"]
    docs = [namespace(ns)]
    if v.get("certs_dns01_zones") and v.get("certs_dns01_cloudflare_token"):
        docs.append(secret(DNS01_SECRET, ns, {"api-token": v["certs_dns01_cloudflare_token"]}))
    docs.append(helm_chart(CHART, CHART, v["certs_chart_repo"], v["certs_chart_version"], ns, chart_values(v)))
    traefik = traefik_values(v)
    if traefik:
        docs.append(helm_chart_config(TRAEFIK_CONFIG, traefik))
    return {"certs": docs, "certs-issuers": cluster_issuers(v)}
