"""Syntax checks for the inventory values vpskit acts on: addresses, user names, ports, time zones, backups."""

from __future__ import annotations

import ipaddress
import re

DNS_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
POSIX_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
TZ_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z][A-Za-z0-9_+-]*)*$")
TZ_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?00)?$", re.I)


def address_error(value) -> str | None:
    """Why value is neither an IP address (v4 or v6) nor a DNS name of RFC 1123 labels, else None."""
    text = str(value)
    try:
        ipaddress.ip_address(text)
        return None
    except ValueError:
        pass
    name = text[:-1] if text.endswith(".") else text
    labels = name.split(".")
    if text.startswith("[") and text.endswith("]"):
        return f"must be an address without brackets, got {value!r} (the port goes in vpskit_port)"
    if not name or len(name) > 253 or not all(DNS_LABEL.match(label) for label in labels):
        return (f"must be an IP address or a DNS name (letters, digits and inner hyphens in dot-separated "
                f"labels of at most 63), got {value!r}")
    if all(label.isdigit() for label in labels):
        return f"must be an IP address or a DNS name, got {value!r}, which is neither a valid IPv4 address nor a name"
    return None


def user_error(value) -> str | None:
    """Why value is not a portable POSIX user name (lower case, at most 32 characters), else None."""
    if POSIX_USER.match(str(value)):
        return None
    return (f"must be a user name of lower-case letters, digits, '_' and '-' (not starting with a digit or '-', "
            f"at most 32 characters), got {value!r}")


def port_error(value) -> str | None:
    """Why value is not a TCP port number (1-65535), else None."""
    if isinstance(value, int) and 1 <= value <= 65535:
        return None
    return f"must be a TCP port from 1 to 65535, got {value!r}"


def timezone_error(value) -> str | None:
    """Why value cannot be a time zone name (Area/City, Etc/UTC, UTC), else None; whether the host has it is not checked."""
    text = str(value)
    offset = TZ_OFFSET.match(text)
    if offset and offset.group(2).lstrip("0"):
        sign = "-" if offset.group(1) == "+" else "+"
        return (f"must be a time zone name such as Europe/Paris, not an offset: got {value!r}; a fixed offset is "
                f"Etc/GMT{sign}{int(offset.group(2))} (POSIX inverts the sign)")
    if len(text) <= 64 and TZ_NAME.match(text):
        return None
    return (f"must be a time zone name as under /usr/share/zoneinfo (Area/City such as Europe/Paris, Etc/UTC, "
            f"or UTC), got {value!r}")


def schedule_error(value) -> str | None:
    """Why value is not a cron schedule (5 fields or @daily etc.), else None."""
    from ..resources.cron import validate_schedule  # the one definition of what cron accepts
    try:
        validate_schedule(str(value))
        return None
    except ValueError as exc:
        return f"must be a cron schedule: {exc}"


DB_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$")


def database_names_error(value) -> str | None:
    """Why value is not a list of plain database names (they become file names), else None."""
    bad = [n for n in value if not DB_NAME.match(str(n))] if isinstance(value, list) else [value]
    return f"must list database names of letters, digits, '_', '.' and '-', got {bad[0]!r}" if bad else None


def absolute_paths_error(value) -> str | None:
    """Why value is not a list of absolute paths (one a line, no newlines), else None."""
    bad = [p for p in value if not (isinstance(p, str) and p.startswith("/") and "\n" not in p)]
    return f"must list absolute paths, got {bad[0]!r}" if bad else None


def backup_dir_error(value) -> str | None:
    """Why value cannot be the folder runs are kept (and pruned) in, else None."""
    text = str(value)
    if not text.startswith("/") or text.rstrip("/") == "" or "\n" in text:
        return f"must be an absolute path of a folder of its own (not /), got {value!r}"
    return None


def positive_error(value) -> str | None:
    return None if isinstance(value, int) and value >= 1 else f"must be 1 or more, got {value!r}"


def k8s_names_error(value) -> str | None:
    """Why value is not a list of Kubernetes names (namespaces: DNS labels; kinds: lowercase plurals), else None."""
    if not isinstance(value, list):
        return f"must be a list of names, got {type(value).__name__}"
    bad = [n for n in value if not (isinstance(n, str) and re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?", n))]
    return f"not Kubernetes names: {', '.join(map(repr, bad))}" if bad else None


def count_error(value) -> str | None:
    return None if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
        else f"must be 0 or more, got {value!r}"


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


def _role_check(module: str, name: str):
    """A check a role defines itself, imported when first used (the role imports the engine, not the reverse)."""
    def check(value):
        import importlib
        return getattr(importlib.import_module(f"vpskit.builtin_roles.{module}"), name)(value)
    return check


CHECKS = {
    "k3s_node_name": _role_check("k3s.nodename", "name_error"),
    "k3s_node_labels": _role_check("k3s.labels", "labels_error"),
    "k3s_node_taints": _role_check("k3s.labels", "taints_error"),
    "k3s_extra_config": _role_check("k3s.flags", "extra_config_error"),
    "k3s_version": _role_check("k3s.versions", "version_error"),
    "backups_schedule": schedule_error,
    "backups_verify_schedule": schedule_error,
    "backups_restic_check_schedule": schedule_error,
    "backups_postgres_databases": database_names_error,
    "backups_files": absolute_paths_error,
    "backups_dir": backup_dir_error,
    "backups_keep_daily": positive_error,
    "backups_keep_weekly": count_error,
    "backups_k8s_namespaces": k8s_names_error,
    "backups_k8s_kinds": k8s_names_error,
    "backups_keep_monthly": count_error,
    "vpskit_host": address_error,
    "ansible_host": address_error,
    "vpskit_user": user_error,
    "ansible_user": user_error,
    "users_admin_name": user_error,
    "vpskit_port": port_error,
    "ansible_port": port_error,
    "ssh_port": port_error,
    "base_timezone": timezone_error,
    "monitoring_receivers": receivers_error,
}

# (switches all on, the setting they need): a missing one is an inventory error at the first switch's line
REQUIRED_WHEN = [
    (("monitoring_enabled", "monitoring_grafana_enabled"), "monitoring_grafana_admin_password"),
    (("certs_enabled",), "certs_acme_email"),
]


def value_error(key: str, value) -> str | None:
    """A message when a known key's value is malformed, else None (None values and other keys pass). Pure."""
    check = CHECKS.get(key)
    if check is None or value is None:
        return None
    problem = check(value)
    return f"{key} {problem}" if problem else None
