"""Unit tests never write the user's own files: HOME (where ~/.ssh/vpskit_known_logins lives) is a tmp folder."""

import pytest


@pytest.fixture(autouse=True)
def own_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
