"""The audit task: the production-readiness checklist against live hosts, read-only."""

from __future__ import annotations

from invoke import Exit, task

from ..audit.model import SEVERITIES  # the model alone: the checklist's items and probes load when it runs
from ..errors import VpskitError
from .options import DEFAULT_FORKS, RUN_HELP, fail

# the controller probe the drill item reads (its role's audit.py): the last `invoke dr.drill` record
DRILL_RECORD = "controller:dr-drill"


@task(help={"inventory": RUN_HELP["inventory"], "limit": RUN_HELP["limit"], "set_": RUN_HELP["set_"],
            "json": "also write the audit as JSON (schema in the README) to this file",
            "markdown": "also write a Markdown report (host, date, vpskit version, every item with evidence)",
            "fail_on": "exit 1 when an item of this severity or worse fails: critical (default), warning or info",
            "forks": RUN_HELP["forks"], "trust_new_hosts": RUN_HELP["trust_new_hosts"],
            "roles_path": RUN_HELP["roles_path"]}, iterable=["set_"])
def audit(c, inventory=None, limit=None, set_=None, json=None, markdown=None, fail_on="critical", forks=DEFAULT_FORKS,
          trust_new_hosts=False, roles_path=None):
    """Check the production-readiness checklist on live hosts (read-only): evidence and the fixing task per item."""
    if fail_on not in SEVERITIES:
        fail(f"--fail-on {fail_on!r}: choose one of {', '.join(SEVERITIES)}")
    from ..audit.outside.run import audit_urls
    from ..audit.report import text, write_json, write_markdown
    from ..audit.run import audit_hosts
    from .. import records
    from .common import inventory_file, load_project
    try:
        project = load_project(inventory, set_, roles_path)
        hosts = project.inventory.select(limit)
    except VpskitError as exc:
        fail(str(exc))
    path = inventory_file(inventory)
    # the hosts' (with the last drill's record read here), then what a user sees of the listed URLs from here
    audits = audit_hosts(hosts, project.library.all(), int(forks), trust_new_hosts,
                         lambda host: {DRILL_RECORD: records.read(path, records.DRILLS, host.name)}) + audit_urls(hosts)
    print(text(audits))
    if json:
        write_json(json, audits, fail_on)
    if markdown:
        write_markdown(markdown, audits)
    if any(a.error for a in audits) or any(a.failing(fail_on) for a in audits):
        raise Exit(code=1)
