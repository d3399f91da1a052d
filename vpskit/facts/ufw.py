"""ufw's state: installed, active, default policies, logging, and the rules it holds (with their comments)."""

from __future__ import annotations

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


class UfwFact(Fact):
    def command(self) -> str:
        return (
            "if ! command -v ufw >/dev/null 2>&1; then echo installed=no; exit 0; fi; echo installed=yes; "
            # ufw's chains exist exactly while it is active; asking iptables avoids starting ufw's Python
            "if iptables -n -L ufw-user-input >/dev/null 2>&1; then echo 'Status: active'; "
            "else echo 'Status: inactive'; fi; "
            "grep -h -e '^DEFAULT_.*_POLICY=' -e '^IPT_SYSCTL=' -e '^ENABLED=' -e '^LOGLEVEL=' -e '^### tuple ###' "
            "/etc/default/ufw /etc/ufw/ufw.conf /etc/ufw/user.rules /etc/ufw/user6.rules 2>/dev/null; true"
        )

    def parse(self, output: str, rc: int) -> dict:
        state = {"installed": False, "active": False, "policies": {}, "enabled": False, "logging": "off",
                 "ipt_sysctl": "", "rules": []}
        rules = []
        for line in output.splitlines():
            if line == "installed=yes":
                state["installed"] = True
            elif line.startswith("Status:"):
                state["active"] = line.split(":", 1)[1].strip() == "active"
            elif line.startswith("DEFAULT_") and "_POLICY=" in line:
                key, _, value = line.partition("=")
                direction = {"INPUT": "incoming", "OUTPUT": "outgoing", "FORWARD": "routed"}.get(key.split("_")[1])
                if direction:
                    state["policies"][direction] = POLICY_WORDS.get(value.strip('"'), value.strip('"').lower())
            elif line.startswith("IPT_SYSCTL="):
                state["ipt_sysctl"] = line.partition("=")[2].strip('"')
            elif line.startswith("ENABLED="):
                state["enabled"] = line.partition("=")[2].strip() == "yes"
            elif line.startswith("LOGLEVEL="):
                state["logging"] = line.partition("=")[2].strip()
            elif line.startswith("### tuple ###"):
                rule = parse_tuple(line)
                if rule and rule not in rules:
                    rules.append(rule)
        state["rules"] = rules
        return state
