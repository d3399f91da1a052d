"""Installing the compared tools in a venv of their own, and running each one as the user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import floor, measure

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).parent
TOOLS_VENV = BENCH_DIR / ".venv-tools"
REQUIREMENTS = ["ansible", "pyinfra"]
# the console script pip installed beside this interpreter: what a user types
VPSKIT = Path(sys.executable).parent / "vpskit"
# the profile as a user role (benchmarks/roles/bench), run by the command
ROLES = BENCH_DIR / "roles"


def ensure_tools(install: bool = True) -> dict[str, str]:
    """Installs Ansible and pyinfra beside vpskit (not into its venv); returns their versions."""
    if not install:
        from vpskit import __version__
        return {"vpskit": __version__}
    if not (TOOLS_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS_VENV)], check=True)
    subprocess.run([str(TOOLS_VENV / "bin" / "pip"), "install", "-q", *REQUIREMENTS], check=True)
    versions = {}
    for name in ("ansible", "ansible-core", "pyinfra"):
        out = subprocess.run([str(TOOLS_VENV / "bin" / "pip"), "show", name], capture_output=True, text=True).stdout
        versions[name] = next((l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Version:")), "?")
    from vpskit import __version__
    versions["vpskit"] = __version__
    return versions


@dataclass
class Run:
    seconds: float
    peak_rss_mib: float
    controller_cpu: float  # the tool and the processes it waited for (Ansible's ssh clients)
    machine_cpu: float  # every process on this machine, the lab hosts included
    output: str
    returncode: int
    changed: int = -1  # as the tool reported it


def _machine_busy() -> float:
    return measure.busy_seconds(Path("/proc/stat").read_text(), os.sysconf("SC_CLK_TCK"))


def user_env(extra: dict | None = None) -> dict:
    """The environment a user's shell gives a tool: bytecode caches on (pip compiles them at install time; a
    test harness's PYTHONDONTWRITEBYTECODE would make every start compile every module again)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **(extra or {})}


def _timed(argv: list[str], env: dict | None = None, cwd: Path = PROJECT_ROOT) -> Run:
    busy, started = _machine_busy(), time.monotonic()
    process = subprocess.Popen(argv, cwd=cwd, env=user_env(env), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds, machine = time.monotonic() - started, _machine_busy() - busy
    return Run(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, machine, output,
               os.waitstatus_to_exitcode(status))


def write_inventories(folder: Path, hosts: list[tuple[str, str]], key: Path, known_hosts: Path) -> None:
    """The same hosts as a vpskit YAML inventory, an Ansible INI file, a pyinfra inventory module, and for the
    shell floor an ssh config, the addresses and the admin's public key."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["all:", "  vars:", "    vpskit_user: root", f"    vpskit_ssh_key: {key}",
             f"    vpskit_known_hosts: {known_hosts}", "  hosts:"]
    lines += [f"    {name}:\n      vpskit_host: {address}" for name, address in hosts]
    (folder / "hosts.yml").write_text("\n".join(lines) + "\n")
    ini = ["[bench]"] + [f"{name} ansible_host={address}" for name, address in hosts]
    ini += ["", "[bench:vars]", "ansible_user=root", f"ansible_ssh_private_key_file={key}",
            f"ansible_ssh_common_args='-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes'",
            f"admin_key_file={key}.pub"]
    (folder / "hosts.ini").write_text("\n".join(ini) + "\n")
    admin_key = Path(f"{key}.pub").read_text().strip()
    entries = ", ".join(
        f"({name!r}, {{'ssh_hostname': {address!r}, 'ssh_user': 'root', 'ssh_key': {str(key)!r}, "
        f"'ssh_known_hosts_file': {str(known_hosts)!r}, 'ssh_strict_host_key_checking': 'yes', "
        f"'admin_key': {admin_key!r}}})" for name, address in hosts)
    (folder / "pyinfra_inventory.py").write_text(f"bench = [{entries}]\n")
    (folder / floor.SSH_CONFIG).write_text(floor.ssh_config(key, known_hosts))
    (folder / floor.HOSTS).write_text("".join(f"{address}\n" for _name, address in hosts))
    (folder / floor.ADMIN_KEY).write_text(admin_key + "\n")


def vpskit_command(*args: str) -> list[str]:
    return [str(VPSKIT), *args]


def help_command(tool: str) -> list[str]:
    """The tool's --help: its start-up alone (imports and argument parsing), no host contacted. The shell floor
    has none."""
    return {"vpskit": vpskit_command("--help"), "pyinfra": [str(TOOLS_VENV / "bin" / "pyinfra"), "--help"],
            "ansible": [str(TOOLS_VENV / "bin" / "ansible-playbook"), "--help"]}[tool]


def run_tool(tool: str, folder: Path) -> Run:
    if tool == "vpskit":  # the command as typed, the profile as a user role; PYTHONPATH: the role imports benchmarks
        report = folder / f"report-{time.monotonic_ns()}.json"
        run = _timed(vpskit_command("role", "bench", "--roles-path", str(ROLES), "-i", str(folder / "hosts.yml"),
                                    "--quiet", "--json", str(report)), env={"PYTHONPATH": str(PROJECT_ROOT)})
        if report.exists():
            run.changed = measure.bootstrap_counts(json.loads(report.read_text()))["changed"]
    elif tool == "vpskit-api":  # the same profile driven through vpskit's Python API, in one process
        run = _timed([sys.executable, "-m", "benchmarks.vpskit_profile", str(folder / "hosts.yml")])
        run.changed = next((int(l.split('"changed": ')[1].split(",")[0])
                            for l in run.output.splitlines() if '"changed"' in l), -1)
    elif tool == "ansible":
        run = _timed(
            [str(TOOLS_VENV / "bin" / "ansible-playbook"), "-i", str(folder / "hosts.ini"),
             str(BENCH_DIR / "ansible" / "playbook.yml")],
            env={"ANSIBLE_CONFIG": str(BENCH_DIR / "ansible" / "ansible.cfg")})
        run.changed = measure.ansible_changed(run.output)
    elif tool == "pyinfra":
        run = _timed(
            [str(TOOLS_VENV / "bin" / "pyinfra"), "-y", "--parallel", "10", str(folder / "pyinfra_inventory.py"),
             str(BENCH_DIR / "pyinfra" / "deploy.py")], cwd=folder)
        run.changed = measure.pyinfra_changed(run.output)
    elif tool == "shell":  # the floor: a hand-written script, one ssh per host; it counts no changes
        run = _timed(floor.shell_command(folder))
    else:
        raise ValueError(f"unknown tool {tool}")
    return run
