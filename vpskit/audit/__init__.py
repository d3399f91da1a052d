"""`vpskit audit`: the production-readiness checklist checked against live hosts, read-only, as a report."""
