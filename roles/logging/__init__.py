"""logging role: Loki (single binary, filesystem, retention) and Grafana Alloy shipping pod logs and the journal."""

from __future__ import annotations

from vpskit.resources import File, Handler
from vpskit.role import RolePlan

from ..k3s.charts import chart_wait
from ..k3s.manifests import helm_chart, manifest_path, namespace, render, uninstall_command
from ..k3s.topology import topology

FILE = "logging"
UNINSTALL = "uninstall logging"


def loki_url(v: dict) -> str:
    """Loki's in-cluster address (the chart's service for release `loki`, gateway off). Pure."""
    return f"http://loki.{v['logging_namespace']}.svc:3100"


def plan(ctx) -> RolePlan:
    if not topology(ctx).is_first:
        return RolePlan("logging", [])
    if not ctx["logging_enabled"]:
        objects = ["helmchart.helm.cattle.io/loki", "helmchart.helm.cattle.io/alloy"]
        return RolePlan("logging", [File(manifest_path(FILE), state="absent", notify=[UNINSTALL])],
                        [Handler(UNINSTALL, uninstall_command([FILE], objects), changes=[])])
    alloy = ctx.render("logging/config.alloy.j2", {"loki_push_url": loki_url(ctx.vars) + "/loki/api/v1/push"})
    ns, timeout = ctx["logging_namespace"], ctx["logging_wait_timeout"]
    return RolePlan("logging", [
        File(manifest_path(FILE), content=render("logging", manifests(ctx.vars, alloy)), mode="0600"),
        chart_wait("loki", ns, timeout),
        chart_wait("alloy", ns, timeout),
    ])


def loki_values(v: dict) -> dict:
    """Single binary, one replica, filesystem storage, schema v13 on TSDB, retention by the compactor; the
    chart's big-cluster parts (caches of several GB, the canary, the gateway, scalable targets) off. Pure."""
    return {
        "deploymentMode": "SingleBinary",
        "loki": {
            "auth_enabled": False,
            "commonConfig": {"replication_factor": 1},
            "storage": {"type": "filesystem"},
            "schemaConfig": {"configs": [{"from": str(v["logging_schema_from"]), "store": "tsdb",
                                          "object_store": "filesystem", "schema": "v13",
                                          "index": {"prefix": "index_", "period": "24h"}}]},
            "limits_config": {"retention_period": v["logging_retention"]},
            "compactor": {"retention_enabled": True, "delete_request_store": "filesystem"},
        },
        # the chart's default deletes the volume with the StatefulSet (whenDeleted: Delete): switching the role
        # off, or K3s reinstalling the chart, would delete every stored log
        "singleBinary": {"replicas": 1, "persistence": {"size": v["logging_loki_storage"],
                                                        "enableStatefulSetAutoDeletePVC": False},
                         "resources": {"requests": {"cpu": "50m", "memory": "128Mi"},
                                       "limits": {"memory": v["logging_loki_memory"]}}},
        "read": {"replicas": 0}, "write": {"replicas": 0}, "backend": {"replicas": 0},
        "chunksCache": {"enabled": False}, "resultsCache": {"enabled": False},
        "gateway": {"enabled": False}, "lokiCanary": {"enabled": False}, "test": {"enabled": False},
        # the rules sidecar beside Loki
        "sidecar": {"resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}},
    }


def alloy_values(config: str) -> dict:
    """A DaemonSet with its config inline, the host's /var/log (journal included) mounted read-only. Pure."""
    return {"controller": {"type": "daemonset"},
            "alloy": {"configMap": {"create": True, "content": config},
                      "mounts": {"varlog": True},
                      "resources": {"requests": {"cpu": "20m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}},
            "configReloader": {"resources": {"requests": {"cpu": "10m", "memory": "50Mi"},
                                             "limits": {"memory": "128Mi"}}}}


def manifests(v: dict, alloy_config: str) -> list[dict]:
    """The logging manifest's documents. Pure."""
    ns = v["logging_namespace"]
    return [namespace(ns),
            helm_chart("loki", v["logging_loki_chart"], "", v["logging_loki_chart_version"], ns, loki_values(v)),
            helm_chart("alloy", "alloy", v["logging_alloy_chart_repo"], v["logging_alloy_chart_version"], ns,
                       alloy_values(alloy_config))]
