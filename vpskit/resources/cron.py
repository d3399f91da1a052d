"""Scheduled jobs as files in /etc/cron.d, one file per job."""

from __future__ import annotations

import re

from .files import File

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
NICKNAMES = {"@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
FIELD_PATTERN = re.compile(r"^(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?)*$")


def validate_schedule(schedule: str) -> str:
    """Returns the schedule normalised, or raises ValueError explaining what is wrong. Pure."""
    text = " ".join(schedule.split())
    if text in NICKNAMES:
        return text
    fields = text.split(" ")
    if len(fields) != 5:
        raise ValueError(f"cron schedule {schedule!r} needs 5 fields (minute hour day month weekday) or @daily etc.")
    for field in fields:
        if not FIELD_PATTERN.match(field):
            raise ValueError(f"cron schedule {schedule!r}: field {field!r} is not valid")
    return text


def render_cron(name: str, schedule: str, command: str, user: str, env: dict[str, str] | None = None) -> str:
    """The /etc/cron.d file for one job. Pure."""
    lines = [f"# Managed by vpskit: cron job {name}", "SHELL=/bin/sh",
             "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    lines += [f"{k}={v}" for k, v in sorted((env or {}).items())]
    lines.append(f"{validate_schedule(schedule)} {user} {command}")
    return "\n".join(lines) + "\n"


class CronJob(File):
    """A cron.d entry (cron ignores file names with dots, so the name is restricted)."""

    kind = "cron"

    def __init__(self, job: str, schedule: str = "@daily", command: str = "", user: str = "root",
                 env: dict[str, str] | None = None, state: str = "present", **kwargs):
        if not NAME_PATTERN.match(job):
            raise ValueError(f"cron job name {job!r} may only use letters, digits, '-' and '_'")
        content = render_cron(job, schedule, command, user, env) if state == "present" else None
        super().__init__(f"/etc/cron.d/vpskit-{job}", content=content, state=state, mode="0644", name=job, **kwargs)
