"""Inventory loading: merge precedence, Ansible names, secrets, and every error with file and line."""

import textwrap
from pathlib import Path

import pytest

from vpskit.errors import InventoryError
from vpskit.inventory import load_inventory
from vpskit.inventory.model import Var
from vpskit.roleloader import RoleLibrary, all_specs
from vpskit.secrets import Secret

DEFAULTS = {
    "base_timezone": Var("Etc/UTC", "default"),
    "base_packages": Var(["curl"], "default"),
    "base_timesync": Var(True, "default"),
    "base_apt_cache_valid_time": Var(3600, "default"),
}
PREFIXES = {"base"}
# the built-in roles' typed specs: the formats of the values vpskit acts on
SPECS = all_specs(RoleLibrary().all())


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root / "hosts.yml"


HOSTS = """
all:
  vars:
    base_timezone: Europe/Paris
  children:
    web:
      vars:
        base_timezone: Europe/Berlin
      hosts:
        web1:
          ansible_host: 192.0.2.1
          ansible_port: 2222
        web2:
    db:
      children:
        db_primary:
          hosts:
            db1:
              vpskit_host: 192.0.2.9
"""


def load(tmp_path, files, overrides=None):
    return load_inventory(write(tmp_path, files), DEFAULTS, PREFIXES, overrides, specs=SPECS)


def test_precedence_defaults_groups_hosts_set(tmp_path):
    inv = load(tmp_path, {
        "hosts.yml": HOSTS,
        "group_vars/all.yml": "base_apt_cache_valid_time: 60\n",
        "group_vars/web.yml": "base_timezone: Asia/Tokyo\n",
        "group_vars/db/main.yml": "base_timezone: America/Lima\n",
        "group_vars/db_primary.yml": "base_timezone: Africa/Cairo\n",
        "host_vars/web2.yml": "base_timezone: Australia/Perth\n",
    }, overrides=["base_timesync=false"])
    web1, web2, db1 = inv.hosts["web1"], inv.hosts["web2"], inv.hosts["db1"]
    assert web1.get("base_timezone") == "Asia/Tokyo"  # group_vars file beats inline group vars
    assert web1.vars["base_timezone"].source.endswith("group_vars/web.yml:1")
    assert web2.get("base_timezone") == "Australia/Perth"  # host_vars beat groups
    assert db1.get("base_timezone") == "Africa/Cairo"  # child group beats parent
    assert web1.get("base_apt_cache_valid_time") == 60
    assert web1.get("base_packages") == ["curl"]  # role default
    assert web1.get("base_timesync") is False and web1.vars["base_timesync"].source == "--set"
    assert db1.groups == ["db", "db_primary"]


def test_ansible_connection_names_are_accepted(tmp_path):
    web1 = load(tmp_path, {"hosts.yml": HOSTS}).hosts["web1"]
    assert web1.get("vpskit_host") == "192.0.2.1" and web1.get("vpskit_port") == 2222


def test_limit_by_group_and_host(tmp_path):
    inv = load(tmp_path, {"hosts.yml": HOSTS})
    assert [h.name for h in inv.select("db,web1")] == ["db1", "web1"]
    with pytest.raises(InventoryError, match="matches no host or group"):
        inv.select("nope")


@pytest.mark.parametrize("files,message,where", [
    ({"hosts.yml": "all:\n  hosts:\n    a:\n      base_timezon: UTC\n"},
     "did you mean 'base_timezone'", "hosts.yml:4"),
    ({"hosts.yml": "all:\n  hosts:\n    a:\n      base_apt_cache_valid_time: soon\n"},
     "must be an integer, got a string", "hosts.yml:4"),
    ({"hosts.yml": "all:\n  hosts:\n    a:\n      base_timesync: 1\n"},
     "must be a boolean", "hosts.yml:4"),
    ({"hosts.yml": "all:\n  hosts:\n    a:\n      ansible_port: ssh\n"},
     "ansible_port must be an integer", "hosts.yml:4"),
    ({"hosts.yml": "all:\n  hosts:\n    a:\n  bad: [\n"}, "YAML syntax error", "hosts.yml:"),
    ({"hosts.yml": "all:\n  hosts:\n    a:\n  hostz:\n    b:\n"}, "unknown key 'hostz'", "hosts.yml:4"),
    ({"hosts.yml": "all:\n  hosts:\n    a:\n    a:\n"}, "duplicate key 'a'", "hosts.yml:4"),
    ({"hosts.yml": "all:\n  hosts:\n    a:\n", "group_vars/all.yml": "x: 1\nbase_frobnicate: 2\n"},
     "role 'base' has no such setting", "group_vars/all.yml:2"),
    ({"hosts.yml": "all:\n  hosts:\n    a:\n", "host_vars/a.yml": "vpskit_prot: 22\n"},
     "did you mean 'vpskit_port'", "host_vars/a.yml:1"),
    ({"hosts.yml": "all:\n  hosts:\n    a:\n      pw: !env VPSKIT_TEST_SURELY_UNSET\n"},
     "VPSKIT_TEST_SURELY_UNSET is not set", "hosts.yml:4"),
    ({"hosts.yml": "all:\n  hosts:\n    a:\n      pw: !file missing-secret\n"}, "cannot read", "hosts.yml:4"),
    ({"hosts.yml": "all:\n  children:\n    g:\n"}, "defines no hosts", "hosts.yml"),
    ({"hosts.yml": "- a\n- b\n"}, "must be a mapping", "hosts.yml:1"),
])
def test_errors_name_file_and_line(tmp_path, files, message, where):
    with pytest.raises(InventoryError) as info:
        load(tmp_path, files)
    text = str(info.value)
    assert message in text
    assert where in text


def test_set_is_validated_too(tmp_path):
    with pytest.raises(InventoryError, match="--set.*must be an integer|must be an integer"):
        load(tmp_path, {"hosts.yml": HOSTS}, overrides=["base_apt_cache_valid_time=abc"])
    with pytest.raises(InventoryError, match="expected key=value"):
        load(tmp_path, {"hosts.yml": HOSTS}, overrides=["novalue"])


def test_secrets_from_env_and_file(tmp_path, monkeypatch):
    monkeypatch.setenv("VPSKIT_TEST_TOKEN", "tok-123456")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pw").write_text("hunter2-long\n")
    inv = load(tmp_path / "inv", {"hosts.yml": f"all:\n  hosts:\n    a:\n      api: !env VPSKIT_TEST_TOKEN\n"
                                               f"      db_pass: !file {outside / 'pw'}\n"})
    a = inv.hosts["a"]
    assert isinstance(a.get("api"), Secret) and a.get("api") == "tok-123456"
    assert a.get("db_pass") == "hunter2-long"
    assert "tok-123456" not in repr(a.get("api"))


def test_relative_key_paths_resolve_against_the_inventory(tmp_path):
    inv = load(tmp_path, {"hosts.yml": "all:\n  hosts:\n    a:\n      vpskit_ssh_key: keys/id\n"})
    assert inv.hosts["a"].get("vpskit_ssh_key") == str((tmp_path / "keys/id").resolve())


def test_a_k3s_lab_inventory_puts_the_first_host_in_servers(tmp_path):
    from vpskit.lab.lab import Lab, LabHost, LabState
    from vpskit.roleindex import lab_layouts, role_folders
    hosts = {n: LabHost(n, f"10.0.0.{i}", "bookworm") for i, n in ((11, "lab1"), (12, "lab2"))}
    state = LabState("b", "10.0.0", hosts=hosts)
    k3s = lab_layouts(role_folders([]))["k3s"]  # `lab.up --k3s`: the k3s role's lab.yml
    (tmp_path / "hosts.yml").write_text(Lab(state_root=tmp_path).inventory_text(state, k3s.place(list(hosts))))
    inv = load_inventory(tmp_path / "hosts.yml")
    assert set(inv.hosts["lab1"].groups) == {"lab", "k3s_servers"}
    assert set(inv.hosts["lab2"].groups) == {"lab", "k3s_agents"}
    assert inv.hosts["lab2"].get("vpskit_host") == "10.0.0.12"


def one_host(key: str, value: str) -> dict[str, str]:
    """A one-host inventory whose only variable, on line 4, is `key: value`."""
    return {"hosts.yml": f"all:\n  hosts:\n    a:\n      {key}: {value}\n"}


@pytest.mark.parametrize("key,value,message", [
    ("vpskit_host", "'10.0.0.1; rm -rf /'", "vpskit_host must be an IP address or a DNS name"),
    ("ansible_host", "bad_name.example.com", "ansible_host must be an IP address or a DNS name"),
    ("ansible_host", "-lead.example.com", "must be an IP address or a DNS name"),
    ("ansible_host", "a" * 64 + ".example.com", "must be an IP address or a DNS name"),
    ("vpskit_host", "10.0.0.256", "neither a valid IPv4 address nor a name"),
    ("vpskit_host", "'[2001:db8::1]'", "without brackets"),
    ("vpskit_user", "Root", "vpskit_user must be a user name"),
    ("ansible_user", "'ops; id'", "ansible_user must be a user name"),
    ("ansible_user", "1ops", "must be a user name"),
    ("users_admin_name", "'ops$'", "users_admin_name must be a user name"),
    ("users_admin_name", "a" + "b" * 32, "at most 32 characters"),
    ("vpskit_port", "0", "vpskit_port must be a TCP port from 1 to 65535, got 0"),
    ("ansible_port", "65536", "ansible_port must be a TCP port from 1 to 65535"),
    ("ssh_port", "-22", "ssh_port must be a TCP port"),
    ("base_timezone", "'Europe/Paris; reboot'", "base_timezone must be a time zone name"),
    ("base_timezone", "../../etc/passwd", "must be a time zone name"),
    ("base_timezone", "/Europe/Paris", "must be a time zone name"),
    ("base_timezone", "UTC+2", "not an offset: got 'UTC+2'; a fixed offset is Etc/GMT-2"),
    ("base_timezone", "'-05:00'", "Etc/GMT+5"),
])
def test_values_vpskit_acts_on_are_checked_with_file_and_line(tmp_path, key, value, message):
    with pytest.raises(InventoryError) as info:
        load(tmp_path, one_host(key, value))
    assert message in str(info.value)
    assert info.value.path.endswith("hosts.yml") and info.value.line == 4


@pytest.mark.parametrize("key,value", [
    ("vpskit_host", "192.0.2.1"), ("vpskit_host", "2001:db8::1"), ("vpskit_host", "fe80::1%eth0"),
    ("ansible_host", "vps1.example.com"), ("ansible_host", "vps1.example.com."), ("ansible_host", "localhost"),
    ("ansible_host", "1and1.de"), ("vpskit_user", "ops"), ("ansible_user", "_deploy-2"),
    ("users_admin_name", "a" * 32), ("vpskit_port", "1"), ("ssh_port", "65535"),
    ("base_timezone", "UTC"), ("base_timezone", "Etc/UTC"), ("base_timezone", "America/Argentina/Buenos_Aires"),
    ("base_timezone", "America/Port-au-Prince"), ("base_timezone", "Etc/GMT+3"), ("base_timezone", "GMT+0"),
    ("base_timezone", "EST5EDT"), ("base_timezone", "null"), ("users_admin_name", "null"),
])
def test_plausible_values_pass(tmp_path, key, value):
    load(tmp_path, one_host(key, value))


def test_values_are_checked_in_every_layer(tmp_path):
    base = "all:\n  vars:\n    vpskit_port: 22\n  children:\n    g:\n      vars:\n        ssh_port: 2222\n" \
           "      hosts:\n        a:\n"
    for files, where in [
        ({"group_vars/all.yml": "x: 1\nansible_host: 'a b'\n"}, ("group_vars/all.yml", 2)),
        ({"group_vars/g/main.yml": "# admin\nusers_admin_name: Admin\n"}, ("group_vars/g/main.yml", 2)),
        ({"host_vars/a.yml": "base_timezone: Europe/Paris\nvpskit_port: 70000\n"}, ("host_vars/a.yml", 2)),
    ]:
        root = tmp_path / where[0].replace("/", "-")
        with pytest.raises(InventoryError) as info:
            load(root, {"hosts.yml": base, **files})
        assert info.value.path.endswith(where[0]) and info.value.line == where[1], str(info.value)
    with pytest.raises(InventoryError) as info:
        load(tmp_path / "inline", {"hosts.yml": base.replace("ssh_port: 2222", "ssh_port: 0")})
    assert info.value.line == 7 and "ssh_port must be a TCP port" in str(info.value)
    with pytest.raises(InventoryError, match=r"^--set: ansible_user must be a user name"):
        load(tmp_path / "set", {"hosts.yml": base}, overrides=["ansible_user=r00t!"])


def test_a_secret_value_is_not_shown_in_the_error(tmp_path, monkeypatch):
    monkeypatch.setenv("VPSKIT_TEST_HOST", "not a host name")
    with pytest.raises(InventoryError) as info:
        load(tmp_path, one_host("vpskit_host", "!env VPSKIT_TEST_HOST"))
    assert "not a host name" not in str(info.value) and "Secret(!env VPSKIT_TEST_HOST)" in str(info.value)


def test_a_host_name_cannot_reach_a_vars_file_outside_the_inventorys_folder(tmp_path):
    from vpskit.errors import InventoryError
    from vpskit.inventory import load_inventory
    (tmp_path / "inv" / "host_vars").mkdir(parents=True)
    (tmp_path / "outside.yml").write_text("vpskit_user: mallory\n")
    (tmp_path / "inv" / "hosts.yml").write_text("all:\n  hosts:\n    ../../outside:\n      vpskit_host: 192.0.2.1\n")
    with pytest.raises(InventoryError) as caught:
        load_inventory(tmp_path / "inv" / "hosts.yml")
    assert "must not hold" in caught.value.message and caught.value.line == 3
    for fine in ("web-1.example.org", "vps_2", "2001:db8::1", "10.0.0.7"):
        (tmp_path / "inv" / "hosts.yml").write_text(f"all:\n  hosts:\n    '{fine}':\n      vpskit_host: 192.0.2.1\n")
        assert fine in load_inventory(tmp_path / "inv" / "hosts.yml").hosts
