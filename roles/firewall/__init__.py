"""firewall role: ufw rules tagged "vpskit", default deny incoming, enabled commit-confirmed.

Besides SSH and `firewall_allow`, it opens what the host's roles declare they need (`network(ctx)` in a role's
module: K3s's API, etcd, kubelet and flannel between members, node-exporter, a user role's own ports).
"""

import ipaddress
import re

from vpskit.confirm import Confirm
from vpskit.errors import VpskitError
from vpskit.facts.ufw import UfwRule
from vpskit.resources import Conffiles, File, Line, Packages
from vpskit.resources.ufw import UfwPolicy, UfwRules
from vpskit.role import RolePlan


TAG = "vpskit"
UFW_FILES = ["/etc/ufw/user.rules", "/etc/ufw/user6.rules", "/etc/default/ufw", "/etc/ufw/ufw.conf"]
RESTORE = "if grep -q '^ENABLED=yes' /etc/ufw/ufw.conf; then ufw reload; else ufw --force disable; fi"
OWN_SYSCTL = "/etc/ufw/vpskit-sysctl.conf"
POLICIES = {"deny", "allow", "reject"}


def declared_rules(v: dict) -> list[UfwRule]:
    """The SSH rule(s) first, then the inventory's allows; each entry validated with a clear message."""
    ssh_action = "limit" if v["firewall_ssh_limit"] else "allow"
    ports = [v.get("ssh_port", 22), v.get("vpskit_login_port", 22)]
    rules = [UfwRule(ssh_action, "tcp", str(p), "any", f"{TAG}: ssh") for p in dict.fromkeys(ports)]
    for index, entry in enumerate(v["firewall_allow"]):
        where = f"firewall_allow[{index}]"
        if not isinstance(entry, dict) or "port" not in entry:
            raise VpskitError(f"{where} must be a mapping with at least a port, e.g. {{port: 443}}")
        unknown = set(entry) - {"port", "proto", "from", "comment"}
        if unknown:
            raise VpskitError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (port, proto, from, comment)")
        port, proto = str(entry["port"]), entry.get("proto", "tcp")
        if proto not in ("tcp", "udp"):
            raise VpskitError(f"{where}: proto must be tcp or udp, not {proto!r}")
        if not all(p.isdigit() and 0 < int(p) < 65536 for p in port.split(":")):
            raise VpskitError(f"{where}: port {port!r} is not a port or a range like 30000:32767")
        sources = entry.get("from", "any")
        for source in sources if isinstance(sources, list) else [sources]:
            if str(source) != "any" and not _network(str(source)):
                raise VpskitError(f"{where}: from {source!r} is not an address, a network like 10.0.0.0/8, or any")
            if re.search(r"[\x00-\x1f\x7f'\"]", str(entry.get("comment", ""))):
                raise VpskitError(f"{where}: comment must be one line without quotes")
            comment = f"{TAG}: {entry.get('comment', f'{port}/{proto}')}"
            rules.append(UfwRule("allow", proto, port, str(source), comment))
    return rules


def _network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
        return True
    except ValueError:
        return False


def allow_error(value) -> str | None:
    """Why firewall_allow is malformed (spec.yml's check: found at load, with file:line), else None."""
    if not isinstance(value, list):
        return f"must be a list of rules such as {{port: 443}}, got {type(value).__name__}"
    try:
        declared_rules({"firewall_ssh_limit": False, "firewall_allow": value})
    except VpskitError as exc:
        return str(exc).removeprefix("firewall_allow")
    return None


def plan(ctx) -> RolePlan:
    v = ctx.vars
    if not v["firewall_enabled"]:
        return RolePlan("firewall", [])
    needs = ctx.declared_network()
    routed = v["firewall_routed"] or ("allow" if needs.routed else "deny")
    for key, value in (("firewall_incoming", v["firewall_incoming"]), ("firewall_outgoing", v["firewall_outgoing"]),
                       ("firewall_routed", routed)):
        if value not in POLICIES:
            raise VpskitError(f"{key} must be deny, allow or reject, not {value!r}")
    rules = UfwRules(declared_rules(v) + [UfwRule("allow", p.proto, p.port, p.source, f"{TAG}: {p.purpose}")
                                          for p in needs.ports], tag=TAG, guarded=True, guarded_paths=UFW_FILES)
    ipt_sysctl = File(OWN_SYSCTL, content="# Managed by vpskit: kernel parameters are set by the sysctl role,\n"
                                          "# so ufw does not override them when it starts.\n")
    own_sysctl = Line("/etc/default/ufw", f"IPT_SYSCTL={OWN_SYSCTL}", regexp=r"^IPT_SYSCTL=", guarded=True)
    policy = UfwPolicy(v["firewall_incoming"], v["firewall_outgoing"], routed, v["firewall_logging"], guarded=True,
                       guarded_paths=UFW_FILES)
    return RolePlan(
        "firewall", [Packages(["ufw"]), Conffiles(["ufw"]), ipt_sysctl, rules, own_sysctl, policy],
        confirm=Confirm(restore=RESTORE, timeout=v["firewall_confirm_timeout"]),
    )
