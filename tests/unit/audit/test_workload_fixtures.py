"""The workload fixtures are objects the real API accepts: strict Kubernetes 1.35 schemas, and the ServiceMonitor
against prometheus-operator's CRD from the pinned chart (tests/charts renders it with the real helm)."""

from __future__ import annotations

import pytest

from tests.unit.audit.workloads import listed


@pytest.mark.parametrize("name", ["good", "bad", "monitors"])
def test_every_fixture_object_validates_strictly(name):
    from tests.unit.stack.kinds import validate
    items = listed(name)["items"]
    assert items and listed(name)["kind"] == "List"
    for item in items:
        validate(item, "1.35.0")
