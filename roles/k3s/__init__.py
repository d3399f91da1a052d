"""k3s role: a pinned, checksum-verified K3s server, HA member or agent; kubeconfig merged for the operator."""

from __future__ import annotations

import json
from pathlib import Path

from vpskit.errors import VpskitError
from vpskit.exports import Export
from vpskit.facts import CommandOutputFact, FileFact
from vpskit.facts.base import q
from vpskit.resources import (Command, Directory, Fetch, File, FlushHandlers, Permissions, Service, Upload,
                              Wait)
from vpskit.role import RolePlan

from .binary import STAGE, K3sBinary, staged_binary, staged_sums
from .config import AGENT_TOKEN_FILE, config, render
from .drain import DrainedRestart, NodeDrain
from .kubeconfig import merge
from .release import airgap_arch, binary_asset, images_asset, verify_airgap
from .binary import BINARY
from .nodename import name_error, node_name, registered_name
from . import hardening
from .ports import network  # noqa: F401  (the ports K3s needs, opened by the firewall role)
from .reboots import reboot_drains  # noqa: F401  (`invoke reboot` drains cluster nodes, one at a time)
from .topology import api_port, api_url, inventory_errors, topology  # noqa: F401 - inventory_errors: run at load
# spec.yml's checks of this role's variables
from .flags import extra_config_error  # noqa: F401,E402
from .labels import labels_error, taints_error  # noqa: F401,E402
from .versions import version_error  # noqa: F401,E402

CONFIG = "/etc/rancher/k3s/config.yaml"
TOKEN = "/var/lib/rancher/k3s/server/token"
AGENT_TOKEN = "/var/lib/rancher/k3s/server/agent-token"
KUBECONFIG = "/etc/rancher/k3s/k3s.yaml"
IMAGES = "/var/lib/rancher/k3s/agent/images"
NODES = "/usr/local/bin/k3s kubectl get nodes -o json"
UNINSTALL = "/usr/local/bin/k3s-uninstall.sh"


def plan(ctx) -> RolePlan:
    topo = topology(ctx)
    version = ctx["k3s_version"]
    unit = "k3s" if topo.is_server else "k3s-agent"
    token, agent_token = tokens(ctx, topo)
    restart = f"restart {unit}"
    resources = [Directory("/etc/rancher/k3s"), Directory(STAGE, mode="0700"), *artifacts(ctx, version),
                 K3sBinary(version, ctx["k3s_release_url"], airgap=bool(ctx.get("k3s_airgap_dir")),
                           snapshot=topo.is_server and topo.ha, notify=[restart]),
                 *generated_agent_token(topo, agent_token),
                 *hardening.resources(ctx.vars, topo.is_server, [restart]),
                 File(CONFIG, content=render(config(ctx, topo, token, agent_token)), mode="0600", secret=True,
                      notify=[restart]),
                 File(f"/etc/systemd/system/{unit}.service", notify=[restart],
                      content=ctx.render("k3s/k3s.service.j2", {"k3s_mode": "server" if topo.is_server else "agent"})),
                 File(UNINSTALL, mode="0700", content=ctx.render("k3s/k3s-uninstall.sh.j2")),
                 Service(f"{unit}.service", running=None),
                 FlushHandlers(),
                 Service(f"{unit}.service")]
    if topo.is_server:
        # K3s writes it 0600 only when it starts: a later chmod would leave cluster-admin credentials readable
        resources += [ready(ctx, topo), Permissions(KUBECONFIG, "0600", owner="root", group="root")]
    exports = []
    if topo.is_first:
        url = api_url(ctx, topo)
        exports = [Export("k3s_url", value=url),
                   Export("k3s_token", fact=FileFact(TOKEN), secret=True, predict="(the token K3s generates)",
                          extract=_content),
                   Export("k3s_agent_token", fact=FileFact(AGENT_TOKEN), secret=True,
                          predict="(the agent token K3s writes)", extract=_content)]
        resources.append(kubeconfig(ctx, url))
    handlers = [restart_handler(ctx, topo, unit)]
    return RolePlan("k3s", resources, handlers, exports=exports)


def tokens(ctx, topo) -> tuple[str | None, str | None]:
    """(token, agent token) for this host's config: servers share the server token, agents get the agent one."""
    token, agent_token = ctx.get("k3s_token"), ctx.get("k3s_agent_token")
    if topo.is_first:
        if token and str(token).startswith("K10"):
            raise VpskitError("k3s_token: a full K10… token cannot start a new cluster (its CA does not exist yet; "
                              "K3s's token docs: only the short form works on the first server); set the secret "
                              "alone, e.g. the part after 'server:'")
        return token, agent_token
    # every server admits agents with the same agent token; an agent holds that one only
    token = _given_or_published(ctx, topo, "k3s_token") if topo.is_server else None
    agent_token = _given_or_published(ctx, topo, "k3s_agent_token")
    return (token, agent_token) if topo.is_server else (agent_token, None)


def _given_or_published(ctx, topo, name: str):
    if ctx.get(name) is not None:
        return ctx[name]
    try:
        return ctx.exports.get(name)
    except VpskitError as exc:
        raise VpskitError(f"{exc}: a joining node needs the token the first server ({topo.first.name}) "
                          f"publishes; include it in --limit, or set {name}") from None


def generated_agent_token(topo, agent_token) -> list:
    """On the first server, when k3s_agent_token is not set: a random agent token, made once, kept 0600."""
    if not topo.is_first or agent_token is not None:
        return []
    make = (f"umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > {AGENT_TOKEN_FILE}.new "
            f"&& mv -f {AGENT_TOKEN_FILE}.new {AGENT_TOKEN_FILE}")
    return [Command(make, unless=f"test -s {AGENT_TOKEN_FILE}", name="generate the agent token", secret=True)]


def _content(state):
    return state.content.decode().strip() if state.content else None


def restart_command(unit: str, seconds: int) -> str:
    """Restart and wait for READY, bounded by k3s_ready_timeout: the unit itself never times out, as K3s's.

    --no-block would hide a failed join; when the wait ends the start goes on and the run says where to look.
    """
    return (f"systemctl daemon-reload && {{ timeout {int(seconds)} systemctl restart {unit}.service || "
            f"{{ rc=$?; [ $rc -ne 124 ] || echo \"{unit} did not report ready within {int(seconds)} s "
            f"(k3s_ready_timeout); it is still starting: journalctl -u {unit}\" >&2; exit $rc; }}; }}")


def restart_handler(ctx, topo, unit: str) -> DrainedRestart:
    """K3s's restart, drained first on a cluster of more than one node (drain.py); kubectl runs on this host
    when it is a server, else through the first server's session (an agent holds no cluster credentials)."""
    skip = None
    if not ctx["k3s_drain"]:
        skip = "k3s_drain is off: not drained"
    elif len(topo.members()) < 2:
        skip = "single-node cluster: not drained (no other node to move its pods to)"
    first = topo.first.name

    def kube(session):
        if topo.is_server:
            return session
        try:
            return ctx.session_of(first)
        except VpskitError as exc:
            raise VpskitError(f"draining {ctx.host} runs kubectl on the first server: {exc}; include {first} "
                              f"in --limit, or set k3s_drain: false") from None
    name, version = node_name(ctx), ctx["k3s_version"]
    return DrainedRestart(f"restart {unit}", restart_command(unit, ctx["k3s_ready_timeout"]),
                          NodeDrain(name, int(ctx["k3s_drain_timeout"]), int(ctx["k3s_ready_timeout"])), kube,
                          lambda node: node_ready(node, version, topo.ha and topo.is_server),
                          f"node {name} Ready on {version}" + (" and an etcd voter" if topo.ha and topo.is_server else ""),
                          skip)


def kubeconfig(ctx, url: str) -> Fetch:
    """The first server's k3s.yaml merged into the operator's kubeconfig as context k3s_context_name."""
    name = context_name(ctx, topology(ctx))
    return Fetch(KUBECONFIG, Path(ctx["k3s_kubeconfig_path"]).expanduser(), name="kubeconfig",
                 transform=lambda remote, local: merge(remote, local, name, url))


def context_name(ctx, topo) -> str:
    """k3s_context_name, else one name per cluster (its first server and API address): a second cluster
    merged into the same kubeconfig gets its own context instead of replacing the first one's."""
    if ctx.get("k3s_context_name"):
        return str(ctx["k3s_context_name"])
    endpoint = ctx.get("k3s_api_endpoint") or topo.addresses([topo.first])[0]
    return f"vpskit-{topo.first.name.lower()}-{endpoint}".replace(":", "-").replace("[", "").replace("]", "")


def kubeconfig_plan(ctx) -> RolePlan:
    """Only the kubeconfig (`invoke k3s.kubeconfig`), planned for the first server."""
    return RolePlan("k3s", [kubeconfig(ctx, api_url(ctx, topology(ctx)))])


def uninstall_plan(ctx) -> RolePlan:
    """Runs the uninstall script the role wrote (`invoke k3s.uninstall`); nothing when K3s is not there."""
    return RolePlan("k3s", [Command(UNINSTALL, unless=f"! test -x {UNINSTALL}", name="uninstall k3s")])


def forget_plan(ctx, host: str) -> RolePlan:
    """On a surviving server (`invoke k3s.replace HOST`): HOST's old Node deleted, which K3s follows by
    deleting its node-password secret (docs.k3s.io, agent registration), so the rebuilt host may join by
    that name; and what it joins with, published from this server."""
    topo = topology(ctx)
    if not topo.is_server:
        raise VpskitError(f"{ctx.host} is not a server: the old node is removed through a surviving server")
    view = ctx.inventory.host(host)
    problem = name_error(view.vars.get("k3s_node_name") or host)
    if problem:
        raise VpskitError(f"host {host}: {problem}")
    name = registered_name(view.vars.get("k3s_node_name") or host)
    delete = Command(f"{BINARY} kubectl delete node {q(name)} --ignore-not-found",
                     unless=f"! {BINARY} kubectl get node {q(name)} >/dev/null 2>&1", name=f"forget node {name}")
    address = topo.addresses([next(s for s in topo.servers if s.name == ctx.host)])[0]
    exports = [Export("k3s_url", value=f"https://{address}:{api_port(ctx)}"),
               Export("k3s_token", fact=FileFact(TOKEN), secret=True, extract=_content),
               Export("k3s_agent_token", fact=FileFact(AGENT_TOKEN), secret=True, extract=_content)]
    return RolePlan("k3s", [delete], exports=exports)


def artifacts(ctx, version: str) -> list:
    """In air-gap mode: the verified binary, sums and images uploaded; nothing is downloaded by anyone."""
    folder = ctx.get("k3s_airgap_dir")
    if not folder:
        return []
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise VpskitError(f"k3s_airgap_dir {folder} is not a folder")
    arch = airgap_arch(folder)
    files = verify_airgap(folder, arch)
    uploads = [Directory(f"{STAGE}/{version}", mode="0700"),
               Upload(files[binary_asset(arch)], staged_binary(version, arch), mode="0600"),
               Upload(folder / f"sha256sum-{arch}.txt", staged_sums(version), mode="0600")]
    if images_asset(arch) in files:
        uploads += [Directory(IMAGES), Upload(files[images_asset(arch)], f"{IMAGES}/{images_asset(arch)}", mode="0600")]
    return uploads


def ready(ctx, topo) -> Wait:
    """The node is Ready, runs the pinned version and, in an HA cluster, votes in etcd again.

    Waited for after a change on the host (a restart): on a no-op nothing restarted, and on a real cluster
    `k3s kubectl` takes a second of CPU to start, so the probe is not run at all.
    """
    name, version = node_name(ctx), ctx["k3s_version"]

    def holds(probe) -> bool:
        rc, output = probe
        node = _node(output, name) if rc == 0 else None
        return node is not None and node_ready(node, version, topo.ha)

    what = f"node {name} Ready on {version}" + (" and an etcd voter" if topo.ha else "")
    return Wait(CommandOutputFact(NODES), holds, what, timeout=ctx["k3s_ready_timeout"], interval=2,
                after_change=True)


def node_ready(node: dict, version: str, voter: bool) -> bool:
    """A Node object is Ready (on `version`, unless None) and, when `voter`, an etcd voter (K3s's EtcdIsVoter)."""
    conditions = {c.get("type"): c.get("status") for c in node.get("status", {}).get("conditions", [])}
    votes = conditions.get("EtcdIsVoter", "True") == "True" if voter else True
    return (conditions.get("Ready") == "True" and votes
            and version in (None, node.get("status", {}).get("nodeInfo", {}).get("kubeletVersion")))


def _node(output: str, name: str) -> dict | None:
    try:
        items = json.loads(output).get("items", [])
    except ValueError:
        return None
    return next((n for n in items if n.get("metadata", {}).get("name") == name), None)
