"""Waiting for charts against the fake K3s's kubectl: a job that completes, one that fails with a log, one that
never finishes (timeout); and the fake's helm-install jobs themselves."""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import sys
import time

import pytest
import yaml

from tests.fakes.k3s.build import build_fake_k3s
from tests.unit.localhost import LocalConnection
from vpskit.builtin_roles.k3s.charts import chart_wait, parse, probe_command
from vpskit.builtin_roles.k3s.manifests import MANIFESTS, helm_chart, render
from vpskit.inventory.model import Group, Host, Inventory, Var
from vpskit.playbook import Play
from vpskit.report import Reporter
from vpskit.resources import File
from vpskit.role import Role, RolePlan
from vpskit.roleloader import RoleLibrary
from vpskit.runner import Run, RunOptions
from vpskit.templating import Templates


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    path = tmp_path_factory.mktemp("fake") / "k3s"
    build_fake_k3s("v1.36.4+k3s1", path)
    return path


@pytest.fixture
def k3s(binary, tmp_path):
    """A kubectl command line for the fake, its root folder, and a way to say how each chart's job ends."""
    root = tmp_path / "root"
    command = f"FAKE_K3S_ROOT={shlex.quote(str(root))} {shlex.quote(sys.executable)} {shlex.quote(str(binary))} kubectl"

    def behave(**charts):
        path = root / "var/lib/rancher/k3s/fake-helm.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(charts))

    return {"root": root, "kubectl": command, "behave": behave}


def manifest(root, chart: str, namespace: str = "apps") -> File:
    text = render("test", [helm_chart(chart, chart, "https://charts.example.org", "1.0.0", namespace, {})])
    return File(f"{root}{MANIFESTS}/vpskit-{chart}.yaml", content=text, mode="0600")


def run(tmp_path, resources, check=False):
    host = Host("h", [], {"vpskit_lock_path": Var(str(tmp_path / "lock"), "test")})
    inventory = Inventory("test", {"h": host}, {"all": Group("all")})
    role = Role("stack", type("M", (), {"plan": staticmethod(lambda ctx: RolePlan("stack", resources))})(), {})
    stream = io.StringIO()
    started = time.monotonic()
    result = Run(inventory, [host], [Play("stack", "all", ["stack"])], RoleLibrary(given=[role]), Templates(),
                 RunOptions(check=check), Reporter(stream=stream), connect=LocalConnection).execute()[0]
    return result, stream.getvalue(), time.monotonic() - started


def shell(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)


def test_the_fakes_job_completes_after_its_delay_then_a_ready_deployment_appears(k3s):
    # long enough that the first probe comes before the job's end on a loaded machine (a probe starts Python)
    k3s["behave"](web={"outcome": "complete", "seconds": 5})
    path = k3s["root"] / MANIFESTS.lstrip("/") / "vpskit-web.yaml"
    path.parent.mkdir(parents=True)
    written = time.monotonic()
    path.write_text(render("test", [helm_chart("web", "web", "https://charts.example.org", "1", "apps", {})]))
    first = parse(shell(probe_command("web", "apps", k3s["kubectl"])).stdout)
    assert not first.installed and not first.failed
    time.sleep(max(0.0, written + 5.5 - time.monotonic()))
    later = parse(shell(probe_command("web", "apps", k3s["kubectl"])).stdout)
    assert later.installed and later.ready
    listing = json.loads(shell(f"{k3s['kubectl']} -n apps get deployments,statefulsets,daemonsets -o json").stdout)
    assert [i["metadata"]["name"] for i in listing["items"]] == ["web"]
    missing = shell(f"{k3s['kubectl']} -n kube-system get job helm-install-nope -o json")
    assert missing.returncode == 1 and "NotFound" in missing.stderr


def test_a_completing_chart_is_waited_for_and_then_ok(k3s, tmp_path):
    k3s["behave"](web={"outcome": "complete", "seconds": 1})
    steps = [manifest(k3s["root"], "web"), chart_wait("web", "apps", 20, k3s["kubectl"], interval=0.3)]
    result, report, _ = run(tmp_path, steps)
    assert not result.failed, report
    assert [s.status for s in result.steps] == ["changed", "changed"]
    assert "chart web installed (job helm-install-web complete) and its workloads in apps ready" in report
    again, report, _ = run(tmp_path, steps)
    assert [s.status for s in again.steps] == ["ok", "ok"], report


def test_a_failing_job_stops_the_wait_with_its_last_log_lines(k3s, tmp_path):
    k3s["behave"](db={"outcome": "fail", "seconds": 0.5,
                      "log": "\n".join([f"line {i}" for i in range(30)] + ["Error: INSTALLATION FAILED: bad value"])})
    result, report, took = run(tmp_path, [manifest(k3s["root"], "db"), chart_wait("db", "apps", 60, k3s["kubectl"],
                                                                                      interval=0.3)])
    assert result.failed and took < 30
    assert "the helm-install-db job failed; its last log lines" in result.error
    assert "Error: INSTALLATION FAILED: bad value" in result.error and "line 11" in result.error
    assert "line 10\n" not in result.error  # only the last 20 lines


def test_a_job_that_never_finishes_times_out_with_its_log(k3s, tmp_path):
    k3s["behave"](slow={"outcome": "never", "log": "pulling chart"})
    result, report, took = run(tmp_path, [manifest(k3s["root"], "slow"),
                                          chart_wait("slow", "apps", 1.5, k3s["kubectl"], interval=0.3)])
    assert result.failed and "not reached within 1.5s" in result.error
    assert "helm-install-slow has not completed" in result.error and "pulling chart" in result.error


def test_check_mode_says_what_it_would_wait_for_and_changes_nothing(k3s, tmp_path):
    result, report, _ = run(tmp_path, [manifest(k3s["root"], "web"), chart_wait("web", "apps", 5, k3s["kubectl"])],
                            check=True)
    assert [s.status for s in result.steps] == ["changed", "changed"]
    assert "wait for chart web installed" in report
    assert not (k3s["root"] / MANIFESTS.lstrip("/")).exists()


def test_switching_a_chart_off_removes_its_file_and_deletes_its_helmchart_and_addon(k3s, tmp_path):
    from vpskit.builtin_roles.k3s.manifests import uninstall_command
    from vpskit.resources import Handler
    path = f"{k3s['root']}{MANIFESTS}/vpskit-web.yaml"
    run(tmp_path, [manifest(k3s["root"], "web")])
    command = uninstall_command(["web"], ["helmchart.helm.cattle.io/web"]).replace("/usr/local/bin/k3s kubectl", k3s["kubectl"])
    off = [File(path, state="absent", notify=["uninstall web"])]
    host = Host("h", [], {"vpskit_lock_path": Var(str(tmp_path / "lock"), "test")})
    role = Role("stack", type("M", (), {"plan": staticmethod(
        lambda ctx: RolePlan("stack", off, [Handler("uninstall web", command, changes=[])]))})(), {})
    inventory = Inventory("test", {"h": host}, {"all": Group("all")})
    for _ in range(2):  # the second run: nothing to remove, nothing deleted again
        Run(inventory, [host], [Play("stack", "all", ["stack"])], RoleLibrary(given=[role]), Templates(),
            RunOptions(), Reporter(stream=io.StringIO()), connect=LocalConnection).execute()
    assert not (k3s["root"] / MANIFESTS.lstrip("/") / "vpskit-web.yaml").exists()
    deleted = (k3s["root"] / "var/lib/rancher/k3s/fake-deleted.log").read_text().splitlines()
    assert deleted == ["kube-system helmchart.helm.cattle.io/web", "kube-system addon.k3s.cattle.io/vpskit-web"]
