"""The named formats a role's variable spec can give (`format: owned_dir`): each a pure check saying why a value
is malformed, or None. Formats for values that become paths or shell words are strict on purpose."""

from __future__ import annotations

import ipaddress
import posixpath
import re

from ..durations import seconds

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


def absolute_path_error(value) -> str | None:
    """Why value is not one normalised absolute path without control characters, else None."""
    text = str(value)
    if isinstance(value, str) and text.startswith("/") and not CONTROL.search(text) and posixpath.normpath(text) == text:
        return None
    return f"must be a normalised absolute path, got {value!r}"


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


# folders vpskit may make its own (and chown/chmod): under these, at least one level below them
OWNED_PREFIXES = ("/var/", "/srv/", "/opt/", "/mnt/", "/data/", "/backup/", "/backups/")
# never inside these: homes (sshd reads authorized_keys there), the system, the package manager, logs, temp
PROTECTED = ("/home", "/root", "/etc", "/usr", "/boot", "/bin", "/sbin", "/lib", "/proc", "/sys", "/dev", "/run",
             "/tmp", "/var/tmp", "/var/log", "/var/lib/dpkg", "/var/lib/apt", "/var/cache", "/var/spool", "/var/mail",
             "/var/run", "/var/lock", "/var/lib/systemd", "/var/empty", "/var/www", "/srv/ftp")
# system folders that exist on a fresh Debian: vpskit must not take one over
SYSTEM_DIRS = ("/var/lib", "/var/backups", "/var/local", "/var/opt", "/opt", "/srv", "/mnt")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def owned_dir_error(value) -> str | None:
    """Why value cannot be a folder vpskit creates and owns (root, a mode of its own), else None."""
    text = str(value)
    if not isinstance(value, str) or CONTROL.search(text) or not text.startswith("/"):
        return f"must be an absolute path without control characters, got {value!r}"
    normal = posixpath.normpath(text)
    if normal != text and (normal != "/" or text != "/"):
        return f"must be a normalised path (no '..', '.', '//' or trailing '/'), got {value!r}; did you mean {normal!r}?"
    inside = [p for p in PROTECTED if normal == p or normal.startswith(p + "/")]
    if inside:
        return (f"must not be {inside[0]} or inside it: vpskit makes this folder root's with a mode of its own, "
                f"which would lock out logins or break the system; got {value!r}")
    if normal in SYSTEM_DIRS or not any(normal.startswith(p) and len(normal) > len(p) for p in OWNED_PREFIXES):
        return (f"must be a folder of its own under {', '.join(p.rstrip('/') for p in OWNED_PREFIXES)} "
                f"(such as /var/backups/vpskit-backup), not a system folder; got {value!r}")
    return None


# folders any user may write into on Debian (sticky or not): a lock there can be planted, raced or removed by them
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue", "/run/lock", "/var/lock", "/run/user", "/home")


def lock_path_error(value) -> str | None:
    """Why value cannot be the host's run lock file: a normalised absolute path outside folders other users write."""
    text = str(value)
    if not isinstance(value, str) or CONTROL.search(text) or not text.startswith("/"):
        return f"must be an absolute path without control characters, got {value!r}"
    normal = posixpath.normpath(text)
    if normal != text or normal.count("/") < 2:
        return f"must be a normalised path of a file in a folder (no '..', '.', '//' or trailing '/'), got {value!r}"
    inside = [p for p in SHARED_WRITABLE if normal.startswith(p + "/")]
    if inside:
        return (f"must not be inside {inside[0]}: other users can write there, and could plant, hold or remove "
                f"the lock; use a folder only root writes, such as /run/vpskit/lock (the default); got {value!r}")
    return None


VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


def version_error(value) -> str | None:
    """Why value is not a release version (v1.36.4+k3s1, 75.8.1, v1.21.1-rc.1): it becomes paths and URLs."""
    if isinstance(value, str) and VERSION.match(value):
        return None
    return f"must be a version such as v1.2.3 or 1.2.3 (optionally -pre and +build), got {value!r}"


PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+(?::[a-z0-9-]+)?(?:=[A-Za-z0-9.+~:-]+)?$")


def package_names_error(value) -> str | None:
    """Why value is not a list of Debian package names (an entry starting with '-' would be an apt option)."""
    if not isinstance(value, list):
        return f"must be a list of package names, got {type(value).__name__}"
    bad = [p for p in value if not (isinstance(p, str) and PACKAGE.match(p))]
    return f"must list Debian package names (name, name:arch or name=version), got {bad[0]!r}" if bad else None


def line_error(value) -> str | None:
    """Why value cannot go into one line of a configuration file (a newline would add a line of its own)."""
    texts = value if isinstance(value, list) else [*value, *value.values()] if isinstance(value, dict) else [value]
    bad = [t for t in texts if isinstance(t, str) and CONTROL.search(t)]
    return f"must not hold newlines or control characters, got {bad[0]!r}" if bad else None


def word_error(value) -> str | None:
    """Why value cannot be one shell word or name: no spaces, control characters or leading '-'."""
    text = str(value)
    if isinstance(value, str) and text and not text.startswith("-") and re.fullmatch(r"[A-Za-z0-9_.:/@+=,-]+", text):
        return None
    return f"must be one word of letters, digits and _.:/@+=,- (not starting with '-'), got {value!r}"


def http_url_error(value) -> str | None:
    """Why value is not an http(s) URL, else None (the URL itself is never repeated: it may hold a secret)."""
    text = str(value)
    if re.match(r"^https?://[^\s/\"\\\\]+", text) and not re.search(r"[\s\"\\\\]", text):
        return None
    return "must be an http:// or https:// URL (no spaces, quotes or backslashes)"


def duration_error(value) -> str | None:
    """Why value is not a duration (30m, 4h, 1d, 1h30m), else None."""
    try:
        seconds(value)
    except ValueError as exc:
        return str(exc)
    return None


NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def name_error(value) -> str | None:
    """Why value cannot be a plain name that becomes a file name (no '/', no leading '-' or '.'), else None."""
    if isinstance(value, str) and len(value) <= 128 and NAME.match(value):
        return None
    return f"must be a name of letters, digits and _.- (starting with a letter or digit), got {value!r}"


def networks_error(value) -> str | None:
    """Why value is not a list of IP addresses, networks (CIDR) or DNS names, else None."""
    for entry in value if isinstance(value, list) else [value]:
        try:
            ipaddress.ip_network(str(entry), strict=False)
            continue
        except ValueError:
            pass
        if not isinstance(entry, str) or address_error(entry):
            return f"must hold IP addresses, networks (10.0.0.0/8) or DNS names, got {entry!r}"
    return None


def host_name_error(value) -> str | None:
    """Why value cannot be the host's own name (/etc/hostname): a DNS name, not an address, else None."""
    text = str(value)
    try:
        ipaddress.ip_address(text)
        return f"must be a host name, not an address, got {value!r}"
    except ValueError:
        pass
    return address_error(value) if isinstance(value, str) else f"must be a host name, got {value!r}"


def clock_time_error(value) -> str | None:
    """Why value is not a time of day HH:MM (or now), else None: it becomes a quoted word of apt's configuration."""
    if isinstance(value, str) and (value == "now" or re.fullmatch(r"(?:[01]\d|2[0-3]):[0-5]\d", value)):
        return None
    return f"must be a time of day HH:MM (such as 03:30) or now, got {value!r}"


def k8s_name_error(value) -> str | None:
    """Why value is not one Kubernetes name (a namespace), else None."""
    return k8s_names_error([value])


def group_names_error(value) -> str | None:
    """Why value is not a list of POSIX group names, else None (they become arguments of usermod)."""
    bad = [g for g in (value if isinstance(value, list) else [value]) if not (isinstance(g, str) and POSIX_USER.match(g))]
    return f"must list group names ([a-z_][a-z0-9_-], at most 32), got {bad[0]!r}" if bad else None


def config_settings_error(value) -> str | None:
    """Why value is not a mapping of setting names (letters, digits, _) to one-line values, else None: each
    becomes a line `NAME value` found again by its name."""
    if not isinstance(value, dict):
        return f"must be a mapping of settings, got {value!r}"
    for key, setting in value.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            return f"setting names must be letters, digits and _, got {key!r}"
        if isinstance(setting, (dict, list)) or CONTROL.search(str(setting)):
            return f"{key}: the value must be one line, got {setting!r}"
    return None


def path_modes_error(value) -> str | None:
    """Why value is not a mapping of absolute paths to octal modes that cannot lock logins out, else None."""
    if not isinstance(value, dict):
        return f"must be a mapping of paths to modes, got {value!r}"
    for path, mode in value.items():
        text = str(path)
        if not isinstance(path, str) or CONTROL.search(text) or not text.startswith("/") or posixpath.normpath(text) != text:
            return f"keys must be normalised absolute paths, got {path!r}"
        if text in ("/", "/home", "/etc", "/etc/ssh", "/usr", "/bin", "/sbin", "/lib", "/var", "/run") \
                or text.startswith("/home/"):
            return (f"{text}: a mode of vpskit's there could lock out logins (sshd reads authorized_keys as the "
                    "user, through these folders) or break the system")
        if not (isinstance(mode, str) and re.fullmatch(r"0?[0-7]{3}", mode)):
            return f"{text}: the mode must be octal such as \"0600\" (quoted), got {mode!r}"
    return None


SYSCTL_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*(?:[./][A-Za-z0-9_][A-Za-z0-9_-]*)+$")


def sysctl_settings_error(value) -> str | None:
    """Why value is not a mapping of kernel parameters (net.ipv4.tcp_syncookies) to one-line values, else None:
    each key becomes a line of a sysctl.d file and an argument of `sysctl -w`, where a leading '-' is an option."""
    if not isinstance(value, dict):
        return f"must be a mapping of kernel parameters to values, got {value!r}"
    for key, setting in value.items():
        if not isinstance(key, str) or not SYSCTL_KEY.match(key):
            return (f"keys must be kernel parameters (dot-separated words of letters, digits, _ and -), "
                    f"got {key!r}")
        if isinstance(setting, (dict, list)) or setting is None or CONTROL.search(str(setting)) or not str(setting).strip():
            return f"{key}: the value must be a number or one line of text, got {setting!r}"
    return None


FORMATS = {
    "address": address_error, "user": user_error, "port": port_error, "timezone": timezone_error,
    "schedule": schedule_error, "database_names": database_names_error, "absolute_paths": absolute_paths_error,
    "owned_dir": owned_dir_error, "positive": positive_error, "count": count_error, "k8s_names": k8s_names_error,
    "version": version_error, "package_names": package_names_error, "line": line_error, "word": word_error,
    "http_url": http_url_error, "lock_path": lock_path_error, "duration": duration_error, "name": name_error,
    "networks": networks_error, "sysctl_settings": sysctl_settings_error, "host_name": host_name_error,
    "clock_time": clock_time_error, "k8s_name": k8s_name_error, "group_names": group_names_error,
    "config_settings": config_settings_error, "path_modes": path_modes_error, "absolute_path": absolute_path_error,
}
