"""sysctl role: network and kernel hardening, persisted and applied; container-only limits skipped."""

from vpskit.resources import Sysctl
from vpskit.role import RolePlan


def settings(v: dict) -> dict:
    merged = {**v["sysctl_network"], **v["sysctl_kernel"]}
    forward = 1 if v["sysctl_ip_forward"] else 0
    merged.update({"net.ipv4.ip_forward": forward, "net.ipv6.conf.all.forwarding": forward})
    merged.update(v["sysctl_extra"])
    return merged


def plan(ctx) -> RolePlan:
    v = ctx.vars
    return RolePlan("sysctl", [Sysctl(settings(v), path="/etc/sysctl.d/90-vpskit.conf")])
