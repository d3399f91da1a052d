"""invoke entry point: `invoke --list` shows vpskit's tasks (the `vpskit` command runs the same ones), plus bench
and molecule (the repository's own)."""

import os
import sys
from pathlib import Path

from invoke import Program, task

from vpskit.cli.options import fail
from vpskit.cli.program import end_fast_under_invoke
from vpskit.cli.tasks import build_namespace
from vpskit.errors import VpskitError


@task(help={"rounds": "repetitions of each measurement (default 3)",
            "tools": "comma-separated subset of vpskit,vpskit-api,pyinfra,ansible,shell,vpskit-cluster (default: "
                     "all; shell is the floor, a hand-written script whose first run alone is timed; vpskit "
                     "includes vpskit-cluster: a no-op of the whole bootstrap on 3 K3s servers + 1 agent, fake K3s)",
            "lab": "the lab the bench boots its hosts in (default bench; its hosts are removed at the end)",
            "subnet": "that lab's /24 as three octets (default 10.213.2)"})
def bench(c, rounds=3, tools=None, lab="bench", subnet="10.213.2"):
    """Benchmark vpskit against pyinfra, Ansible and a hand-written shell script on fresh lab hosts; writes
    benchmarks/results.md."""
    from benchmarks.runner import main  # the repository's own benchmark: not part of the shipped CLI
    try:
        print(main(int(rounds), tools.split(",") if tools else None, lab=lab, subnet=subnet))
    except VpskitError as exc:
        fail(str(exc))


@task(help={"scenario": "one scenario (default: every scenario under molecule/, one after another)",
            "release": "bookworm (Debian 12, default) or trixie (Debian 13)"})
def molecule(c, scenario=None, release="bookworm"):
    """Run the Molecule scenarios (the nightly-style run: CI runs ssh and firewall); one lab host each."""
    bin_dir = str(Path(sys.executable).parent)  # this venv's molecule, ansible-playbook, vpskit and pytest
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "VPSKIT_MOLECULE_RELEASE": release}
    which = ["-s", scenario] if scenario else ["--all"]
    c.run(" ".join([f"{bin_dir}/molecule", "test", *which]), env=env, pty=False)


@task
def charts(c):
    """Each pinned chart, the newest in the chart cache, and whether both render and validate with vpskit's values."""
    from tests.charts.report import main  # the repository's own check: it needs helm and the chart cache
    sys.exit(main())


end_fast_under_invoke(Program)
ns = build_namespace()
ns.add_task(bench)
ns.add_task(molecule)
ns.add_task(charts)
