"""UfwFact reads every file with one `grep -H` and counts the kernel's rules itself: three programs where the
command before it (kept below as it was) started seven, and the same parse over every case.

Over this machine's real sh and grep, on files under a tmp root (both commands' paths moved there); `ufw`,
`iptables` and `ip6tables` are fakes that only exist or print a chain's `-S` listing, as iptables does
(`-N` then one `-A` line per rule; exit 1 when the chain does not exist).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.programs import Programs
from vpskit.facts.ufw import RULE_FILES, SETTINGS_FILES, UfwFact

# UfwFact's command at commit 6d9ce10
COMMAND_BEFORE = (
    "if ! command -v ufw >/dev/null 2>&1; then echo installed=no; exit 0; fi; echo installed=yes; "
    "grep -h -e '^DEFAULT_.*_POLICY=' -e '^IPT_SYSCTL=' -e '^ENABLED=' -e '^LOGLEVEL=' -e '^IPV6=' "
    "/etc/default/ufw /etc/ufw/ufw.conf 2>/dev/null; "
    "echo @@filev4; grep -h -e '^### tuple ###' -e '^-A ufw-user-input ' /etc/ufw/user.rules 2>/dev/null; "
    "echo @@filev6; grep -h -e '^### tuple ###' -e '^-A ufw6-user-input ' /etc/ufw/user6.rules 2>/dev/null; "
    "echo @@livev4; if out=$(iptables -S ufw-user-input 2>/dev/null); then echo \"$out\" | grep -c '^-A'; fi; "
    "echo @@livev6; if out=$(ip6tables -S ufw6-user-input 2>/dev/null); then echo \"$out\" | grep -c '^-A'; fi; "
    "true"
)

DEFAULTS = 'IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\nDEFAULT_OUTPUT_POLICY="ACCEPT"\nDEFAULT_FORWARD_POLICY="DROP"\n' \
           'DEFAULT_APPLICATION_POLICY="SKIP"\nMANAGE_BUILTINS=no\nIPT_SYSCTL=/etc/ufw/sysctl.conf\n'
CONF = "# /etc/ufw/ufw.conf\nENABLED=yes\nLOGLEVEL=low\n"
USER_RULES = """*filter
:ufw-user-input - [0:0]
### RULES ###

### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=7670736b69743a20737368
-A ufw-user-input -p tcp --dport 22 -j ACCEPT

### tuple ### allow tcp 443 0.0.0.0/0 any 10.1.2.0/24 in comment=7670736b69743a206874747073
-A ufw-user-input -p tcp --dport 443 -s 10.1.2.0/24 -j ACCEPT

### END RULES ###
-A ufw-user-limit -j REJECT
COMMIT
"""
USER6_RULES = """*filter
### tuple ### allow tcp 22 ::/0 any ::/0 in comment=7670736b69743a20737368
-A ufw6-user-input -p tcp --dport 22 -j ACCEPT
COMMIT
"""
CHAIN_V4 = "-N ufw-user-input\n-A ufw-user-input -p tcp --dport 22 -j ACCEPT\n" \
           "-A ufw-user-input -s 10.1.2.0/24 -p tcp --dport 443 -j ACCEPT\n"
CHAIN_V6 = "-N ufw6-user-input\n-A ufw6-user-input -p tcp --dport 22 -j ACCEPT\n"
# lines the one grep also reads in files it did not read before: the parse keeps each file's own kinds only
STRAYS = {"defaults": "### tuple ### allow tcp 9 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -j DROP\n",
          "rules": "ENABLED=no\nLOGLEVEL=full\n-A ufw6-user-input -p tcp --dport 9 -j ACCEPT\n"}

CASES = {
    "active": dict(files={"default": DEFAULTS, "conf": CONF, "v4": USER_RULES, "v6": USER6_RULES},
                   chains={"v4": CHAIN_V4, "v6": CHAIN_V6}),
    "inactive": dict(files={"default": DEFAULTS, "conf": CONF.replace("yes", "no"), "v4": USER_RULES,
                            "v6": USER6_RULES}, chains={}),
    "v6 chain missing, copy missing": dict(files={"default": DEFAULTS, "conf": CONF, "v4": USER_RULES, "v6": ""},
                                           chains={"v4": CHAIN_V4}),
    "chains flushed": dict(files={"default": DEFAULTS, "conf": CONF, "v4": USER_RULES, "v6": USER6_RULES},
                           chains={"v4": "-N ufw-user-input\n", "v6": "-N ufw6-user-input\n"}),
    "fresh install, no rule files": dict(files={"default": DEFAULTS, "conf": CONF.replace("yes", "no")}, chains={}),
    "no files at all": dict(files={}, chains={}),
    "strays in every file": dict(files={"default": DEFAULTS + STRAYS["defaults"], "conf": CONF,
                                        "v4": USER_RULES + STRAYS["rules"], "v6": USER6_RULES + STRAYS["rules"]},
                                 chains={"v4": CHAIN_V4, "v6": CHAIN_V6}),
    "not installed": dict(files={"default": DEFAULTS}, chains={}, installed=False),
}
PATHS = {"default": SETTINGS_FILES[0], "conf": SETTINGS_FILES[1], "v4": RULE_FILES["v4"], "v6": RULE_FILES["v6"]}


def run(folder: Path, command: str, case: dict) -> tuple[dict, list[str]]:
    root = folder / "root"
    for key, text in case["files"].items():
        path = root / PATHS[key].lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    chains = folder / "chains"
    chains.mkdir(parents=True)
    for family, text in case["chains"].items():
        (chains / ("ufw-user-input" if family == "v4" else "ufw6-user-input")).write_text(text)
    listing = (f'[ "$1" = -S ] && [ -f {chains}/"$2" ] || exit 1; '
               f'while IFS= read -r line; do echo "$line"; done < {chains}/"$2"')
    programs = Programs(folder).real("grep").fake("iptables", listing).fake("ip6tables", listing)
    if case.get("installed", True):
        programs.fake("ufw", "exit 0")
    for path in PATHS.values():
        command = command.replace(path, f"{root}{path}")
    done = programs.run(command)
    assert done.returncode == 0, done.stderr
    return UfwFact().parse(done.stdout.replace(str(root), ""), done.returncode), programs.started()


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_one_grep_parses_as_the_greps_before_it(tmp_path, name):
    before, started_before = run(tmp_path / "before", COMMAND_BEFORE, CASES[name])
    now, started_now = run(tmp_path / "now", UfwFact().command(), CASES[name])
    assert now == before
    if CASES[name].get("installed", True):
        assert started_now == ["grep", "iptables", "ip6tables"]
        assert len(started_before) == 3 + 2 + sum(1 for _ in CASES[name]["chains"])


def test_the_cases_tell_states_apart(tmp_path):
    active, _ = run(tmp_path / "a", UfwFact().command(), CASES["active"])
    assert active["active"] and active["live_rules"] == {"v4": 2, "v6": 1} and active["chain_rules"] == {"v4": 2, "v6": 1}
    assert len(active["rules"]) == 2 and [r.port for r in active["family_rules"]["v6"]] == ["22"]
    assert active["policies"] == {"incoming": "deny", "outgoing": "allow", "routed": "deny"}
    inactive, _ = run(tmp_path / "i", UfwFact().command(), CASES["inactive"])
    assert not inactive["active"] and inactive["live_rules"] == {"v4": None, "v6": None}
    flushed, _ = run(tmp_path / "f", UfwFact().command(), CASES["chains flushed"])
    assert flushed["live_rules"] == {"v4": 0, "v6": 0}
