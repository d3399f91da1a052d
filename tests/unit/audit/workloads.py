"""The recorded workload fixtures (tests/fixtures/workloads) as probe output and as parsed clusters."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml

from vpskit.audit.checklist import audit_defaults
from vpskit.audit.cluster.objects import read_cluster, scope
from vpskit.audit.model import Probes
from vpskit.facts.system import SysctlFact
from vpskit.roleloader import RoleLibrary, all_defaults

FIXTURES = Path(__file__).parents[2] / "fixtures" / "workloads"
DEFAULTS = {k: v.value for k, v in {**all_defaults(RoleLibrary().all()), **audit_defaults()}.items()}


def listed(name: str) -> dict:
    return yaml.safe_load((FIXTURES / f"{name}.yaml").read_text())


def nodes(count: int) -> dict:
    return {"apiVersion": "v1", "kind": "List", "items": [{"kind": "Node", "metadata": {"name": f"n{i}"}}
                                                          for i in range(count)]}


def cluster(name: str = "good", monitors: dict | None | str = "monitors", node_count: int = 2, variables=None,
            edit=None):
    """The fixture's cluster; `edit(items)` changes a deep copy of its objects first."""
    batch = copy.deepcopy(listed(name))
    if edit:
        edit(batch["items"])
    found = listed(monitors) if isinstance(monitors, str) else monitors
    return read_cluster(batch, found, scope({**DEFAULTS, **(variables or {})}), node_count)


def probe_outputs(name: str = "good", monitors: str | None = "monitors", node_count: int = 2) -> Probes:
    """What a K3s server's probe batch returns with the fixture's objects (monitors None: CRDs not served)."""
    return Probes({"cluster_node": (0, "server\n"), "nodes": (0, json.dumps(nodes(node_count))),
                   "workloads": (0, json.dumps(listed(name))), "app_logs": (0, ""),
                   "monitors": (0, json.dumps(listed(monitors))) if monitors else
                   (1, 'error: the server doesn\'t have a resource type "servicemonitors"\n')})


def workload(c, ref: str):
    return next(w for w in c.workloads if w.ref == ref)


def objects_of(items: list, kind: str, name: str) -> dict:
    return next(i for i in items if i["kind"] == kind and i["metadata"]["name"] == name)


def sysctl_read(keys, printed: str) -> dict:
    """SysctlFact's value on a host whose /proc/sys holds these values (`printed` as `sysctl -n` prints them)."""
    lines = [f"access\t{k}\trw" for k in keys]
    lines += [f"/proc/sys/{k.replace('.', '/')}:{value}" for k, value in zip(keys, printed.split())]
    return SysctlFact(*keys).parse("\n".join(lines) + "\n", 0)
