"""sshd's configuration: the effective settings (`sshd -T`, per connection) and the files it reads, in order."""

from __future__ import annotations

import copy
import re

from .base import Fact, q

SSHD_CONFIG = "/etc/ssh/sshd_config"
# Include patterns without a leading / are relative to /etc/ssh, as sshd reads them
SSH_DIR = "/etc/ssh"
MAX_INCLUDE_DEPTH = 8


# a line of a file under /etc/ssh (links followed) that may make a connection's settings differ from sshd -T's
# plain ones: a Match block, or an Include that may reach outside /etc/ssh (a path elsewhere, "..", or a character
# other than a plain path's). Client files (ssh_config) may match too: then every -C is run, as always before
_KEYWORD = r'^[[:space:]]*"?{word}"?([[:space:]]|=|$)'
_OUTSIDE = r"/([^e]|e[^t]|et[^c]|etc[^/]|etc/[^s]|etc/s[^s]|etc/ss[^h]|etc/ssh[^/]|(e(t(c(/(s(sh?)?)?)?)?)?)?([[:space:]]|$))"
MAY_MATCH = "|".join([
    _KEYWORD.format(word="[Mm][Aa][Tt][Cc][Hh]"),
    _KEYWORD.format(word="[Ii][Nn][Cc][Ll][Uu][Dd][Ee]") + r"(.*[^A-Za-z0-9_./*?=[:space:]-]|.*\.\.|(.*[[:space:]=])?"
    + _OUTSIDE + ")",
])
_USER = re.compile(r"[A-Za-z0-9._-]+")
_ADDRESS = re.compile(r"[0-9A-Fa-f.:]+")


def _under_ssh(paths) -> bool:
    return any(str(p).startswith(SSH_DIR + "/") for p in paths)


class SshdEffectiveFact(Fact):
    """`sshd -T` without Match blocks, then once per user as a connection from `address` (Match blocks applied)."""

    shares_shell = True

    def __init__(self, address: str | None, *users: str):
        super().__init__(address or "", *dict.fromkeys(u for u in users if u))

    def contexts(self) -> list[str]:
        """The `-C` specifications, in order; "" is the plain `sshd -T`."""
        address, *users = self.args
        if not address:
            return [""]
        return [""] + [f"user={u},host={address},addr={address}" for u in users]

    def command(self) -> str:
        plain, *specs = [self._run(spec) for spec in self.contexts()]
        if not specs:
            return plain
        if not self._plain_specs():
            return "; ".join([plain, *specs])
        # without a Match block sshd applies no connection's parameters: each -C prints what the plain run did
        same = "; ".join(f"echo {q('@@same ' + spec)}" for spec in self.contexts()[1:])
        # grep's status 1: no such line and no error; in the C locale every byte is a character
        return f"{plain}; if LC_ALL=C grep -R -a -q -E {q(MAY_MATCH)} {SSH_DIR} 2>/dev/null; [ $? -eq 1 ]; then " \
               f"{same}; else {'; '.join(specs)}; fi"

    @staticmethod
    def _run(spec: str) -> str:
        flag = f" -C {q(spec)}" if spec else ""
        return f"echo {q('@@context ' + spec)}; sshd -T{flag} 2>&1; echo \"@@rc $?\""

    def _plain_specs(self) -> bool:
        """Whether every -C specification is one sshd takes as it is (else it may refuse one: each is run)."""
        address, *users = self.args
        return bool(_ADDRESS.fullmatch(address)) and all(_USER.fullmatch(u) for u in users)

    def parse(self, output: str, rc: int) -> dict[str, dict]:
        """{spec: {"rc": exit status, "settings": {keyword: [values]}, "error": text when it failed}}."""
        found: dict[str, dict] = {}
        current, lines = None, []
        for line in output.splitlines():
            if line.startswith("@@context"):
                current, lines = line[len("@@context"):].strip(), []
            elif line.startswith("@@same ") and "" in found:
                found[line[len("@@same "):]] = copy.deepcopy(found[""])
            elif line.startswith("@@rc ") and current is not None:
                status = int(line.split()[1])
                settings: dict[str, list[str]] = {}
                for entry in lines:
                    key, _, value = entry.partition(" ")
                    settings.setdefault(key.lower(), []).append(value.strip())
                found[current] = {"rc": status, "settings": settings if status == 0 else {},
                                  "error": "" if status == 0 else " ".join(lines)[-300:]}
                current = None
            elif current is not None:
                lines.append(line)
        return found

    def affected_by(self, paths) -> bool:
        return _under_ssh(paths)


class SshdConfigFact(Fact):
    """The text of sshd_config and every file its Include lines reach, and what each Include pattern matched."""

    def command(self) -> str:
        # `set -f` keeps the Include words as written; each is then globbed on purpose to list its matches. The
        # function's body is a subshell, so a nested Include keeps the caller's variables (no `local` in POSIX sh)
        return "\n".join([
            "# shellcheck disable=SC2013,SC2086",
            "vpskit_sshd_read() (",
            f"  depth=$1; shift; [ \"$depth\" -le {MAX_INCLUDE_DEPTH} ] || exit 0",
            "  for f in \"$@\"; do",
            "    [ -f \"$f\" ] || continue",
            # one sed a file: its lines behind |, then each Include line's patterns behind @@include (parse skips
            # those); the shell keeps the patterns of the @@include lines
            "    out=$(sed -n -e 's/^/|/p' -e "
            "'s/^|[[:space:]]*[Ii][Nn][Cc][Ll][Uu][Dd][Ee][[:space:]=][[:space:]]*/@@include /p' \"$f\")",
            "    echo \"@@file $f\"; printf '%s\\n' \"$out\"",
            "    patterns=; IFS='",
            "'",
            "    for line in $out; do case $line in \"@@include \"*) patterns=\"$patterns ${line#@@include }\" ;; esac; done",
            "    unset IFS",
            "    for p in $patterns; do",
            f"      case $p in /*) ;; *) p={SSH_DIR}/$p ;; esac",
            "      echo \"@@glob $p\"; set +f; set -- $p; set -f",
            "      for m in \"$@\"; do [ -e \"$m\" ] && echo \"$m\"; done; echo @@end",
            "      vpskit_sshd_read $((depth + 1)) \"$@\"",
            "    done",
            "  done",
            ")",
            f"set -f; vpskit_sshd_read 0 {SSHD_CONFIG}",
        ])

    def parse(self, output: str, rc: int) -> dict:
        """{"files": {path: [lines]}, "globs": {pattern: [matching paths]}}."""
        files: dict[str, list[str]] = {}
        globs: dict[str, list[str]] = {}
        path, pattern = None, None
        for line in output.split("\n"):
            if line.startswith("@@file "):
                path, pattern = line[len("@@file "):], None
                if path in files:  # included twice: sshd reads it again, its lines are known already
                    path = None
                else:
                    files[path] = []
            elif line.startswith("@@glob "):
                pattern, path = line[len("@@glob "):], None
                globs[pattern] = []
            elif line == "@@end":
                pattern = None
            elif line.startswith("|") and path is not None:
                files[path].append(line[1:])
            elif pattern is not None and line:
                globs[pattern].append(line)
        return {"files": files, "globs": globs}

    def affected_by(self, paths) -> bool:
        return _under_ssh(paths)
