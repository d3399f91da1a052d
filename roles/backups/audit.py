"""The backups role's audit items: backups scheduled, recent and restore-tested (the program's metrics, as
node-exporter's textfile collector reads them), and the disaster-recovery drill passed within dr_drill_max_age.

The drill records its report on the controller (vpskit/records.py, DRILLS), so the drill item reads a controller probe,
`controller:dr-drill`, which the audit fills in beside the host's own probes.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone

from vpskit.audit.model import Finding, Item, Probes
from vpskit.durations import human, seconds
from vpskit.facts.base import q
from vpskit.facts.files import FileFact

LAST_SUCCESS = "vpskit_backup_last_success_timestamp_seconds"
RESTORE_OK = "vpskit_backup_restore_test_success"
# the file the role's CronJob("backup") writes, read by the fact that step reads
CRON = "/etc/cron.d/vpskit-backup"
DRILL = "controller:dr-drill"


def textfile_probe(folder: str) -> str:
    """The backup metrics node-exporter's textfile collector would read."""
    return f"cat {q(folder)}/*.prom 2>/dev/null"


def metric_values(text: str, name: str) -> dict[str, float]:
    """Values of one metric from Prometheus text format, keyed by its label set ('' without labels)."""
    values = {}
    for line in text.splitlines():
        found = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})?\s+(\S+)", line)
        if found:
            try:
                values[found.group(1) or ""] = float(found.group(2))
            except ValueError:
                continue
    return values


def backup_policy(p: Probes, v: dict) -> Finding:
    state = p.fact("backup_cron")
    if state.kind != "file" or state.content is None:
        return Finding.fail(f"no {CRON}: backups are not scheduled")
    lines = [x for x in state.content.decode(errors="replace").splitlines()
             if x.strip() and not x.startswith(("#", "SHELL", "PATH"))]
    return Finding.ok("scheduled: " + "; ".join(lines)[:200])


def backup_age(p: Probes, v: dict) -> Finding:
    stamps = metric_values(p.out("textfile"), LAST_SUCCESS)
    if not stamps:
        return Finding.fail(f"no {LAST_SUCCESS} in {v['audit_textfile_dir']}: no backup has succeeded")
    hours = {labels: (time.time() - stamp) / 3600 for labels, stamp in stamps.items()}
    stale = {k: h for k, h in hours.items() if h > v["audit_max_backup_age_hours"]}
    text = ", ".join(f"{k or 'all'} {h:.1f} h ago" for k, h in sorted(hours.items()))
    return Finding.fail(f"too old: {text}") if stale else Finding.ok(f"last success: {text}")


def restore_test(p: Probes, v: dict) -> Finding:
    results = metric_values(p.out("textfile"), RESTORE_OK)
    if not results:
        return Finding.fail(f"no {RESTORE_OK}: no restore test has run (invoke backups.verify)")
    failed = [k or "all" for k, value in results.items() if value != 1]
    return Finding.fail(f"last restore test failed: {', '.join(failed)}") if failed else \
        Finding.ok(f"last restore test passed ({len(results)} set(s))")


def drill(p: Probes, v: dict) -> Finding:
    if not v.get("backups_restic"):
        return Finding.na("no off-site copy (backups_restic is off): there is nothing to rebuild the host from")
    rc, out = p.results.get(DRILL, (1, "no drill record was read"))
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
    textfile = {"textfile": textfile_probe(v["audit_textfile_dir"])}
    return [
        Item("infra.backup-policy", "infrastructure", "critical", "Backups automated", "invoke backups", backup_policy,
             {"backup_cron": FileFact(CRON)}, rank=40),
        Item("infra.backup-age", "infrastructure", "critical", "Last backup recent", "invoke backups", backup_age,
             textfile, rank=50),
        Item("infra.restore-test", "infrastructure", "critical", "Backup restoration tested", "invoke backups.verify",
             restore_test, textfile, rank=60),
        Item("ops.dr-drill", "operations", "warning", "Disaster recovery drilled", "invoke dr.drill", drill, rank=10),
    ]
