"""The disaster-recovery drill item: the last `invoke dr.drill` of the host passed within dr_drill_max_age.

The drill records its report on the controller (vpskit/dr/record.py), so this item reads a controller probe,
`controller:dr-drill`, which the audit fills in beside the host's own probes.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from ..durations import human, seconds
from .model import Finding, Item, Probes

PROBE = "controller:dr-drill"


def drill(p: Probes, v: dict) -> Finding:
    if not v.get("backups_restic"):
        return Finding.na("no off-site copy (backups_restic is off): there is nothing to rebuild the host from")
    rc, out = p.results.get(PROBE, (1, "no drill record was read"))
    if rc != 0:
        return Finding.fail(f"{out}: run invoke dr.drill --host HOST --onto SPARE")
    report = json.loads(out)
    when = datetime.fromtimestamp(report["started"], timezone.utc).strftime("%Y-%m-%d")
    age, limit = time.time() - report["started"], seconds(v["dr_drill_max_age"])
    if not report.get("passed"):
        return Finding.fail(f"the last drill ({when}, onto {report['target']}) failed: "
                            + "; ".join(report.get("failures") or ["no reason recorded"]))
    figures = f"RTO {human(report['rto'])}, RPO {human(report['rpo'])}"
    if age > limit:
        return Finding.fail(f"the last passed drill ({when}, {figures}) is {human(age)} old, more than "
                            f"dr_drill_max_age ({human(limit)})")
    return Finding.ok(f"drill passed {when} onto {report['target']}: {figures}")


def items(v: dict) -> list[Item]:
    return [Item("ops.dr-drill", "operations", "warning", "Disaster recovery drilled", "invoke dr.drill", drill)]
