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
