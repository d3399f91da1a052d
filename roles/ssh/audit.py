"""The ssh role's audit items: key-only logins and no root login, judged on sshd's effective settings as read
by the fact the role's own sshd_config step reads (SshdEffectiveFact: `sshd -T`)."""

from __future__ import annotations

from vpskit.audit.model import Finding, Item, Probes
from vpskit.facts.sshd import SshdEffectiveFact

# the settings without Match blocks: what every connection gets unless a block says otherwise
SSHD = {"sshd": SshdEffectiveFact(None)}


def effective(p: Probes) -> dict[str, str]:
    """keyword → first value of `sshd -T` (empty when sshd could not print its settings)."""
    found = p.fact("sshd").get("", {})
    return {key: values[0] for key, values in found.get("settings", {}).items() if values}


def key_only(p: Probes, v: dict) -> Finding:
    s = effective(p)
    if not s:
        error = p.fact("sshd").get("", {}).get("error", "")
        return Finding.fail(f"sshd -T failed: {error}" if error else "sshd -T printed nothing")
    bad = {k: s.get(k) for k in ("passwordauthentication", "kbdinteractiveauthentication") if s.get(k) != "no"}
    return Finding.fail(f"effective: {bad}") if bad else \
        Finding.ok("effective: passwordauthentication no, kbdinteractiveauthentication no")


def root_login(p: Probes, v: dict) -> Finding:
    value = effective(p).get("permitrootlogin", "unknown")
    text = f"effective: permitrootlogin {value}"
    return Finding.ok(text) if value == "no" else \
        Finding.warn(text) if value in ("prohibit-password", "without-password", "forced-commands-only") else Finding.fail(text)


def items(v: dict) -> list[Item]:
    return [
        Item("infra.ssh-key-only", "infrastructure", "critical", "SSH key-only authentication", "invoke ssh", key_only,
             SSHD, rank=80),
        Item("infra.root-login", "infrastructure", "critical", "Root login disabled", "invoke ssh", root_login, SSHD,
             rank=90),
    ]
