"""Fixtures for Molecule's verify step: the instance Molecule's create step recorded, reached from outside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import testinfra
import yaml


@pytest.fixture(scope="session")
def instance() -> dict:
    """The one instance of the scenario: address, login user, lab key, known_hosts, root password file."""
    config = yaml.safe_load(Path(os.environ["MOLECULE_INSTANCE_CONFIG"]).read_text())
    return config[0]


@pytest.fixture(scope="session")
def host(instance):
    """The instance through the system ssh, as the scenario's login user, checking the lab's host key."""
    extra = f"-o UserKnownHostsFile={instance['known_hosts']} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes"
    return testinfra.get_host(f"ssh://{instance['user']}@{instance['address']}:{instance['port']}",
                              ssh_identity_file=instance["identity_file"], ssh_extra_args=extra)


MANIFESTS = "/var/lib/rancher/k3s/server/manifests"


@pytest.fixture
def manifest(host):
    """A stack role's manifest in K3s's auto-deploy folder: root-only (it may hold secrets), parsed; HelmCharts by name."""
    def read(role: str) -> tuple[list[dict], dict[str, dict]]:
        path = f"{MANIFESTS}/vpskit-{role}.yaml"
        assert host.file(path).mode == 0o600
        documents = [d for d in yaml.safe_load_all(host.file(path).content_string) if d]
        return documents, {d["metadata"]["name"]: d["spec"] for d in documents if d["kind"] == "HelmChart"}
    return read
