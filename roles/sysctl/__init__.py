"""sysctl role: network and kernel hardening, persisted and applied; container-only limits skipped."""

from vpskit.resources import Sysctl
from vpskit.role import RolePlan

from ..k3s.hardening import KERNEL


CLUSTER_GROUPS = {"k3s_servers", "k3s_agents"}


def settings(v: dict, cluster_member: bool = False) -> dict:
    merged = {**v["sysctl_network"], **v["sysctl_kernel"]}
    wanted = v["sysctl_ip_forward"]
    forward = 1 if (cluster_member if wanted is None else wanted) else 0
    merged.update({"net.ipv4.ip_forward": forward, "net.ipv6.conf.all.forwarding": forward})
    if cluster_member and v.get("k3s_hardening"):
        # K3s's hardening guide: the values the kubelet's protect-kernel-defaults wants
        merged.update(KERNEL)
    merged.update(v["sysctl_extra"])
    return merged


def plan(ctx) -> RolePlan:
    v = ctx.vars
    member = bool(CLUSTER_GROUPS & set(ctx.inventory.host(ctx.host).groups))
    return RolePlan("sysctl", [Sysctl(settings(v, member), path="/etc/sysctl.d/90-vpskit.conf")])
