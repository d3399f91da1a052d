"""k3s_hardening: what the k3s role writes with K3s's CIS hardening guide switched on, judged by the audit's own
hard.k3s-* items (pass on, fail off); the files' content; protect-kernel-defaults only where the kernel holds the
kubelet's values; a second run changes nothing; restarts go through the role's restart handler; hostile values
are refused at load."""

from __future__ import annotations

import hashlib

import pytest
import yaml

from tests.unit.factstub import StubFacts
from tests.unit.audit.workloads import sysctl_read
from tests.unit.test_k3s import DEFAULTS, ctx_for
from vpskit.builtin_roles.k3s import audit as cis
from vpskit.audit.model import Probes
from vpskit.builtin_roles import sysctl
from vpskit.builtin_roles.k3s import plan
from vpskit.builtin_roles.k3s import hardening
from vpskit.builtin_roles.k3s.config import config, render
from vpskit.builtin_roles.k3s.topology import topology
from vpskit.errors import VpskitError
from vpskit.facts import FileFact, FileState, SysctlFact
from vpskit.resources import Directory, File
from vpskit.roleloader import RoleLibrary, all_defaults, all_specs

GUIDE_KERNEL = "0\n1\n10\n1\n"  # what `sysctl -n` prints for the audit's four keys once the sysctl role set them


def written(ctx) -> str:
    """The effective K3s config files as the audit's probe prints them: config.yaml, then the kernel drop-in
    when the role would write it."""
    text = f"--- # {cis.CONFIG}\n" + render(config(ctx, topology(ctx), None))
    drop_in = [r for r in plan(ctx).resources if getattr(r, "path", None) == hardening.KERNEL_DROP_IN]
    if drop_in and drop_in[0].state == "present":
        text += f"\n--- # {hardening.KERNEL_DROP_IN}\n" + drop_in[0].content
    return text


def judged(config_text: str, kernel: str = GUIDE_KERNEL) -> dict:
    probes = Probes({"cluster_node": (0, "server\n"), "k3s_config": (0, config_text), "k3s_kernel": sysctl_read(cis.KERNEL, kernel)})
    return {i.id: i.judge(probes, DEFAULTS).status for i in cis.hardening_items(DEFAULTS)}


def resources(ctx) -> dict:
    return {r.path: r for r in plan(ctx).resources if isinstance(r, (File, Directory))}


def kubelet_kernel(values: dict | None = None, access: str = "rw") -> dict:
    return {k: {"access": access, "value": str((values or {}).get(k, v))} for k, v in hardening.KUBELET_KERNEL.items()}


def test_the_audit_passes_on_what_the_role_writes_with_the_switch_on_and_fails_with_it_off():
    on = judged(written(ctx_for("s1", ["s1"], ["a1"], k3s_hardening=True)))
    assert on == {k: "pass" for k in on}, on
    off = judged(written(ctx_for("s1", ["s1"], ["a1"])), kernel="0\n0\n0\n1\n")
    assert off.pop("hard.k3s-secrets-encryption") == "pass"
    assert set(off.values()) == {"fail"}, off


def test_without_the_kernels_values_only_the_kernel_item_fails():
    # a container: the sysctl role could not set kernel.*, the kubelet would exit, the drop-in is not written
    ctx = ctx_for("s1", ["s1"], k3s_hardening=True)
    text = f"--- # {cis.CONFIG}\n" + render(config(ctx, topology(ctx), None))
    found = judged(text, kernel="0\n0\n0\n0\n")
    assert found.pop("hard.k3s-kernel-defaults") == "fail"
    assert set(found.values()) == {"pass"}


def test_the_admission_file_is_the_guides_restricted_psa_with_the_stack_namespaces_exempt():
    ctx = ctx_for("s1", ["s1"], k3s_hardening=True, k3s_pod_security_exempt_namespaces=["builds"])
    psa = resources(ctx)[hardening.PSA]
    document = yaml.safe_load(psa.content)
    assert (psa.mode, document["kind"]) == ("0600", "AdmissionConfiguration")
    pod_security, rate = document["plugins"]
    assert pod_security["configuration"]["defaults"] == {
        "enforce": "restricted", "enforce-version": "latest", "audit": "restricted", "audit-version": "latest",
        "warn": "restricted", "warn-version": "latest"}
    # kube-system, the stack roles' *_namespace values (no role named here), and the inventory's own
    assert pod_security["configuration"]["exemptions"]["namespaces"] == [
        "builds", "cert-manager", "kube-system", "logging", "monitoring"]
    # the EventRateLimit plugin refuses an empty limits list: the file gives it limits
    assert rate["name"] == "EventRateLimit" and rate["configuration"]["limits"]
    moved = ctx_for("s1", ["s1"], k3s_hardening=True, monitoring_namespace="observability",
                    k3s_pod_security_level="baseline")
    again = yaml.safe_load(resources(moved)[hardening.PSA].content)["plugins"][0]["configuration"]
    exempt = again["exemptions"]["namespaces"]
    assert "observability" in exempt and "monitoring" not in exempt
    assert again["defaults"]["enforce"] == "baseline"


def test_the_audit_policy_log_folder_and_rotation():
    ctx = ctx_for("s1", ["s1"], k3s_hardening=True, k3s_audit_log_maxage=7)
    found = resources(ctx)
    assert yaml.safe_load(found[hardening.AUDIT_POLICY].content) == {
        "apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{"level": "Metadata"}]}
    assert found[hardening.AUDIT_LOGS].mode == "0700" and found[hardening.SERVER_DIR].mode == "0700"
    args = config(ctx, topology(ctx), None)["kube-apiserver-arg"]
    assert {"audit-log-maxage=7", "audit-log-maxbackup=10", "audit-log-maxsize=100",
            f"audit-log-path={hardening.AUDIT_LOGS}/audit.log"} <= set(args)


def test_an_agent_gets_the_kubelets_part_only():
    agent = ctx_for("a1", ["s1"], ["a1"], k3s_hardening=True, k3s_agent_token="a" * 20)
    settings = config(agent, topology(agent), "t")
    assert set(settings["kubelet-arg"]) == set(hardening.component_args(agent.vars, False)["kubelet-arg"])
    assert not {"kube-apiserver-arg", "kube-controller-manager-arg"} & set(settings)
    assert hardening.PSA not in resources(agent) and hardening.KERNEL_DROP_IN in resources(agent)


def test_the_inventorys_own_arguments_win_and_the_guides_others_stay():
    extra = {"kube-apiserver-arg": ["audit-log-maxage=90", "request-timeout=300s"],
             "kubelet-arg": ["pod-max-pids=4096"]}
    ctx = ctx_for("s1", ["s1"], k3s_hardening=True, k3s_extra_config=extra)
    settings = config(ctx, topology(ctx), None)
    apiserver = settings["kube-apiserver-arg"]
    assert "audit-log-maxage=90" in apiserver and "audit-log-maxage=30" not in apiserver
    assert "request-timeout=300s" in apiserver and f"audit-policy-file={hardening.AUDIT_POLICY}" in apiserver
    assert "pod-max-pids=4096" in settings["kubelet-arg"] and len(settings["kubelet-arg"]) == 3
    off = ctx_for("s1", ["s1"], k3s_extra_config=extra)
    assert config(off, topology(off), None)["kube-apiserver-arg"] == extra["kube-apiserver-arg"]


def test_protect_kernel_defaults_only_where_the_kernel_holds_the_kubelets_values():
    drop_in = resources(ctx_for("s1", ["s1"], k3s_hardening=True))[hardening.KERNEL_DROP_IN]
    assert yaml.safe_load(drop_in.content) == {"protect-kernel-defaults": True}
    fact = SysctlFact(*hardening.KUBELET_KERNEL)
    assert drop_in.skip_reason(StubFacts([(fact, kubelet_kernel())])) is None
    # a container: kernel.* read-only at the host's values
    container = StubFacts([(fact, kubelet_kernel({"kernel.panic": 0, "vm.overcommit_memory": 0}, access="ro"))])
    assert "a container cannot set kernel.* sysctls" in drop_in.skip_reason(container)
    # the keyring limits the kubelet also compares are checked, never set
    low_keys = StubFacts([(fact, kubelet_kernel({"kernel.keys.root_maxkeys": 200}))])
    assert drop_in.skip_reason(low_keys) is not None
    assert set(hardening.KERNEL) < set(hardening.KUBELET_KERNEL)


def test_the_sysctl_role_sets_the_guides_kernel_parameters_on_members_with_the_switch():
    member = ctx_for("s1", ["s1"], ["a1"], k3s_hardening=True)
    assert sysctl.settings(member.vars, cluster_member=True).items() >= hardening.KERNEL.items()
    assert "kernel.panic" not in sysctl.settings(member.vars, cluster_member=False)
    assert "kernel.panic" not in sysctl.settings(ctx_for("s1", ["s1"]).vars, cluster_member=True)


def test_every_file_notifies_the_roles_restart_and_a_second_run_changes_nothing():
    ctx = ctx_for("s1", ["s1"], k3s_hardening=True)
    role = plan(ctx)
    restart = role.handlers[0].name
    files = [r for r in role.resources if isinstance(r, File) and r.path in (
        hardening.PSA, hardening.AUDIT_POLICY, hardening.KERNEL_DROP_IN)]
    assert len(files) == 3 and all(f.notify == (restart,) for f in files)
    for f in files:
        content = f.content.encode()
        facts = StubFacts([(FileFact(f.path), FileState("file", "root", "root", "0600", len(content),
                                                       hashlib.sha256(content).hexdigest(), content))])
        assert not f.check(facts).changed, f.path
    # rendering twice gives the same bytes (the run after is a no-op)
    twice = resources(ctx_for("s1", ["s1"], k3s_hardening=True))
    assert resources(ctx)[hardening.PSA].content == twice[hardening.PSA].content


def test_switching_off_removes_the_kernel_drop_in_through_the_restart():
    drop_in = resources(ctx_for("s1", ["s1"]))[hardening.KERNEL_DROP_IN]
    assert drop_in.state == "absent" and drop_in.notify
    assert not drop_in.check(StubFacts([(FileFact(drop_in.path), FileState("absent"))])).changed
    assert hardening.PSA not in resources(ctx_for("s1", ["s1"]))


@pytest.mark.parametrize("values, problem", [
    ({"k3s_pod_security_level": "restricted\nenforce: privileged"}, "k3s_pod_security_level"),
    ({"k3s_pod_security_exempt_namespaces": ["ok", "../etc"]}, "not Kubernetes names"),
    ({"k3s_pod_security_exempt_namespaces": "kube-system"}, "k3s_pod_security_exempt_namespaces"),
    ({"k3s_audit_log_maxage": "30 --audit-log-path=/tmp/x"}, "k3s_audit_log_maxage"),
    ({"k3s_audit_log_maxsize": 0}, "must be 1 or more"),
    ({"k3s_hardening": "yes"}, "k3s_hardening"),
])
def test_hostile_values_are_refused_at_load_with_file_and_line(tmp_path, values, problem):
    from vpskit.inventory.loader import load_inventory
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"k3s_servers": {"hosts": {"s1": values}}}))
    roles = RoleLibrary().all()
    with pytest.raises(VpskitError, match=problem) as caught:
        load_inventory(inventory, all_defaults(roles), {"k3s"}, specs=all_specs(roles))
    assert "hosts.yml:" in str(caught.value)
