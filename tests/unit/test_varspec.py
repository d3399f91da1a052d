"""Typed variable specs and hostile input: every built-in role's spec loads; a mistake in a spec names its file
and line; the corpus of hostile inventories (tests/fixtures/hostile/) each stops at its file:line before anything
runs; values a spec declares secret are masked by `invoke inventory`; override templates are sandboxed."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vpskit.errors import InventoryError, VpskitError
from vpskit.inventory import load_inventory
from vpskit.inventory.varspec import load_spec
from vpskit.inventory.model import Var
from vpskit.roleloader import RoleLibrary, all_defaults, all_inventory_checks, all_specs
from vpskit.templating import TemplateError, Templates

HOSTILE = Path(__file__).parent.parent / "fixtures" / "hostile"
PROJECT = Path(__file__).resolve().parent.parent.parent


def load(path: Path):
    roles = RoleLibrary().all()
    return load_inventory(path, all_defaults(roles), {r.name for r in roles}, specs=all_specs(roles),
                          checks=all_inventory_checks(roles))


def test_every_built_in_roles_spec_loads_and_names_only_its_own_variables():
    for role in RoleLibrary().all():
        assert set(role.spec) <= set(role.defaults), role.name
    specs = all_specs(RoleLibrary().all())
    assert specs["backups_dir"].format == "owned_dir" and specs["certs_chart_version"].format == "version"
    assert specs["monitoring_receivers"].secret == ("url", "password")


@pytest.mark.parametrize("text, message", [
    ("nope_var: {format: word}\n", "spec.yml:1: nope_var: no such variable"),
    ("demo_dir: {format: folder}\n", "unknown format 'folder'"),
    ("demo_dir: {type: path}\n", "type must be one of"),
    ("demo_dir: {check: missing}\n", "check 'missing' is not a function"),
    ("demo_dir: {secert: true}\n", "a spec is a mapping of"),
])
def test_a_mistake_in_a_spec_names_its_file_and_line(tmp_path, text, message):
    (tmp_path / "spec.yml").write_text(text)
    with pytest.raises(VpskitError, match=re.escape(message)):
        load_spec(tmp_path / "spec.yml", "demo", {"demo_dir": Var("/var/demo", "default")}, object())


def hostile_cases():
    for path in sorted(HOSTILE.glob("*.yml")):
        head = dict(re.findall(r"^# (expect|line): (.*)$", path.read_text(), re.M))
        yield pytest.param(path, head["expect"], int(head["line"]), id=path.stem)


@pytest.mark.parametrize("path, message, line", list(hostile_cases()))
def test_a_hostile_inventory_stops_at_its_line_before_anything_runs(path, message, line):
    with pytest.raises(InventoryError) as caught:
        load(path)
    assert message in caught.value.message and caught.value.line == line, str(caught.value)


def test_the_corpus_has_a_case_for_each_class():
    assert len(list(HOSTILE.glob("*.yml"))) >= 9


def test_values_a_spec_declares_secret_are_masked_by_invoke_inventory(tmp_path):
    hook = "https://chat.example.org/hooks/T0/B0/Xq7secretpart"
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAA\\n-----END OPENSSH PRIVATE KEY-----"
    (tmp_path / "hosts.yml").write_text(
        "all:\n  hosts:\n    vps1:\n      vpskit_host: 192.0.2.10\n"
        f"      monitoring_receivers: [{{type: webhook, url: \"{hook}\"}}]\n"
        f"      backups_restic_ssh_key: \"{key}\"\n")
    done = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(PROJECT), "inventory", "-i",
                           str(tmp_path / "hosts.yml")], capture_output=True, text=True, cwd=PROJECT)
    assert done.returncode == 0, done.stderr
    assert "Xq7secretpart" not in done.stdout and "b3BlbnNzaC1rZXkt" not in done.stdout
    assert "monitoring_receivers" in done.stdout and "********" in done.stdout


def test_an_override_template_cannot_reach_pythons_internals(tmp_path):
    (tmp_path / "ssh").mkdir()
    (tmp_path / "ssh" / "evil.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(TemplateError, match="evil.j2"):
        Templates([tmp_path]).render("ssh/evil.j2", {})
    (tmp_path / "ssh" / "fine.j2").write_text("Port {{ port }}\n")
    assert Templates([tmp_path]).render("ssh/fine.j2", {"port": 22}) == "Port 22\n"


@pytest.mark.parametrize("value, fault", [
    ("/tmp/vpskit/lock", "must not be inside /tmp"), ("/dev/shm/lock", "must not be inside /dev/shm"),
    ("/var/tmp/x/lock", "inside /var/tmp"), ("/run/lock/vpskit", "inside /run/lock"),
    ("/home/admin/lock", "inside /home"), ("run/vpskit/lock", "absolute path"), ("/run/../tmp/lock", "normalised"),
    ("/lock", "file in a folder"), ("/run/vpskit/lock\n", "control characters"),
])
def test_a_lock_path_other_users_could_reach_is_refused(value, fault):
    from vpskit.inventory.formats import lock_path_error
    assert fault in lock_path_error(value)
    assert lock_path_error("/run/vpskit/lock") is None and lock_path_error("/var/lib/vpskit/run.lock") is None


@pytest.mark.parametrize("name, value, fault", [
    ("sysctl_extra", {"-p/etc/evil.conf": 1}, "keys must be kernel parameters"),
    ("sysctl_extra", {"kernel sysrq": 1}, "keys must be kernel parameters"),
    ("sysctl_network", {"net.ipv4.tcp_syncookies": "1\nkernel.sysrq = 1"}, "one line of text"),
    ("sysctl_kernel", {"kernel.sysrq": [1]}, "one line of text"),
    ("fail2ban_findtime", "10m\nmaxretry = 1000", "must be a duration"),
    ("fail2ban_ignoreip", ["10.0.0.0/8", "0.0.0.0/0 ; rm"], "must hold IP addresses, networks"),
    ("fail2ban_banaction", "-x", "must be a name"),
    ("fail2ban_maxretry", 0, "fail2ban_maxretry"),
])
def test_the_fail2ban_and_sysctl_specs_refuse_what_would_inject_lines_or_options(tmp_path, name, value, fault):
    import yaml
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"vps1": {name: value}}}}))
    with pytest.raises(InventoryError, match=re.escape(fault)):
        load(tmp_path / "hosts.yml")


def test_the_fail2ban_and_sysctl_specs_accept_what_their_upstreams_do(tmp_path):
    import yaml
    values = {"sysctl_extra": {"net.ipv4.tcp_rmem": "4096 87380 6291456", "kernel.perf_event_paranoid": -1,
                               "net/ipv4/conf/all/rp_filter": 2, "vm.swappiness": 10},
              "sysctl_ip_forward": True, "fail2ban_bantime": "1w", "fail2ban_findtime": "1h30m",
              "fail2ban_ignoreip": ["192.0.2.7", "10.0.0.0/8", "2001:db8::/32", "office.example.org"],
              "fail2ban_banaction": "nftables-multiport", "fail2ban_maxretry": 3}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"vps1": values}}}))
    assert load(tmp_path / "hosts.yml").hosts["vps1"].get("fail2ban_banaction") == "nftables-multiport"


def test_every_roles_defaults_pass_its_own_spec():
    from vpskit.audit.thresholds import audit_defaults, audit_specs
    for role in RoleLibrary().all():
        for name, spec in role.spec.items():
            assert spec.error(role.defaults[name].value) is None, (role.name, name)
    defaults = audit_defaults()
    for name, spec in audit_specs().items():
        value = defaults[name].value if hasattr(defaults[name], "value") else defaults[name]
        assert spec.error(value) is None, name


@pytest.mark.parametrize("values, fault", [
    ({"base_unattended_reboot_time": '03:30";\nDPkg::Pre-Invoke {"touch /tmp/pwned"};//'}, "must be a time of day"),
    ({"base_hostname": "web1\n127.0.0.1 evil"}, "base_hostname must be an IP address or a DNS name"),
    ({"base_hostname": "192.0.2.4"}, "must be a host name, not an address"),
    ({"baseline_login_defs": {".*": "x"}}, "setting names must be letters, digits and _"),
    ({"baseline_login_defs": {"UMASK": "027\nENCRYPT_METHOD MD5"}}, "UMASK: the value must be one line"),
    ({"baseline_restricted_modes": {"/home": "0700"}}, "could lock out logins"),
    ({"baseline_restricted_modes": {"/etc/crontab": "u+s"}}, "the mode must be octal"),
    ({"baseline_restricted_modes": {"/etc/../home": "0700"}}, "keys must be normalised absolute paths"),
    ({"baseline_debsums_cron": "weekly; rm -rf /"}, "baseline_debsums_cron must be one of daily, weekly"),
    ({"ssh_allow_tcp_forwarding": "no\nAuthorizedKeysFile /tmp/k"}, "ssh_allow_tcp_forwarding must be one of"),
    ({"ssh_allow_users": ["alice\nForceCommand /tmp/x"]}, "ssh_allow_users must not hold newlines"),
    ({"users_admin_groups": ["sudo", "-rf"]}, "must list group names"),
    ({"users_admin_shell": "bash"}, "must be a normalised absolute path"),
    ({"monitoring_namespace": "monitoring; rm -rf /"}, "not Kubernetes names"),
    ({"k3s_flannel_backend": "vxlan\nnode-ip: 1.2.3.4"}, "k3s_flannel_backend must be one of"),
    ({"backups_k3s_data_dir": "var/lib/rancher/k3s"}, "must be a normalised absolute path"),
    ({"k3s_api_allow": ["203.0.113.0/24", "any port 22"]}, "k3s_api_allow must hold IP addresses, networks"),
    ({"k3s_cluster_cidr": "10.42.0.0/16 proto udp"}, "k3s_cluster_cidr must hold IP addresses, networks"),
    ({"k3s_node_ip": "-10.0.0.1"}, "k3s_node_ip must be an IP address or a DNS name"),
])
def test_values_that_become_lines_words_or_paths_are_refused_at_load(tmp_path, values, fault):
    import yaml
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"vps1": values}}}))
    with pytest.raises(InventoryError, match=re.escape(fault)):
        load(tmp_path / "hosts.yml")


@pytest.mark.parametrize("values, fault", [
    ({"audit_expected_fqdn": "-s"}, "audit_expected_fqdn must be an IP address or a DNS name"),
    ({"audit_textfile_dir": "prometheus/node-exporter"}, "audit_textfile_dir must be a normalised absolute path"),
])
def test_the_audits_probe_words_are_checked_at_load(tmp_path, values, fault):
    import yaml
    from vpskit.audit.thresholds import audit_defaults, audit_specs
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"vps1": values}}}))
    roles = RoleLibrary().all()
    with pytest.raises(InventoryError, match=re.escape(fault)):
        load_inventory(tmp_path / "hosts.yml", {**all_defaults(roles), **audit_defaults()},
                       {*(r.name for r in roles), "audit"}, specs={**all_specs(roles), **audit_specs()})


# the audit thresholds a role owns are declared by that role (defaults.yml + spec.yml), under the names users know
ROLE_OWNED_THRESHOLDS = {"audit_max_backup_age_hours": ("backups", 6, "six"),
                         "audit_textfile_dir": ("backups", "/srv/metrics", "metrics"),
                         "audit_max_snapshot_age_hours": ("k3s", 2, "two"),
                         "audit_k3s_support_warn_days": ("k3s", 10, -1),
                         "audit_k3s_support": ("k3s", {"1.36": "2027-06-28"}, "soon"),
                         "audit_required_alerts": ("monitoring", ["NodeDown"], "NodeDown")}


@pytest.mark.parametrize("name", sorted(ROLE_OWNED_THRESHOLDS))
def test_a_role_owned_audit_threshold_reaches_the_host_and_a_bad_one_is_refused_at_its_line(tmp_path, name):
    from vpskit.audit.thresholds import audit_defaults, audit_specs
    owner, good, bad = ROLE_OWNED_THRESHOLDS[name]
    roles = RoleLibrary().all()
    assert name in next(r for r in roles if r.name == owner).spec and name not in audit_defaults()

    def load(value):
        (tmp_path / "hosts.yml").write_text(f"all:\n  hosts:\n    vps1:\n      {name}: {json.dumps(value)}\n")
        return load_inventory(tmp_path / "hosts.yml", {**all_defaults(roles), **audit_defaults()},
                              {*(r.name for r in roles), "audit"}, specs={**all_specs(roles), **audit_specs()})
    assert load(good).hosts["vps1"].values[name] == good
    with pytest.raises(InventoryError, match=re.escape(f"hosts.yml:4") + ".*" + name):
        load(bad)
