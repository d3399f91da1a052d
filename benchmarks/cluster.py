"""vpskit alone: no-op runs of the whole `invoke bootstrap` (hardening + fake K3s) on 3 servers + 1 agent."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.e2e.k3s_mirror import K3sMirror
from vpskit.paths import default_playbook
from vpskit.playbook import load_playbook

from . import measure
from .tools import _timed, vpskit_command

SERVERS, AGENTS = 3, 1
VERSION = "v1.36.4+k3s1"
HEADING = "## Whole bootstrap, vpskit only"


def write_inventory(folder: Path, bench, mirror: K3sMirror, via=None) -> Path:
    """A bootstrap inventory: root with the lab's key, the fake K3s mirror, a kubeconfig inside `folder`;
    `via`: the hosts' proxied addresses and known_hosts (Bench.slow)."""
    folder.mkdir(parents=True, exist_ok=True)
    lab = bench.lab
    state = lab.load_state().hosts
    addresses, known = via or ({n: h.address for n, h in state.items()}, lab.known_hosts_path)
    servers, agents = bench.names(SERVERS), bench.names(AGENTS, SERVERS + 1)
    lines = ["all:", "  vars:", "    vpskit_user: root", f"    vpskit_ssh_key: {lab.key_path}",
             f"    vpskit_known_hosts: {known}", f"    k3s_release_url: {mirror.base_url}",
             f"    k3s_version: {VERSION}", "    k3s_ready_timeout: 120",
             f"    k3s_kubeconfig_path: {folder / 'kubeconfig'}", "  children:"]
    for group, names in (("k3s_servers", servers), ("k3s_agents", agents)):
        lines += [f"    {group}:", "      hosts:"]
        # k3s_node_ip the real address in both inventories: behind the latency proxy only vpskit's SSH is
        # slowed, the members still reach each other (and the controller the API) directly
        lines += [f"        {n}:\n          vpskit_host: {addresses[n]}\n          k3s_node_ip: {state[n].address}"
                  for n in names]
    path = folder / "hosts.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def bootstrap(inventory: Path, report: Path):
    """One timed `vpskit bootstrap` with a `--json` report; fails loudly unless it exits 0."""
    run = _timed(vpskit_command("bootstrap", "-i", str(inventory), "--quiet", "--json", str(report)))
    if run.returncode != 0:
        raise RuntimeError(f"vpskit bootstrap exited {run.returncode}:\n{run.output[-3000:]}")
    return run


def measure_cluster(bench) -> dict:
    """Fresh hosts with python3-yaml, the mirror on the lab's gateway, one converge, then `rounds` no-ops at
    0 ms and at 50 ms RTT; and the hardening no-op on the first host alone and on all of them, the whole
    bootstrap's yardsticks."""
    names = bench.names(SERVERS + AGENTS)
    bench.fresh(names)
    install = "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml >/dev/null"
    with ThreadPoolExecutor(len(names)) as pool:
        list(pool.map(lambda name: bench.sh(name, install), names))
    folder = bench.workdir / "cluster"
    with K3sMirror(bench.lab.gateway, versions=[VERSION]) as mirror:
        inventory = write_inventory(folder, bench, mirror)
        first = bootstrap(inventory, folder / "converge.json")  # not measured
        bench.log(f"vpskit-cluster: converged in {first.seconds:.2f}s")
        # round by round, so the machine's load (the converge's aftermath, other work) weighs on each alike
        fast, one, same = _interleaved(bench, [(inventory, folder / "fast", len(names), None),
                                               (inventory, folder / "hardening", 1, [names[0]]),
                                               (inventory, folder / "hardening-all", len(names), names)])
        with bench.slow(names) as via:
            slow_inventory = write_inventory(folder / "slow", bench, mirror, via)
            bootstrap(slow_inventory, folder / "slow-converge.json")  # the controller's proxied address
            slow = _noops(bench, slow_inventory, folder / "slow", len(names))
    return measure.cluster_summary(fast, slow, one, same)


def _noops(bench, inventory: Path, folder: Path, hosts: int, hardening: list[str] | None = None) -> dict:
    """`rounds` no-op bootstraps (`hardening`: the hardening play alone on those hosts): seconds, controller CPU
    and the per-host counts of each."""
    return _interleaved(bench, [(inventory, folder, hosts, hardening)])[0]


def _interleaved(bench, kinds: list[tuple]) -> list[dict]:
    """`rounds` no-ops of each kind (inventory, folder, hosts, hardening), one of each per round in turn."""
    results = [{"seconds": [], "cpu": [], "counts": []} for _ in kinds]
    for round_ in range(bench.rounds):
        for (inventory, folder, hosts, hardening), result in zip(kinds, results):
            folder.mkdir(parents=True, exist_ok=True)
            report = folder / f"noop-{round_}.json"
            run = bootstrap(inventory, report) if hardening is None else _hardening(inventory, report, hardening)
            result["seconds"].append(run.seconds)
            result["cpu"].append(run.controller_cpu)
            result["counts"].append(measure.bootstrap_counts(json.loads(report.read_text())))
            bench.log(f"vpskit-cluster: no-op {'bootstrap' if hardening is None else 'hardening'}, {hosts} host(s), "
                      f"{folder.name}: {run.seconds:.2f}s ({result['counts'][-1]['changed']} changes)")
    return results


def _hardening(inventory: Path, report: Path, hosts: list[str]):
    """`vpskit role` with the first play's roles on these hosts: the hardening no-op, in the cluster's inventory."""
    roles = ",".join(load_playbook(default_playbook())[0].roles)
    run = _timed(vpskit_command("role", roles, "-i", str(inventory), "--quiet", "--json", str(report),
                                "--limit", ",".join(hosts)))
    if run.returncode != 0:
        raise RuntimeError(f"vpskit bootstrap exited {run.returncode}:\n{run.output[-3000:]}")
    return run


def section(results: dict, rounds: int) -> str:
    """The Markdown section for results.md: a sentence on the setup, the table, where the K3s part comes from."""
    return "\n".join([
        HEADING,
        "",
        f"`vpskit bootstrap` (the hardening roles, then K3s) on {SERVERS} servers + {AGENTS} agent, "
        f"fresh Debian 12 lab hosts converged once, then {rounds} no-op runs at 0 ms and at 50 ms RTT (the "
        "latency proxy); the yardsticks are the hardening play alone on the first host and on the same hosts "
        "(`vpskit role` with its roles, `--limit`, in the same inventory): the lab's hosts share this machine's "
        "two cores, so four hosts' fact scripts take longer than one's, which separate VPSes would not. Commands "
        "and connections per host come from its `--json` report; controller CPU is the process's user + system "
        "time.",
        "",
        measure.cluster_table(results),
        "The K3s part runs against the fake K3s (tests/fakes/k3s), served from a release mirror on the lab's "
        "gateway, so these figures are vpskit's own cost, not a real K3s's.",
        "",
    ])
