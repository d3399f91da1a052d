"""Verify the users role from outside: the admin logs in with the key and has sudo; only declared keys."""


def test_admin_logs_in_with_its_key_and_has_sudo(host):
    assert host.run("id -un").stdout.strip() == "ops"
    assert host.run("sudo -n true").rc == 0


def test_admin_keys_are_the_declared_ones(host, instance):
    with open(instance["identity_file"] + ".pub") as handle:
        declared = handle.read().split()[1]
    keys = host.run("sudo -n cat /home/ops/.ssh/authorized_keys").stdout.split("\n")
    assert [line.split()[1] for line in keys if line.strip() and not line.startswith("#")] == [declared]
    assert host.file("/home/ops/.ssh/authorized_keys").mode == 0o600
