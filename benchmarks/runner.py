"""`invoke bench`: fresh lab hosts, each tool's first run and no-op runs, measured and written as Markdown."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from vpskit.connection import Connection, Target
from vpskit.lab import Lab

from . import cluster, measure
from .latency import LatencyProxy, Route, known_hosts_for, proxied_address
from .profile import STATE_COMMAND
from .tools import PROJECT_ROOT, ROLES, VPSKIT, _timed, ensure_tools, help_command, run_tool, user_env, write_inventories

TOOLS = ["vpskit", "vpskit-api", "pyinfra", "ansible", "shell"]
FLOOR = "shell"  # the hand-written script (benchmarks/shell/harden.sh): its first run and end state only
CLUSTER = "vpskit-cluster"  # vpskit alone: the whole bootstrap on a 4-host cluster (also run with "vpskit")
RESULTS = Path(__file__).parent / "results.md"
FLEET = 8
BIG_FLEET = 32  # the 32-host no-op: the vpskit command alone (the other tools would take an hour there)
SLOW_RTT = 0.050  # the latency proxy's round trip: a VPS 50 ms from the operator's laptop


class Bench:
    def __init__(self, rounds: int, log=print, lab: str = "bench", subnet: str = "10.213.2"):
        self.rounds, self.log = rounds, log
        self.lab = Lab(name=lab, subnet_prefix=subnet, log=lambda m: None)
        self.workdir = Path(tempfile.mkdtemp(prefix="vpskit-bench-"))

    def names(self, count: int, first: int = 1) -> list[str]:
        return [f"{self.lab.name}{i}" for i in range(first, first + count)]

    def number(self, name: str) -> int:
        return int(name.removeprefix(self.lab.name))

    @contextmanager
    def slow(self, names: list[str], rtt: float = SLOW_RTT):
        """These hosts behind the latency proxy: yields {name: proxied address} and a known_hosts file for them."""
        hosts = self.lab.load_state().hosts
        addresses = {hosts[n].address: proxied_address(self.lab.subnet_prefix, self.number(n)) for n in names}
        known = self.workdir / f"known_hosts-{int(rtt * 1000)}ms"
        known.write_text(known_hosts_for(self.lab.known_hosts_path.read_text(), addresses))
        routes = [Route(proxied, real) for real, proxied in addresses.items()]
        with LatencyProxy(self.lab.bridge, routes, rtt):
            yield {n: addresses[hosts[n].address] for n in names}, known

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
        self.lab.up(max(self.number(n) for n in known), "bookworm")
        for name in names:
            self.sh(name, "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null")

    def inventory(self, names: list[str], via: tuple[dict, Path] | None = None) -> Path:
        """The tools' inventories of these hosts; `via`: their proxied addresses and known_hosts (see slow)."""
        state = self.lab.load_state()
        folder = self.workdir / f"inv-{len(names)}-{time.monotonic_ns()}"
        addresses, known = via or ({n: state.hosts[n].address for n in names}, self.lab.known_hosts_path)
        write_inventories(folder, [(n, addresses[n]) for n in names], self.lab.key_path, known)
        return folder

    def run(self, tool: str, names: list[str], via: tuple[dict, Path] | None = None):
        result = run_tool(tool, self.inventory(names, via))
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed on {names}:\n{result.output[-3000:]}")
        return result

    def startup(self, tool: str) -> dict:
        """`TOOL --help` as a whole process, `rounds` times (after one unmeasured start that warms caches)."""
        command = help_command("vpskit" if tool == "vpskit-api" else tool)
        runs = [_timed(command) for _ in range(self.rounds + 1)][1:]
        return measure.summary([r.seconds for r in runs])

    def first_runs(self, tool: str) -> list:
        """`rounds` first runs of the tool, each on a fresh first host."""
        name, runs = self.names(1)[0], []
        for round_ in range(self.rounds):
            self.fresh([name])
            runs.append(self.run(tool, [name]))
            self.log(f"{tool}: first run {runs[-1].seconds:.2f}s ({runs[-1].changed} changes)")
        return runs

    def measure_floor(self, tool: str) -> dict:
        """The shell floor's first run on one fresh host and the end state it leaves: a hand-written script has
        no start-up of its own to time, and its no-op would be a second install, not a check."""
        first = self.first_runs(tool)
        return {"first run, 1 host": measure.summary([r.seconds for r in first]),
                "state": self.sh(self.names(1)[0], STATE_COMMAND)}

    def measure_tool(self, tool: str) -> dict:
        names = self.names(FLEET)
        ssh, changes = [], []
        runs = self.first_runs(tool)
        first, rss = [r.seconds for r in runs], [r.peak_rss_mib for r in runs]
        states = {"first": self.sh(names[0], STATE_COMMAND)}
        self.fresh(names[1:])
        self.run(tool, names[1:])  # converge the rest of the fleet (not measured)
        noop = {1: [], 4: [], 8: []}
        cpu = {"controller": [], "hosts": [], "one": []}
        for round_ in range(self.rounds):
            for count in (1, 4, 8):
                since = self.sh(names[0], "date +%s.%N").strip()
                run = self.run(tool, names[:count])
                noop[count].append(run.seconds)
                if count == FLEET:
                    cpu["controller"].append(run.controller_cpu)
                    cpu["hosts"].append(max(run.machine_cpu - run.controller_cpu, 0))
                if count == 1:
                    cpu["one"].append(run.controller_cpu)
                    rss.append(run.peak_rss_mib)
                    changes.append(run.changed)
                    journal = self.sh(names[0], f"journalctl -u ssh --since @{since} --no-pager -o cat")
                    counts = measure.count_ssh(journal)
                    counts["connections"] -= 1  # the journal query itself
                    counts["commands"] -= 1
                    ssh.append(counts)
                self.log(f"{tool}: no-op on {count} host(s) {run.seconds:.2f}s ({run.changed} changes)")
        slow = {1: [], 4: []}
        with self.slow(names[:4]) as via:
            self.run(tool, names[:4], via)  # unmeasured: the hosts see the controller at its proxied address
            for round_ in range(self.rounds):
                for count in (1, 4):
                    run = self.run(tool, names[:count], via)
                    slow[count].append(run.seconds)
                    self.log(f"{tool}: no-op on {count} host(s) at {SLOW_RTT * 1000:.0f} ms RTT {run.seconds:.2f}s")
        fleet = self.big_fleet(tool, noop[1]) if tool == "vpskit" else {}
        return {
            **fleet,
            "start-up: `--help`, whole process": self.startup(tool),
            "first run, 1 host": measure.summary(first),
            "no-op, 1 host": measure.summary(noop[1]),
            "no-op, 1 host: controller CPU": measure.summary(cpu["one"]),
            "no-op, 1 host, 50 ms RTT": measure.summary(slow[1]),
            "no-op, 4 hosts, 50 ms RTT": measure.summary(slow[4]),
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

    def big_fleet(self, tool: str, one_host: list[float]) -> dict:
        """The no-op on BIG_FLEET hosts (booted one after another, converged once, unmeasured): wall, controller
        CPU and peak memory, and the wall against the 1-host no-op's median."""
        names = self.names(BIG_FLEET)
        self.fresh(names[FLEET:])
        self.run(tool, names[FLEET:])
        runs = []
        for round_ in range(self.rounds):
            run = self.run(tool, names)
            runs.append(run)
            self.log(f"{tool}: no-op on {BIG_FLEET} hosts {run.seconds:.2f}s, CPU {run.controller_cpu:.2f}s, "
                     f"{run.peak_rss_mib:.0f} MiB ({run.changed} changes)")
        one = measure.summary(one_host)["median"]
        return {f"no-op, {BIG_FLEET} hosts": measure.summary([r.seconds for r in runs]),
                f"no-op, {BIG_FLEET} hosts / no-op, 1 host": measure.summary([r.seconds / one for r in runs]),
                f"no-op, {BIG_FLEET} hosts: controller CPU": measure.summary([r.controller_cpu for r in runs]),
                f"no-op, {BIG_FLEET} hosts: controller peak RSS": measure.summary([r.peak_rss_mib for r in runs])}

    def imports(self, name: str) -> dict:
        """`python -X importtime` of `vpskit --help` and of the command's no-op on one host."""
        folder = self.inventory([name])
        found = {}
        for label, argv in (("vpskit --help", help_command("vpskit")[1:]),
                            ("vpskit role bench (no-op, 1 host)", ["role", "bench", "--roles-path", str(ROLES), "-i",
                                                                    str(folder / "hosts.yml"), "--quiet"])):
            done = subprocess.run([sys.executable, "-X", "importtime", str(VPSKIT), *argv], capture_output=True,
                                  text=True, cwd=PROJECT_ROOT, env=user_env({"PYTHONPATH": str(PROJECT_ROOT)}))
            found[label] = measure.import_times(done.stderr)
        return found


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(rounds: int = 3, tools: list[str] | None = None, log=print, lab: str = "bench",
         subnet: str = "10.213.2") -> str:
    Lab.preflight()
    loads = [load()]
    tools = tools or TOOLS
    unknown = sorted(set(tools) - {*TOOLS, CLUSTER})
    if unknown:
        raise ValueError(f"unknown tool(s) {', '.join(unknown)}; choose from {', '.join([*TOOLS, CLUSTER])}")
    compared = [t for t in tools if t in TOOLS]
    versions = ensure_tools(install=bool({"pyinfra", "ansible"} & set(compared))) if compared else {}
    bench = Bench(rounds, log, lab, subnet)
    results, cluster_results, imports = {}, None, {}
    try:
        for tool in compared:
            results[tool] = bench.measure_floor(tool) if tool == FLOOR else bench.measure_tool(tool)
            if tool == "vpskit":
                imports = bench.imports(bench.names(1)[0])
        if "vpskit" in tools or CLUSTER in tools:
            cluster_results = cluster.measure_cluster(bench)
    finally:
        bench.lab.down()
    loads.append(load())
    extra = cluster.section(cluster_results, rounds) if cluster_results else ""
    if not compared:  # the cluster alone: replace its section of results.md, keep the three-tool table
        RESULTS.write_text(measure.with_section(RESULTS.read_text() if RESULTS.exists() else "", cluster.HEADING,
                                                extra))
        return extra
    tools = compared
    states = {tool: r.pop("state") for tool, r in results.items()}
    same = len(set(states.values())) == 1
    text = "\n".join([
        "# Benchmark: the same harden profile with vpskit, pyinfra, Ansible and a shell script",
        "",
        f"Fresh Debian 12 lab hosts (systemd-nspawn, near-zero round-trip time), {rounds} rounds each, "
        f"medians with minimums; {platform.processor() or platform.machine()}, Python {platform.python_version()}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ".",
        f"End state identical across tools: {'yes' if same else 'NO — see benchmarks/states.json'}.",
        f"Load average (1, 5, 15 min) at the start: {loads[0]}; at the end: {loads[1]} (2 cores).",
        "",
        measure.table(results, tools),
        "`vpskit` is the command as a user types it (`vpskit role bench --roles-path benchmarks/roles`, the "
        "profile as a user role); `vpskit-api` the same profile driven through the Python API in one process. "
        "Every figure is a whole process, start-up included; controller CPU is user + system time of the tool "
        "and the processes it waited for. The 50 ms rows run through the bench's latency proxy "
        "(benchmarks/latency.py: a userspace TCP forwarder delaying each direction by 25 ms).",
        *(["", f"`{FLOOR}` is the floor: a hand-written script (benchmarks/shell/harden.sh) carried with the files "
           "in one `ssh` per host (a tar stream into `tar x && bash harden.sh`); only its first run is measured, "
           "and issue 21's target is vpskit's first run within 5 % of it."] if FLOOR in tools else []),
        "",
        *measure.imports_section(imports),
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
