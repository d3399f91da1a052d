"""The off-site repository: its kind (sftp, rest, s3), the secrets each needs, and how restic is pointed at it.

Credentials never reach a command line or the settings file: a REST server's user and password go into the URL
restic reads from a 0600 repository file (`--repository-file`), S3 keys into a 0600 environment file the program
reads before starting restic (restic's own AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). Pure.
"""

from __future__ import annotations

import re
import shlex
from urllib.parse import quote

SFTP = re.compile(r"^sftp:(?:([a-z_][a-z0-9_-]*)@)?([A-Za-z0-9.:-]+|\[[0-9a-fA-F:]+\]):(/[^\n]*)$")
# restic's rest backend: rest:http(s)://host[:port]/[path]; credentials come from their own variables
REST = re.compile(r"^rest:(https?)://([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(:\d{1,5})?(/[A-Za-z0-9._~/-]*)?$")
# restic's s3 backend: s3:https://endpoint/bucket[/prefix] (MinIO, Hetzner, Backblaze) or s3:s3.amazonaws.com/bucket
S3 = re.compile(r"^s3:(?:https?://)?[A-Za-z0-9.-]+(?::\d{1,5})?/[a-z0-9][a-z0-9.-]{1,62}(?:/[A-Za-z0-9._~/-]*)?$")
FORMS = "sftp:USER@HOST:/PATH, rest:https://HOST[:PORT]/PATH or s3:https://ENDPOINT/BUCKET[/PATH]"
NEEDS = {"sftp": ("backups_restic_ssh_key", "backups_restic_known_hosts"), "rest": (),
         "s3": ("backups_restic_s3_access_key_id", "backups_restic_s3_secret_access_key")}


def kind(repository) -> str:
    """sftp, rest or s3; ValueError naming the accepted forms for anything else."""
    text = str(repository or "")
    for name, form in (("sftp", SFTP), ("rest", REST), ("s3", S3)):
        if form.match(text):
            return name
    raise ValueError(f"backups_restic_repository must be {FORMS}, got {repository!r}")


def missing(v: dict) -> list[str]:
    """The variables the repository's kind needs that are not set (a REST user needs its password, and back)."""
    wanted = list(NEEDS[kind(v["backups_restic_repository"])])
    if v.get("backups_restic_rest_user") or v.get("backups_restic_rest_password"):
        wanted += ["backups_restic_rest_user", "backups_restic_rest_password"]
    return [k for k in wanted if not v.get(k)]


def location(v: dict) -> str:
    """What restic is given as the repository: a REST URL carries its user and password (percent-encoded)."""
    repository = str(v["backups_restic_repository"])
    if kind(repository) != "rest" or not v.get("backups_restic_rest_user"):
        return repository
    scheme, rest = repository[len("rest:"):].split("://", 1)
    user, password = (quote(str(v[k]), safe="") for k in ("backups_restic_rest_user", "backups_restic_rest_password"))
    return f"rest:{scheme}://{user}:{password}@{rest}"


def environment(v: dict) -> str:
    """The S3 environment file: restic's own variables, shell-quoted, read by the program before restic starts."""
    return "".join(f"{name}={shlex.quote(str(v[key]))}\n" for name, key in (
        ("AWS_ACCESS_KEY_ID", "backups_restic_s3_access_key_id"),
        ("AWS_SECRET_ACCESS_KEY", "backups_restic_s3_secret_access_key")))
