"""The name a node registers under: K3s lowercases it, and Kubernetes takes only RFC 1123 subdomains."""

from __future__ import annotations

import re

from vpskit.errors import VpskitError

# a DNS subdomain (RFC 1123), as the API server validates Node names
SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def registered_name(name: str) -> str:
    """The name K3s gives the node for `name` (pkg/util/net.go GetHostnameAndIPs lowercases it). Pure."""
    return name.lower()


def name_error(name) -> str | None:
    """Why K3s could not register a node called `name`, with the name it would need, else None. Pure."""
    if not isinstance(name, str) or not name:
        return f"must be a node name, got {name!r}"
    lowered = registered_name(name)
    if len(lowered) <= 253 and SUBDOMAIN.fullmatch(lowered):
        return None
    suggestion = re.sub(r"-+", "-", re.sub(r"[^a-z0-9.-]", "-", lowered)).strip("-.")[:63] or "node-1"
    return (f"{name!r} is not a Kubernetes node name (lowercase letters, digits, '-' and '.', starting and "
            f"ending with a letter or digit): set k3s_node_name, e.g. {suggestion!r}")


def node_name(ctx) -> str:
    """The name this host's node really has: k3s_node_name or the inventory name, lowercased as K3s does."""
    explicit = ctx.get("k3s_node_name")
    name = explicit or ctx.host
    problem = name_error(name)
    if problem:
        where = "k3s_node_name" if explicit else f"host {ctx.host} (the inventory name is the default node name)"
        raise VpskitError(f"{where}: {problem}")
    return registered_name(name)
