"""Every secret a role's spec declares, given as `!env` and as `!file` through the real loader, reaches the files
that need it as its plain text, and only files written as secret (0600, no diff, no kept copy): every place a
value is serialised (YAML manifests, Helm values, shell settings, INI-like files, JSON reports) sees the
loader's Secret type."""

from __future__ import annotations

import json

import pytest

from tests.unit.planctx import plan_context
from vpskit.inventory import load_inventory
from vpskit.roleloader import RoleLibrary, all_defaults, all_specs

SECRETS = {
    "backups_encryption_password": "enc-pass-1a2b", "backups_restic_password": "restic-pass-3c4d",
    "backups_heartbeat_url": "https://hc.example.org/ping/5e6f7a8b",
    "monitoring_grafana_admin_password": "grafana-pass-9c0d",
    "monitoring_heartbeat_url": "https://hc.example.org/ping/1e2f3a4b",
    "certs_dns01_cloudflare_token": "cf-token-5c6d7e8f",
}
RECEIVER = {"url": "https://hooks.example.org/T0/B0/9a8b7c6d", "password": "smtp-pass-2b3c"}
PLAIN = {
    "backups_k3s": True, "backups_files": ["/etc"], "backups_restic": True,
    "backups_restic_repository": "rest:https://backup.example.org/vps1",
    "monitoring_enabled": True, "certs_enabled": True, "certs_acme_email": "ops@example.org",
    "certs_dns01_zones": ["example.org"],
}


def loaded(tmp_path, monkeypatch, tag: str) -> dict:
    lines = []
    for index, (name, value) in enumerate([*SECRETS.items(), *(("receiver_" + k, v) for k, v in RECEIVER.items())]):
        if tag == "!env":
            monkeypatch.setenv(f"VPSKIT_TEST_SECRET_{index}", value)
            lines.append((name, f"!env VPSKIT_TEST_SECRET_{index}"))
        else:
            (tmp_path / f"secret{index}").write_text(value + "\n")
            lines.append((name, f"!file {tmp_path}/secret{index}"))
    given = dict(lines)
    text = "all:\n  hosts:\n    vps1:\n"
    text += "".join(f"      {name}: {source}\n" for name, source in lines if not name.startswith("receiver_"))
    text += (f"      monitoring_receivers:\n        - {{type: webhook, url: {given['receiver_url']}}}\n"
             f"        - {{type: email, to: ops@example.org, from: am@example.org, smarthost: 'smtp.example.org:587', "
             f"username: am, password: {given['receiver_password']}}}\n")
    text += "".join(f"      {k}: {json.dumps(v)}\n" for k, v in PLAIN.items())
    (tmp_path / "hosts.yml").write_text(text)
    roles = RoleLibrary().all()
    host = load_inventory(tmp_path / "hosts.yml", all_defaults(roles), {r.name for r in roles},
                          specs=all_specs(roles)).hosts["vps1"]
    assert type(host.get("backups_encryption_password")).__name__ == "Secret"
    return host.values


def contents(resource) -> list[str]:
    found = []
    for attribute in ("content", "stdin", "command"):
        value = getattr(resource, attribute, None)
        if isinstance(value, bytes):
            value = value.decode(errors="replace")
        if isinstance(value, str):
            found.append(value)
    return found


@pytest.mark.parametrize("tag", ["!env", "!file"])
@pytest.mark.parametrize("role", ["backups", "monitoring", "certs"])
def test_secrets_from_env_or_file_reach_only_secret_files_as_plain_text(tmp_path, monkeypatch, tag, role):
    values = loaded(tmp_path, monkeypatch, tag)
    groups = ["backups"] if role == "backups" else ["k3s_servers"]
    plan = RoleLibrary().load(role).plan(plan_context(values, "vps1", groups=groups))
    mine = [v for k, v in [*SECRETS.items(), *(("monitoring_" + k, v) for k, v in RECEIVER.items())]
            if k.startswith(role)]
    reached = set()
    for resource in plan.resources:
        for text in contents(resource):
            for secret in mine:
                if secret in text:
                    reached.add(secret)
                    assert resource.secret, f"{secret!r} in {resource.title}, which is not written as secret"
    assert reached == set(mine), set(mine) - reached
