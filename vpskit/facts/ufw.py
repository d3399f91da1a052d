"""ufw's state: installed, active, default policies, logging, and the rules it holds (with their comments)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .base import Fact, q

POLICY_WORDS = {"DROP": "deny", "ACCEPT": "allow", "REJECT": "reject"}


@dataclass(frozen=True, order=True)
class UfwRule:
    """One rule as ufw stores it; `src` is "any" for every address of both families."""

    action: str  # allow, deny, reject, limit (or route:allow …)
    proto: str  # tcp, udp, any
    port: str
    src: str = "any"
    comment: str = ""

    def spec(self) -> str:
        """The arguments that add (or, after `delete`, remove) this rule."""
        # each word quoted: src comes from the inventory, and rules to delete from the host's files
        verb = " ".join(q(word) for word in self.action.split(":"))
        proto = f"proto {q(self.proto)} " if self.proto != "any" else ""
        port = f" port {q(self.port)}" if self.port != "any" else ""  # every port (e.g. from the pod network)
        return f"{verb} {proto}from {q(self.src)} to any{port}"

    def label(self) -> str:
        return f"{self.action} {self.port}/{self.proto} from {self.src}" + (f" ({self.comment})" if self.comment else "")


def parse_tuple(line: str) -> UfwRule | None:
    """Parses a `### tuple ###` line of user.rules / user6.rules. Pure."""
    words = line.replace("### tuple ###", "").split()
    if len(words) < 7:
        return None
    action, proto, dport, _dst, _sport, src, _direction, *rest = words
    comment = ""
    for extra in rest:
        if extra.startswith("comment="):
            comment = bytes.fromhex(extra[len("comment="):]).decode("utf-8", "replace")
    return UfwRule(action, proto, dport, "any" if src in ("0.0.0.0/0", "::/0") else src, comment)


FAMILIES = ("v4", "v6")
RULE_FILES = {"v4": "/etc/ufw/user.rules", "v6": "/etc/ufw/user6.rules"}
CHAINS = {"v4": "ufw-user-input", "v6": "ufw6-user-input"}
SETTINGS_FILES = ("/etc/default/ufw", "/etc/ufw/ufw.conf")
# the settings lines read from SETTINGS_FILES (grep's basic regular expressions, the same in Python's)
SETTING_PATTERNS = ("^DEFAULT_.*_POLICY=", "^IPT_SYSCTL=", "^ENABLED=", "^LOGLEVEL=", "^IPV6=")


def sectioned(output: str) -> str:
    """UfwFact's output in the form its parser reads, from the command's (one `grep -H` over every file, each
    chain's `-S` listing and status) or as earlier versions of the command gave it (a grep per file under
    `@@file<family>`, each chain's count of `-A` lines under `@@live<family>`: captured specs). Pure."""
    lines = output.splitlines()
    if not any(line.startswith("@@chain") for line in lines):
        return output
    head, files, live = [], {family: [] for family in FAMILIES}, {}
    by_file = {path: family for family, path in RULE_FILES.items()}
    family, count = None, 0
    for line in lines:
        if line.startswith("@@chainrc "):
            if family is not None:
                live[family] = count if line.split()[1] == "0" else None
            family = None
        elif line.startswith("@@chain"):
            family, count = line[len("@@chain"):], 0
        elif family is not None:
            count += line.startswith("-A")
        else:
            path, colon, text = line.partition(":")
            if not colon:
                head.append(line)
            elif path in SETTINGS_FILES and any(re.match(p, text) for p in SETTING_PATTERNS):
                head.append(text)
            elif path in by_file and (text.startswith("### tuple ###")
                                      or text.startswith(f"-A {CHAINS[by_file[path]]} ")):
                files[by_file[path]].append(text)
    parts = head + [part for f in FAMILIES for part in (f"@@file{f}", *files[f])]
    for f in FAMILIES:
        parts += [f"@@live{f}"] + ([str(live[f])] if live.get(f) is not None else [])
    return "\n".join(parts) + "\n"


def families_of(rule: UfwRule, ipv6: bool = True) -> list[str]:
    """The address families a rule lives in: both for "any" (v6 only when ufw manages IPv6), else its source's."""
    if rule.src == "any":
        return ["v4", "v6"] if ipv6 else ["v4"]
    return ["v6"] if ":" in rule.src else ["v4"]


class UfwFact(Fact):
    shares_shell = True

    def command(self) -> str:
        # ufw's chains exist exactly while it is active; asking iptables avoids starting ufw's Python, and the
        # rules the kernel holds in ufw-user-input are counted (by parse) against the files they were loaded
        # from. One grep reads every file, its lines named by file; three programs in all
        patterns = " ".join(f"-e {q(p)}" for p in (*SETTING_PATTERNS, "^### tuple ###",
                                                  *(f"^-A {CHAINS[family]} " for family in FAMILIES)))
        live = "".join(f"echo @@chain{family}; {tool} -S {CHAINS[family]} 2>/dev/null; echo \"@@chainrc $?\"; "
                       for family, tool in (("v4", "iptables"), ("v6", "ip6tables")))
        return (
            "if ! command -v ufw >/dev/null 2>&1; then echo installed=no; else echo installed=yes; "
            f"grep -H {patterns} {' '.join(SETTINGS_FILES)} {' '.join(RULE_FILES[f] for f in FAMILIES)} "
            f"2>/dev/null; {live}fi; true"
        )

    def parse(self, output: str, rc: int) -> dict:
        """ufw's settings; `rules` of both files together, `family_rules` each file's own; `chain_rules` counts the
        file's ufw-user-input rules and `live_rules` the kernel's (None: no such chain, so ufw is not active)."""
        output = sectioned(output)
        state = {"installed": False, "active": False, "policies": {}, "enabled": False, "logging": "off",
                 "ipt_sysctl": "", "ipv6": True, "rules": [], "family_rules": None,
                 "chain_rules": {"v4": 0, "v6": 0}, "live_rules": {"v4": None, "v6": None}}
        rules, section = [], None
        for line in output.splitlines():
            if line.startswith("@@"):
                section = line[2:]
                if section.startswith("file"):
                    state["family_rules"] = state["family_rules"] or {"v4": [], "v6": []}
                continue
            if line == "installed=yes":
                state["installed"] = True
            elif line.startswith("Status:"):  # the form of earlier versions of this fact (captured specs)
                state["active"] = line.split(":", 1)[1].strip() == "active"
            elif section and section.startswith("live") and line.strip().isdigit():
                state["live_rules"][section[4:]] = int(line)
            elif line.startswith("DEFAULT_") and "_POLICY=" in line:
                key, _, value = line.partition("=")
                direction = {"INPUT": "incoming", "OUTPUT": "outgoing", "FORWARD": "routed"}.get(key.split("_")[1])
                if direction:
                    state["policies"][direction] = POLICY_WORDS.get(value.strip('"'), value.strip('"').lower())
            elif line.startswith("IPT_SYSCTL="):
                state["ipt_sysctl"] = line.partition("=")[2].strip('"')
            elif line.startswith("IPV6="):
                state["ipv6"] = line.partition("=")[2].strip().strip('"') == "yes"
            elif line.startswith("ENABLED="):
                state["enabled"] = line.partition("=")[2].strip() == "yes"
            elif line.startswith("LOGLEVEL="):
                state["logging"] = line.partition("=")[2].strip()
            elif line.startswith("-A ufw") and section and section.startswith("file"):
                state["chain_rules"][section[4:]] += 1
            elif line.startswith("### tuple ###"):
                rule = parse_tuple(line)
                if rule and rule not in rules:
                    rules.append(rule)
                if rule and section and section.startswith("file") and rule not in state["family_rules"][section[4:]]:
                    state["family_rules"][section[4:]].append(rule)
        if state["live_rules"]["v4"] is not None:
            state["active"] = True
        state["rules"] = rules
        return state


def covers(port_spec: str, port: int) -> bool:
    """Whether a rule's port ('22', '80,443', '8000:9000', 'any') takes in this port. Pure."""
    if port_spec == "any":
        return True
    for part in port_spec.split(","):
        low, _, high = part.partition(":")
        if low.isdigit() and int(low) <= port <= int(high if high.isdigit() else low):
            return True
    return False


def sources_allowed(rules: list[UfwRule], port: int) -> list[str]:
    """The sources ufw's incoming allow (and limit) rules let reach this port, "any" for every address."""
    return list(dict.fromkeys(r.src for r in rules if r.action in ("allow", "limit") and covers(r.port, port)))
