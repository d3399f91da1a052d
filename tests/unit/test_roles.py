"""Pure logic of the hardening roles: crypto choice, ufw rules, logins, ignore lists, plans from defaults."""

import pytest

from vpskit.builtin_roles.fail2ban import ignore_list
from vpskit.builtin_roles.firewall import declared_rules
from vpskit.builtin_roles.ssh import allowed_users, check_root_login
from vpskit.builtin_roles.ssh.crypto import choose, key_exchange
from vpskit.confirm import arm_script
from vpskit.connection import client_algorithms
from vpskit.errors import VpskitError
from vpskit.facts.ufw import UfwFact, UfwRule, parse_tuple
from vpskit.inventory.model import Host, Var
from vpskit.lab.machine import sources_list
from vpskit.resources.ufw import rule_changes
from vpskit.logins import logins_for
from vpskit.role import Login
from vpskit.roleloader import RoleLibrary, all_defaults
from tests.unit.planctx import cluster, member_context


def defaults(**overrides):
    values = {k: v.value for k, v in all_defaults(RoleLibrary().all()).items()}
    values.update({"vpskit_login_user": "root", "vpskit_login_port": 22, "vpskit_ssh_key": None}, **overrides)
    return values


def test_post_quantum_key_exchange_by_openssh_version():
    assert key_exchange((10, 0))[0] == "mlkem768x25519-sha256"
    assert all("sntrup" in k or "mlkem" in k for k in key_exchange((9, 9)))
    assert key_exchange((9, 2))[0] == "sntrup761x25519-sha512@openssh.com"
    assert "sntrup761x25519-sha512@openssh.com" not in key_exchange((8, 4))


def test_crypto_always_leaves_vpskit_a_way_in():
    for version in ((8, 4), (9, 2), (10, 0)):
        chosen = choose(version, client_algorithms())
        for kind, names in chosen.items():
            assert set(names) & client_algorithms()[kind], (version, kind)
    crippled = {**client_algorithms(), "kex": {"diffie-hellman-group1-sha1"}}
    with pytest.raises(VpskitError, match="lock vpskit out"):
        choose((10, 0), crippled)
    with pytest.raises(VpskitError, match="OpenSSH version"):
        choose(None, client_algorithms())


def test_allow_users_always_keeps_the_operator():
    v = defaults(ssh_allow_users=["alice"], vpskit_login_user="root")
    assert allowed_users(v) == ["alice", "ops"]  # root is not allowed to log in, so it is left out
    assert allowed_users(defaults()) == []  # no AllowUsers line unless asked for
    with pytest.raises(VpskitError, match="lock vpskit out"):
        check_root_login(defaults(users_admin_name=None))


def test_ufw_tuples_and_changes():
    rule = parse_tuple("### tuple ### allow tcp 6443 0.0.0.0/0 any 10.1.2.0/24 in comment=7670736b69743a206b337320617069")
    assert rule == UfwRule("allow", "tcp", "6443", "10.1.2.0/24", "vpskit: k3s api")
    assert rule.spec() == "allow proto tcp from 10.1.2.0/24 to any port 6443"
    ssh = UfwRule("allow", "tcp", "22", "any", "vpskit: ssh")
    stray = UfwRule("allow", "tcp", "8443", "any", "vpskit: old")
    theirs = UfwRule("allow", "tcp", "25", "any", "")
    assert rule_changes([ssh, stray, theirs], [ssh, rule], "vpskit") == ([rule], [stray])


def test_ufw_fact_parses_status_policies_and_rules():
    output = ("installed=yes\nStatus: active\nDEFAULT_INPUT_POLICY=\"DROP\"\nDEFAULT_OUTPUT_POLICY=\"ACCEPT\"\n"
              "DEFAULT_FORWARD_POLICY=\"DROP\"\nIPT_SYSCTL=/etc/ufw/sysctl.conf\nENABLED=yes\nLOGLEVEL=low\n"
              "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=7670736b69743a20737368\n"
              "### tuple ### allow tcp 22 ::/0 any ::/0 in comment=7670736b69743a20737368\n")
    state = UfwFact().parse(output, 0)
    assert state["active"] and state["enabled"] and state["logging"] == "low"
    assert state["policies"] == {"incoming": "deny", "outgoing": "allow", "routed": "deny"}
    assert state["rules"] == [UfwRule("allow", "tcp", "22", "any", "vpskit: ssh")]


def test_firewall_rules_from_the_inventory():
    rules = declared_rules(defaults(ssh_port=2222, vpskit_login_port=22,
                                    firewall_allow=[{"port": 443}, {"port": "30000:32767", "proto": "udp",
                                                                    "from": ["10.0.0.2", "10.0.0.3"], "comment": "k3s"}]))
    ports = [(r.port, r.src) for r in rules]
    assert ports[:2] == [("2222", "any"), ("22", "any")]  # the new SSH port and the one in use
    assert ("443", "any") in ports and ("30000:32767", "10.0.0.3") in ports
    for bad, message in (([{"port": 99999}], "is not a port"), ([{"port": 80, "proto": "icmp"}], "proto"),
                         ([{"prot": 80}], "at least a port"), ([{"port": 80, "form": "x"}], "unknown key")):
        with pytest.raises(VpskitError, match=message):
            declared_rules(defaults(firewall_allow=bad))


def test_fail2ban_ignores_the_operator_unless_told_not_to():
    assert ignore_list(defaults(), "198.51.100.7") == ["127.0.0.1/8", "::1", "198.51.100.7"]
    assert "198.51.100.7" not in ignore_list(defaults(fail2ban_ignore_operator=False), "198.51.100.7")


def test_logins_try_the_hardened_one_first():
    host = Host("h", [], {"vpskit_user": Var("root", "t"), "users_admin_name": Var("ops", "t"),
                          "ssh_port": Var(2222, "t")})
    roles = RoleLibrary().all()
    assert logins_for(host, roles) == [Login("ops", 2222), Login("ops", 22), Login("root", 2222), Login("root", 22)]
    plain = Host("h", [], {"vpskit_user": Var("deploy", "t"), "users_admin_name": Var(None, "t")})
    assert logins_for(plain, roles) == [Login("deploy", 22)]


def test_revert_script_snapshots_and_schedules():
    script = arm_script("ssh-1", ["/etc/b", "/etc/a", "/etc/a"], "systemctl reload ssh", 60)
    assert "for p in /etc/a /etc/b;" in script
    assert "OnActiveSec=60" in script and "systemctl start vpskit-rollback-ssh-1.timer" in script
    assert "systemctl reload ssh" in script


def test_lab_sources_list_has_updates_and_security():
    text = sources_list("http://mirror.example/debian/", "trixie")
    assert "http://mirror.example/debian trixie-updates main" in text
    assert "http://mirror.example/debian-security trixie-security main" in text


def test_every_role_plans_from_its_defaults(tmp_path):
    key = tmp_path / "id"
    (tmp_path / "id.pub").write_text("ssh-ed25519 AAAAC3Nza operator\n")
    values = defaults(vpskit_ssh_key=str(key))
    inventory = cluster(values, ["h"])  # the k3s role plans only for cluster members
    for role in RoleLibrary().all():
        plan = role.plan(member_context({}, inventory, "h"))
        assert plan.role == role.name


def test_base_installs_tzdata_with_its_other_packages_when_a_time_zone_is_set():
    from pathlib import Path
    from vpskit.resources import Command, Packages
    from tests.unit.planctx import plan_context

    # this checkout's roles/, whichever checkout an editable install maps vpskit.builtin_roles to
    plan = RoleLibrary([Path(__file__).resolve().parents[2] / "roles"]).load("base").module.plan
    resources = plan(plan_context(defaults(base_timezone="Europe/Paris"))).resources
    packages = [r for r in resources if isinstance(r, Packages)]
    assert len(packages) == 1 and "tzdata" in packages[0].names and "curl" in packages[0].names
    zone = [r for r in resources if isinstance(r, Command) and r.name == "timezone Europe/Paris"]
    assert len(zone) == 1 and "does not exist on this host" in zone[0].command
    assert resources.index(packages[0]) < resources.index(zone[0])
    unset = plan(plan_context(defaults(base_timezone=None))).resources
    assert "tzdata" not in next(r for r in unset if isinstance(r, Packages)).names
    assert not [r for r in unset if isinstance(r, Command) and r.name.startswith("timezone")]
