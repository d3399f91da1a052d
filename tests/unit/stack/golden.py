"""The stack roles' manifests against their golden files (VPSKIT_UPDATE_GOLDEN=1 rewrites them), kinds validated."""

from __future__ import annotations

import os
import re
from pathlib import Path

from vpskit.roleloader import RoleLibrary

from .kinds import documents, validate

GOLDEN = Path(__file__).parent / "golden"


def kubernetes_minor() -> str:
    """The Kubernetes minor version of the pinned K3s release (v1.36.4+k3s1 → 1.36)."""
    version = RoleLibrary().load("k3s").defaults["k3s_version"].value
    return re.match(r"v(\d+\.\d+)", version).group(1)


def assert_golden(name: str, text: str) -> None:
    golden = GOLDEN / name
    if os.environ.get("VPSKIT_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text(), f"{golden} differs (VPSKIT_UPDATE_GOLDEN=1 rewrites it)"


def validated_kinds(texts) -> list[str]:
    """Every document of these manifests validated for its kind; their kinds, sorted."""
    kinds = []
    for text in texts:
        for document in documents(text):
            validate(document, kubernetes_minor())
            kinds.append(document["kind"])
    return sorted(kinds)
