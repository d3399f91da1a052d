"""`invoke bench`: fresh lab hosts, each tool's first run and no-op runs, measured and written as Markdown."""

from __future__ import annotations

import json
import platform
import tempfile
import time
from pathlib import Path

from vpskit.connection import Connection, Target
from vpskit.lab import Lab

from . import cluster, measure
from .profile import STATE_COMMAND
from .tools import ensure_tools, run_tool, write_inventories

TOOLS = ["vpskit", "pyinfra", "ansible"]
CLUSTER = "vpskit-cluster"  # vpskit alone: the whole bootstrap on a 4-host cluster (also run with "vpskit")
RESULTS = Path(__file__).parent / "results.md"
FLEET = 8


class Bench:
    def __init__(self, rounds: int, log=print):
        self.rounds, self.log = rounds, log
        self.lab = Lab(name="bench", subnet_prefix="10.213.2", log=lambda m: None)
        self.workdir = Path(tempfile.mkdtemp(prefix="vpskit-bench-"))

    def _target(self, name: str) -> Target:
        host = self.lab.load_state().hosts[name]
        return Target(name, host.address, key_file=str(self.lab.key_path),
                      known_hosts=[str(self.lab.known_hosts_path)], connect_retries=3)

    def sh(self, name: str, command: str) -> str:
        with Connection(self._target(name)) as conn:
            return conn.run(command).stdout

    def fresh(self, names: list[str]) -> None:
        """Replaces these hosts with fresh ones that have python3, as a provider's image does."""
        for name in names:
            self.lab.stop_host(name)
        known = set(self.lab.load_state().hosts) | set(names)
        self.lab.up(max(int(n.removeprefix("bench")) for n in known), "bookworm")
        for name in names:
            self.sh(name, "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null")

    def inventory(self, names: list[str]) -> Path:
        state = self.lab.load_state()
        folder = self.workdir / f"inv-{len(names)}-{time.monotonic_ns()}"
        write_inventories(folder, [(n, state.hosts[n].address) for n in names], self.lab.key_path,
                          self.lab.known_hosts_path)
        return folder

    def run(self, tool: str, names: list[str]):
        result = run_tool(tool, self.inventory(names))
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed on {names}:\n{result.output[-3000:]}")
        return result

    def measure_tool(self, tool: str) -> dict:
        names = [f"bench{i}" for i in range(1, FLEET + 1)]
        first, rss, ssh, changes = [], [], [], []
        for round_ in range(self.rounds):
            self.fresh(names[:1])
            run = self.run(tool, names[:1])
            first.append(run.seconds)
            rss.append(run.peak_rss_mib)
            self.log(f"{tool}: first run {run.seconds:.2f}s ({run.changed} changes)")
        states = {"first": self.sh(names[0], STATE_COMMAND)}
        self.fresh(names[1:])
        self.run(tool, names[1:])  # converge the rest of the fleet (not measured)
        noop = {1: [], 4: [], 8: []}
        cpu = {"controller": [], "hosts": []}
        for round_ in range(self.rounds):
            for count in (1, 4, 8):
                since = self.sh(names[0], "date +%s.%N").strip()
                run = self.run(tool, names[:count])
                noop[count].append(run.seconds)
                if count == FLEET:
                    cpu["controller"].append(run.controller_cpu)
                    cpu["hosts"].append(max(run.machine_cpu - run.controller_cpu, 0))
                if count == 1:
                    rss.append(run.peak_rss_mib)
                    changes.append(run.changed)
                    journal = self.sh(names[0], f"journalctl -u ssh --since @{since} --no-pager -o cat")
                    counts = measure.count_ssh(journal)
                    counts["connections"] -= 1  # the journal query itself
                    counts["commands"] -= 1
                    ssh.append(counts)
                self.log(f"{tool}: no-op on {count} host(s) {run.seconds:.2f}s ({run.changed} changes)")
        return {
            "first run, 1 host": measure.summary(first),
            "no-op, 1 host": measure.summary(noop[1]),
            "no-op, 4 hosts": measure.summary(noop[4]),
            "no-op, 8 hosts": measure.summary(noop[8]),
            "no-op SSH connections per host": measure.summary([c["connections"] for c in ssh]),
            "no-op remote commands per host": measure.summary([c["commands"] for c in ssh]),
            "no-op changes reported": measure.summary(changes),
            "no-op, 8 hosts: controller CPU": measure.summary(cpu["controller"]),
            "no-op, 8 hosts: hosts' CPU": measure.summary(cpu["hosts"]),
            "controller peak RSS": measure.summary(rss),
            "state": states["first"],
        }


def main(rounds: int = 3, tools: list[str] | None = None, log=print) -> str:
    Lab.preflight()
    tools = tools or TOOLS
    unknown = sorted(set(tools) - {*TOOLS, CLUSTER})
    if unknown:
        raise ValueError(f"unknown tool(s) {', '.join(unknown)}; choose from {', '.join([*TOOLS, CLUSTER])}")
    compared = [t for t in tools if t in TOOLS]
    versions = ensure_tools() if compared else {}
    bench = Bench(rounds, log)
    results, cluster_results = {}, None
    try:
        for tool in compared:
            results[tool] = bench.measure_tool(tool)
        if "vpskit" in tools or CLUSTER in tools:
            cluster_results = cluster.measure_cluster(bench)
    finally:
        bench.lab.down()
    extra = cluster.section(cluster_results, rounds) if cluster_results else ""
    if not compared:  # the cluster alone: replace its section of results.md, keep the three-tool table
        RESULTS.write_text(measure.with_section(RESULTS.read_text() if RESULTS.exists() else "", cluster.HEADING,
                                                extra))
        return extra
    tools = compared
    states = {tool: r.pop("state") for tool, r in results.items()}
    same = len(set(states.values())) == 1
    text = "\n".join([
        "# Benchmark: the same harden profile with vpskit, pyinfra and Ansible",
        "",
        f"Fresh Debian 12 lab hosts (systemd-nspawn, near-zero round-trip time), {rounds} rounds each, "
        f"medians with minimums; {platform.processor() or platform.machine()}, Python {platform.python_version()}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ".",
        f"End state identical across tools: {'yes' if same else 'NO — see benchmarks/states.json'}.",
        "",
        measure.table(results, tools),
        "Remote commands are counted from sshd's journal (`Starting session`) on the first host during a "
        "no-op run; on a real VPS each costs a network round trip. SSH connections are new logins during the "
        "no-op run: Ansible's 0 means it reused the ControlPersist master connection its previous run left "
        "open (60 s). Hosts' CPU is everything this machine ran outside the tool's own processes during the "
        "run: the lab hosts' sshd, shells and programs (for Ansible, a Python module per task on each host).",
        "",
    ]) + ("\n" + extra if extra else "")
    RESULTS.write_text(text)
    (RESULTS.parent / "states.json").write_text(json.dumps(states, indent=2) + "\n")
    return text
