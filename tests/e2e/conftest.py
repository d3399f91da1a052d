"""The e2e lab: three fresh Debian 12 hosts booted once per test session on a bridge of their own."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.helpers import invoke, journal_mark, lynis_index, password_login, sh, sshd_logins
from vpskit.lab import Lab

# CI sets this so a machine that cannot run the lab fails loudly instead of skipping
REQUIRE = os.environ.get("VPSKIT_E2E") == "require"
HOSTS = 3
# a developer running a second suite beside another sets both, so the two labs never share a bridge
LAB_NAME = os.environ.get("VPSKIT_TEST_LAB", "test")
LAB_SUBNET = os.environ.get("VPSKIT_TEST_SUBNET", "10.213.1")
# fresh hosts for the hardening roles, one per release, and the admin user they create
# lab hosts are named after the lab: test1 … test5 by default
H1, H2, H3 = (f"{LAB_NAME}{i}" for i in (1, 2, 3))
HARDEN_HOSTS = {"bookworm": f"{LAB_NAME}4", "trixie": f"{LAB_NAME}5"}
ADMIN = "ops"


def _lab_possible() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("systemd-nspawn", "mmdebstrap"):
        if not shutil.which(tool):
            return f"needs {tool}"
    return None


@pytest.fixture(scope="session")
def lab_capable():
    """This machine can boot lab hosts (root, systemd-nspawn, mmdebstrap); else skip, or fail under CI."""
    why = _lab_possible()
    if why:
        if REQUIRE:
            pytest.fail(f"e2e lab required but unavailable: {why}")
        pytest.skip(f"lab hosts unavailable: {why}")


@pytest.fixture(scope="session")
def lab(lab_capable):
    lab = Lab(name=LAB_NAME, subnet_prefix=LAB_SUBNET, log=lambda m: print(f"[lab] {m}"))
    lab.down()  # a previous run killed midway must not leave stale hosts behind
    lab.up(HOSTS, "bookworm")
    yield lab
    lab.down()


@pytest.fixture(scope="session")
def lab_inventory(lab, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("inventory") / "lab.yml"
    lab.write_inventory(path)
    return path


@pytest.fixture(scope="session")
def fresh(lab):
    """Two fresh hosts, one per release, with Lynis installed to score them before hardening."""
    lab.up(4, "bookworm")
    lab.up(5, "trixie")
    scores = {}
    for release, name in HARDEN_HOSTS.items():
        sh(lab, name, "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lynis >/dev/null")
        scores[release] = lynis_index(lab, name, "root")
    return scores


@pytest.fixture(scope="session")
def harden_inventory(lab, fresh, tmp_path_factory):
    folder = tmp_path_factory.mktemp("harden")
    path = folder / "hosts.yml"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "teammate", "-f", str(folder / "teammate")],
                   check=True)
    keys = [(lab.key_path.parent / "id_ed25519.pub").read_text().strip(), (folder / "teammate.pub").read_text().strip()]
    state = lab.load_state()
    hosts = "".join(f"    {n}:\n      vpskit_host: {state.hosts[n].address}\n" for n in HARDEN_HOSTS.values())
    path.write_text(
        "all:\n  vars:\n"
        "    vpskit_user: root\n"
        f"    vpskit_ssh_key: {lab.key_path}\n"
        f"    vpskit_known_hosts: {lab.known_hosts_path}\n"
        "    firewall_allow:\n      - {port: 80, comment: http}\n"
        "    fail2ban_bantime: 20s\n    fail2ban_maxretry: 3\n    fail2ban_recidive: true\n"
        f"    users_admin_keys:\n      - {keys[0]}\n      - {keys[1]}\n"
        f"  hosts:\n{hosts}"
    )
    return path


@pytest.fixture(scope="session")
def hardened(lab, fresh, harden_inventory):
    """Fresh hosts: password login works as on a new VPS; then one bootstrap hardens both."""
    password = lab.password_path.read_text().strip()
    before = {r: password_login(lab.load_state().hosts[n].address, "root", password) for r, n in HARDEN_HOSTS.items()}
    since = journal_mark()
    run = invoke("bootstrap", "-i", str(harden_inventory), "--quiet")
    print(run.stdout[-3000:])
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr
    # sshd's view of the first bootstrap's logins, for the remembered-logins tests (tests/e2e/test_logins.py)
    logins = {r: sshd_logins(lab, n, since, ADMIN) for r, n in HARDEN_HOSTS.items()}
    return {"password_before": before, "first_logins": logins}
