"""The shape of monitoring_receivers (Alertmanager receivers), checked at inventory load through the role's spec."""

from __future__ import annotations

# Alertmanager receiver types: required keys, optional keys
RECEIVER_KEYS = {
    "slack": ({"url"}, {"channel", "send_resolved"}),
    "email": ({"to", "from", "smarthost"}, {"username", "password", "require_tls", "send_resolved"}),
    "webhook": ({"url"}, {"send_resolved", "max_alerts"}),
}


def receivers_error(receivers) -> str | None:
    """Why a monitoring_receivers list is malformed, else None. Pure."""
    if not isinstance(receivers, list):
        return f"must be a list of receivers, got {type(receivers).__name__}"
    for index, item in enumerate(receivers):
        if not isinstance(item, dict):
            return f"[{index}] must be a mapping with a type ({', '.join(RECEIVER_KEYS)})"
        kind = item.get("type")
        if kind not in RECEIVER_KEYS:
            return f"[{index}]: type must be one of {', '.join(RECEIVER_KEYS)}, got {kind!r}"
        required, optional = RECEIVER_KEYS[kind]
        missing = sorted(required - set(item))
        if missing:
            return f"[{index}] ({kind}): missing {', '.join(missing)}"
        unknown = sorted(set(item) - required - optional - {"type"})
        if unknown:
            return f"[{index}] ({kind}): unknown key {unknown[0]!r} (known: {', '.join(sorted(required | optional))})"
    return None
