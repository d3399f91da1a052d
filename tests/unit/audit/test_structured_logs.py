"""Structured logs: the probe's shell run against a stand-in `k3s` that prints what kubectl prints (the jsonpath
listing; `logs --prefix` lines as k8s.io/kubectl logs.go addPrefixIfNeeded writes them, `[pod/POD/CONTAINER] `),
bounded and filtered; and the judgement of JSON and plain lines."""

from __future__ import annotations

import os
import subprocess

from vpskit.audit import items_workloads
from vpskit.audit.cluster import logs
from vpskit.audit.model import Probes
from tests.unit.audit.workloads import DEFAULTS

STUB = r"""#!/bin/sh
# a stand-in k3s: `kubectl get … -o jsonpath=…` lists workloads, `kubectl logs -n NS KIND/NAME` prints its lines
[ "$1" = kubectl ] || exit 1
shift
case "$1" in
get) printf 'kube-system Deployment/coredns\nshop Deployment/backend\nshop StatefulSet/postgres\nshop Deployment/worker\nlegacy Deployment/old\n' ;;
logs)
  echo "$@" >> "$CALLS"
  case "$4" in
  deployment/backend) printf '[pod/backend-7c9d8f6b5-x2l4k/backend] {"level":"info","msg":"GET /healthz","status":200}\n'
                      printf '[pod/backend-7c9d8f6b5-x2l4k/backend] {"level":"info","msg":"GET /api/orders","status":200}\n' ;;
  statefulset/postgres) printf '[pod/postgres-0/postgres] 2026-12-03 10:00:00.123 UTC [1] LOG:  checkpoint starting: time\n' ;;
  deployment/worker) echo 'Error from server (BadRequest): container "worker" in pod "worker-5d9-abc" is waiting to start: ContainerCreating' >&2; exit 1 ;;
  esac ;;
esac
"""


def run_probe(tmp_path, **variables) -> tuple[str, list[str]]:
    stub = tmp_path / "k3s"
    stub.write_text(STUB)
    stub.chmod(0o755)
    calls = tmp_path / "calls"
    calls.write_text("")
    command = logs.probe({**DEFAULTS, **variables}, "k3s kubectl")
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "CALLS": str(calls)})
    assert done.returncode == 0, done.stderr
    return done.stdout, calls.read_text().splitlines()


def judged(output: str):
    v = {**DEFAULTS}
    item = next(i for i in items_workloads.items(v) if i.id == "obs.structured-logs")
    return item.judge(Probes({"cluster_node": (0, "server\n"), "app_logs": (0, output)}), v)


def test_the_probe_samples_the_audited_workloads_and_the_judge_names_the_plain_ones(tmp_path):
    output, calls = run_probe(tmp_path)
    assert [c.split()[3] for c in calls] == ["deployment/backend", "statefulset/postgres", "deployment/worker",
                                             "deployment/old"]  # kube-system left out
    assert all("--all-containers --prefix --tail=5" in c for c in calls)
    samples = {s.ref: s for s in logs.parse(output)}
    assert len(samples["shop/deployment/backend"].lines) == 2 and "ContainerCreating" in samples["shop/deployment/worker"].error
    found = judged(output)
    assert found.status == "fail" and "shop/statefulset/postgres: 1 of 1 line(s) not JSON" in found.evidence
    assert "backend" not in found.evidence


def test_the_sample_is_bounded_and_a_listed_scope_is_kept(tmp_path):
    _, calls = run_probe(tmp_path, audit_log_sample_workloads=2)
    assert len(calls) == 2
    _, calls = run_probe(tmp_path, audit_namespaces=["legacy"])
    assert [c.split()[3] for c in calls] == ["deployment/old"]


def test_all_json_passes_and_nothing_read_is_not_applicable():
    good = "=== shop Deployment/backend\n[pod/b-1/backend] {\"msg\":\"ok\"}\n[pod/b-1/sidecar] {\"msg\":\"ok\"}\n"
    assert judged(good).status == "pass"
    assert judged("").status == "n/a"
    waiting = "=== shop Deployment/worker\nError from server (BadRequest): container is waiting to start\n"
    found = judged(waiting)
    assert found.status == "n/a" and "waiting to start" in found.evidence
    assert judged("=== shop Deployment/x\n[pod/x-1/x] [1, 2]\n").status == "fail"  # JSON, but not an object
