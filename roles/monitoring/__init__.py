"""monitoring role: kube-prometheus-stack and vpskit's alert rules as manifests K3s deploys on the first server."""

from __future__ import annotations

from vpskit.errors import VpskitError
from vpskit.ports import Network, allow_from
from vpskit.resources import File, Handler
from vpskit.role import RolePlan

from ..k3s.charts import chart_wait
from ..k3s.manifests import dump, helm_chart, manifest_path, namespace, render, secret, uninstall_command
from ..k3s.ports import is_member, other_member_addresses
from ..k3s.topology import topology
from .alertmanager import alertmanager_config
from .checks import apps_error, jobs_error, receivers_error  # noqa: F401  (spec.yml's checks)
from .rules import rule_groups
from .runbooks import files as runbook_files
from .values import ALERTMANAGER_SECRET, GRAFANA_SECRET, chart_values

CHART = "kube-prometheus-stack"
UNINSTALL = "uninstall monitoring"
FILES = ("monitoring", "monitoring-rules")


def network(ctx) -> Network:
    """node-exporter (host network, on every member) open to the other members.

    Prometheus on one member scrapes it on every other one; flannel masquerades pod traffic to node addresses, so
    it arrives from the scraping member's address.
    """
    if not ctx.get("monitoring_enabled") or not is_member(ctx):
        return Network()
    return Network(allow_from(other_member_addresses(ctx), "tcp", "9100", "node-exporter"))


def plan(ctx) -> RolePlan:
    if not topology(ctx).is_first:
        return RolePlan("monitoring", [])
    if not ctx["monitoring_enabled"]:
        return RolePlan("monitoring", [File(manifest_path(f), state="absent", notify=[UNINSTALL]) for f in FILES],
                        [Handler(UNINSTALL, uninstall_command(list(FILES), [f"helmchart.helm.cattle.io/{CHART}"]),
                                 changes=[])])
    documents = manifests(resolved(ctx))
    return RolePlan("monitoring", [
        File(manifest_path("monitoring"), content=render("monitoring", documents["monitoring"]), mode="0600",
             secret=True),
        File(manifest_path("monitoring-rules"), content=render("monitoring", documents["monitoring-rules"]),
             mode="0600"),
        chart_wait(CHART, ctx["monitoring_namespace"], ctx["monitoring_wait_timeout"]),
    ])


def resolved(ctx) -> dict:
    """The host's variables with the defaults that depend on the rest of the inventory filled in."""
    v = dict(ctx.vars)
    if v.get("monitoring_backup_expected") is None:
        v["monitoring_backup_expected"] = "backups" in ctx.inventory.groups() and bool(ctx.inventory.hosts("backups"))
    return v


def manifests(v: dict) -> dict[str, list[dict]]:
    """The documents of each manifest file, from the role's variables. Pure."""
    ns = v["monitoring_namespace"]
    password = v.get("monitoring_grafana_admin_password")
    if v["monitoring_grafana_enabled"] and not password:
        raise VpskitError("monitoring_grafana_admin_password is required when monitoring_grafana_enabled is on "
                          "(give it from a secret source: !env GRAFANA_ADMIN_PASSWORD or !file path)")
    stack = [namespace(ns),
             secret(ALERTMANAGER_SECRET, ns, {"alertmanager.yaml": dump(alertmanager_config(v))})]
    if v["monitoring_grafana_enabled"]:
        stack.append(secret(GRAFANA_SECRET, ns, {"admin-user": v["monitoring_grafana_admin_user"],
                                                 "admin-password": password}))
    stack.append(helm_chart(CHART, CHART, v["monitoring_chart_repo"], v["monitoring_chart_version"], ns,
                            chart_values(v)))
    rules = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
             "metadata": {"name": "vpskit-alerts", "namespace": ns},
             "spec": rule_groups(v)}
    return {"monitoring": stack, "monitoring-rules": [rules]}



def runbooks(v: dict, inventory: str) -> dict[str, str]:
    """The runbook of every alert, for `invoke runbooks`: relative path -> Markdown."""
    return runbook_files(v, inventory)
