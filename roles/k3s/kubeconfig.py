"""Merges the cluster's kubeconfig into the operator's as one named context, leaving the others as they were."""

from __future__ import annotations

import yaml

from vpskit.errors import VpskitError


def merge(k3s_yaml: bytes, current: bytes | None, name: str, server: str) -> bytes:
    """The operator's kubeconfig with cluster, user and context `name` replaced by the K3s ones. Pure."""
    ours = yaml.safe_load(k3s_yaml) or {}
    try:
        cluster = dict(ours["clusters"][0]["cluster"], server=server)
        user = ours["users"][0]["user"]
    except (KeyError, IndexError, TypeError):
        raise VpskitError("the server's k3s.yaml has no cluster or user entry") from None
    config = yaml.safe_load(current) if current else None
    if config is None:
        config = {"apiVersion": "v1", "kind": "Config", "preferences": {}, "clusters": [], "users": [], "contexts": []}
    if not isinstance(config, dict):
        raise VpskitError("the local kubeconfig is not a mapping; refusing to overwrite it")
    _put(config, "clusters", {"name": name, "cluster": cluster})
    _put(config, "users", {"name": name, "user": user})
    _put(config, "contexts", {"name": name, "context": {"cluster": name, "user": name}})
    config.setdefault("current-context", name)
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False).encode()


def _put(config: dict, section: str, entry: dict) -> None:
    items = [e for e in (config.get(section) or []) if e.get("name") != entry["name"]]
    config[section] = [*items, entry]
