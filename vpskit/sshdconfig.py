"""Reading sshd's configuration as sshd does (Include, Match, first value wins) to find what overrides a drop-in."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from .facts.sshd import MAX_INCLUDE_DEPTH, SSH_DIR, SSHD_CONFIG

# settings whose `sshd -T` form is the drop-in's value in lower case (the ones vpskit compares)
COMPARED = {
    "port", "permitrootlogin", "passwordauthentication", "kbdinteractiveauthentication", "pubkeyauthentication",
    "permitemptypasswords", "authenticationmethods", "maxauthtries", "maxsessions", "logingracetime",
    "x11forwarding", "allowagentforwarding", "allowtcpforwarding", "permittunnel", "permituserenvironment",
    "clientaliveinterval", "clientalivecountmax", "loglevel", "usedns", "compression", "tcpkeepalive",
    "allowusers", "allowgroups", "kexalgorithms", "ciphers", "macs", "hostkeyalgorithms",
}
# sshd collects every line of these (and lists one value a line in `sshd -T`): compared as sets
COLLECTED = {"port", "allowusers", "allowgroups"}


@dataclass(frozen=True)
class Setting:
    """One keyword line as sshd reads it: where it is, and the Match block it sits in (None: every connection)."""

    path: str
    line: int
    keyword: str
    value: str
    match: str | None = None

    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def label(self) -> str:
        inside = f" (in `Match {self.match}`)" if self.match else ""
        return f"{self.where()}: {self.keyword} {self.value}{inside}"


def split_line(text: str) -> tuple[str, str] | None:
    """(keyword in lower case, value) of a configuration line; None for blanks and comments. Pure."""
    stripped = text.strip()
    if not stripped or stripped.startswith("#"):
        return None
    found = re.match(r"([A-Za-z0-9]+)(?:\s*=\s*|\s+)(.*)$", stripped)
    if not found:
        return (stripped.lower(), "")
    return found.group(1).lower(), " ".join(found.group(2).split())


def reading_order(config: dict, extra: dict[str, list[str]] | None = None) -> list[Setting]:
    """Every setting in the order sshd reads them; `extra` files (path: lines) are read wherever an Include
    pattern matches their path, as if they were on the host already. Pure."""
    files = dict(config["files"])
    globs = {pattern: list(matches) for pattern, matches in config["globs"].items()}
    for path, lines in (extra or {}).items():
        files[path] = lines
        for pattern, matches in globs.items():
            if fnmatch.fnmatch(path, pattern) and path not in matches:
                globs[pattern] = sorted(matches + [path])
    settings: list[Setting] = []
    _read(SSHD_CONFIG, None, files, globs, settings, 0)
    return settings


def _read(path: str, match: str | None, files: dict, globs: dict, out: list[Setting], depth: int) -> None:
    if path not in files or depth > MAX_INCLUDE_DEPTH:
        return
    current = match
    for number, text in enumerate(files[path], start=1):
        parsed = split_line(text)
        if parsed is None:
            continue
        keyword, value = parsed
        if keyword == "match":
            # a Match block ends at the next Match or at the end of the file it started in; `Match all` is a block
            # too: what it sets overrides the global values for every connection
            current = value
        elif keyword == "include":
            for pattern in value.split():
                full = pattern if pattern.startswith("/") else f"{SSH_DIR}/{pattern}"
                for included in globs.get(full, []):
                    _read(included, current, files, globs, out, depth + 1)
        else:
            out.append(Setting(path, number, keyword, value, current))


def wanted_settings(text: str) -> dict[str, str | frozenset]:
    """The compared settings a drop-in sets: a value, or a set for collected keywords. Pure."""
    wanted: dict[str, str | frozenset] = {}
    for line in text.splitlines():
        parsed = split_line(line)
        if parsed is None or parsed[0] not in COMPARED:
            continue
        keyword, value = parsed
        if keyword in COLLECTED:
            wanted[keyword] = frozenset(wanted.get(keyword, frozenset()) | set(value.split()))
        else:
            wanted.setdefault(keyword, value)
    return wanted


def _differs(keyword: str, value: str, wanted) -> bool:
    if keyword in COLLECTED:
        return not set(value.split()) <= wanted
    return value.lower() != wanted.lower()


def overrides(settings: list[Setting], wanted: dict, drop_in: str) -> list[Setting]:
    """Lines outside the drop-in that give a managed setting another value where sshd would use it:
    before the drop-in's line (first value wins), anywhere for collected keywords, or in any Match block. Pure."""
    found: list[Setting] = []
    seen_drop_in: set[str] = set()
    for setting in settings:
        if setting.path == drop_in:
            if setting.match is None:
                seen_drop_in.add(setting.keyword)
            continue
        keyword = setting.keyword
        if keyword not in wanted or not _differs(keyword, setting.value, wanted[keyword]):
            continue
        if setting.match is not None or keyword in COLLECTED or keyword not in seen_drop_in:
            found.append(setting)
    return found


def effective_drift(effective: dict[str, dict], wanted: dict) -> list[str]:
    """What `sshd -T` shows different from the wanted values, per connection it was asked about. Pure."""
    drift = []
    for spec, result in effective.items():
        if result["rc"] != 0:
            continue
        who = f" for {spec}" if spec else ""
        for keyword, value in wanted.items():
            shown = result["settings"].get(keyword, [])
            if keyword in COLLECTED:
                if set(shown) != set(value):
                    drift.append(f"{keyword} {' '.join(sorted(shown)) or '(none)'}{who} (wanted "
                                 f"{' '.join(sorted(value))})")
            elif " ".join(shown).lower() != value.lower():
                drift.append(f"{keyword} {' '.join(shown) or '(none)'}{who} (wanted {value})")
    return drift


def reaches(config: dict, path: str) -> bool:
    """Whether some Include pattern sshd reads would read `path`. Pure."""
    settings = reading_order(config, {path: ["VpskitProbe yes"]})
    return any(s.path == path for s in settings)
