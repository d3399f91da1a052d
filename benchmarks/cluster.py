"""vpskit alone: no-op runs of the whole `invoke bootstrap` (hardening + fake K3s) on 3 servers + 1 agent."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.e2e.k3s_mirror import K3sMirror

from . import measure
from .tools import _timed

SERVERS = ["bench1", "bench2", "bench3"]
AGENTS = ["bench4"]
VERSION = "v1.36.4+k3s1"
HEADING = "## Whole bootstrap, vpskit only"


def write_inventory(folder: Path, lab, mirror: K3sMirror) -> Path:
    """A bootstrap inventory: root with the lab's key, the fake K3s mirror, a kubeconfig inside `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    hosts = lab.load_state().hosts
    lines = ["all:", "  vars:", "    vpskit_user: root", f"    vpskit_ssh_key: {lab.key_path}",
             f"    vpskit_known_hosts: {lab.known_hosts_path}", f"    k3s_release_url: {mirror.base_url}",
             f"    k3s_version: {VERSION}", "    k3s_ready_timeout: 120",
             f"    k3s_kubeconfig_path: {folder / 'kubeconfig'}", "  children:"]
    for group, names in (("k3s_servers", SERVERS), ("k3s_agents", AGENTS)):
        lines += [f"    {group}:", "      hosts:"]
        lines += [f"        {n}:\n          vpskit_host: {hosts[n].address}" for n in names]
    path = folder / "hosts.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def bootstrap(inventory: Path, report: Path):
    """One timed `python -m invoke bootstrap` with a `--json` report; fails loudly unless it exits 0."""
    run = _timed([sys.executable, "-m", "invoke", "bootstrap", "-i", str(inventory), "--quiet",
                  "--json", str(report)])
    if run.returncode != 0:
        raise RuntimeError(f"invoke bootstrap exited {run.returncode}:\n{run.output[-3000:]}")
    return run


def measure_cluster(bench) -> dict:
    """Fresh hosts with python3-yaml, the mirror on the lab's gateway, one converge, then `rounds` no-ops."""
    names = SERVERS + AGENTS
    bench.fresh(names)
    install = "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml >/dev/null"
    with ThreadPoolExecutor(len(names)) as pool:
        list(pool.map(lambda name: bench.sh(name, install), names))
    folder = bench.workdir / "cluster"
    with K3sMirror(bench.lab.gateway, versions=[VERSION]) as mirror:
        inventory = write_inventory(folder, bench.lab, mirror)
        first = bootstrap(inventory, folder / "converge.json")  # not measured
        bench.log(f"vpskit-cluster: converged in {first.seconds:.2f}s")
        seconds, counts = [], []
        for round_ in range(bench.rounds):
            report = folder / f"noop-{round_}.json"
            run = bootstrap(inventory, report)
            seconds.append(run.seconds)
            counts.append(measure.bootstrap_counts(json.loads(report.read_text())))
            bench.log(f"vpskit-cluster: no-op bootstrap on {len(names)} hosts {run.seconds:.2f}s "
                      f"({counts[-1]['changed']} changes)")
    return measure.cluster_summary(seconds, counts)


def section(results: dict, rounds: int) -> str:
    """The Markdown section for results.md: a sentence on the setup, the table, where the K3s part comes from."""
    return "\n".join([
        HEADING,
        "",
        f"`invoke bootstrap` (the hardening roles, then K3s) on {len(SERVERS)} servers + {len(AGENTS)} agent, "
        f"fresh Debian 12 lab hosts converged once, then {rounds} no-op runs; commands and connections per "
        "host come from its `--json` report.",
        "",
        measure.cluster_table(results),
        "The K3s part runs against the fake K3s (tests/fakes/k3s), served from a release mirror on the lab's "
        "gateway, so these figures are vpskit's own cost, not a real K3s's.",
        "",
    ])
