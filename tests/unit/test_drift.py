"""Drift detection's pure parts: sshd's reading order and overrides, per-family ufw rules, conffiles, apt policy."""

from vpskit.facts import AptPolicyFact, ConffilesFact, SshdConfigFact, SshdEffectiveFact
from vpskit.facts.ufw import UfwFact, UfwRule
from vpskit.gather import FactCache
from vpskit.resources.aptpolicy import policy_offenders, policy_problems
from vpskit.resources.sshd import edits
from vpskit.resources.ufw import family_gaps, live_gaps
from vpskit.sshdconfig import effective_drift, overrides, reaches, reading_order, wanted_settings

DROP_IN = "/etc/ssh/sshd_config.d/00-vpskit-hardening.conf"
CONFIG = (
    "@@file /etc/ssh/sshd_config\n|Port 2222\n|Include /etc/ssh/sshd_config.d/*.conf\n|AllowUsers alice\n"
    "|Match User deploy\n|  PermitRootLogin yes\n\n"
    "@@glob /etc/ssh/sshd_config.d/*.conf\n/etc/ssh/sshd_config.d/10-site.conf\n@@end\n"
    "@@file /etc/ssh/sshd_config.d/10-site.conf\n|Port 22\n|PasswordAuthentication yes\n|Match Address 10.0.0.0/8\n"
    "|  MaxAuthTries 3\n@@file /etc/ssh/sshd_config.d/10-site.conf\n|read twice\n"
)
WANTED = "Port 22\nPermitRootLogin no\nPasswordAuthentication no\nMaxAuthTries 3\nAllowUsers ops deploy\n"


def test_config_fact_keeps_files_and_what_each_include_matched():
    config = SshdConfigFact().parse(CONFIG, 0)
    assert config["globs"] == {"/etc/ssh/sshd_config.d/*.conf": ["/etc/ssh/sshd_config.d/10-site.conf"]}
    assert config["files"]["/etc/ssh/sshd_config.d/10-site.conf"][0] == "Port 22"
    assert "read twice" not in config["files"]["/etc/ssh/sshd_config.d/10-site.conf"]


def test_the_drop_in_is_read_where_the_include_would_read_it():
    config = SshdConfigFact().parse(CONFIG, 0)
    order = [(s.path.rsplit("/", 1)[1], s.keyword, s.match) for s in reading_order(config, {DROP_IN: WANTED.splitlines()})]
    assert order[:3] == [("sshd_config", "port", None), ("00-vpskit-hardening.conf", "port", None),
                         ("00-vpskit-hardening.conf", "permitrootlogin", None)]
    # a Match block in an included file ends with that file
    assert ("10-site.conf", "maxauthtries", "Address 10.0.0.0/8") in order
    assert ("sshd_config", "allowusers", None) in order
    assert reaches(config, DROP_IN) and not reaches(config, "/etc/ssh/elsewhere.conf")


def test_overrides_first_value_collected_keywords_and_match_blocks():
    config = SshdConfigFact().parse(CONFIG, 0)
    wanted = wanted_settings(WANTED)
    assert wanted["allowusers"] == frozenset({"ops", "deploy"}) and wanted["port"] == frozenset({"22"})
    found = overrides(reading_order(config, {DROP_IN: WANTED.splitlines()}), wanted, DROP_IN)
    # Port 2222 adds a port wherever it is; AllowUsers alice adds a user; PasswordAuthentication yes comes after the
    # drop-in (ignored by sshd); the Match block's MaxAuthTries 3 is the wanted value
    assert [s.label() for s in found] == [
        "/etc/ssh/sshd_config:1: port 2222",
        "/etc/ssh/sshd_config:3: allowusers alice",
        "/etc/ssh/sshd_config:5: permitrootlogin yes (in `Match User deploy`)",
    ]
    # sshd_config is never moved aside; only its lines are commented out
    assert edits(config["files"], found) == [("/etc/ssh/sshd_config", "comment", [1, 3, 5])]


def test_a_file_of_nothing_but_overrides_is_moved_aside():
    files = {"/etc/ssh/sshd_config.d/00-a.conf": ["# mine", "Match User x", "  PasswordAuthentication yes"]}
    found = overrides(reading_order({"files": {"/etc/ssh/sshd_config": ["Include sshd_config.d/*.conf"], **files},
                                     "globs": {"/etc/ssh/sshd_config.d/*.conf": list(files)}}),
                      wanted_settings("PasswordAuthentication no"), DROP_IN)
    assert edits(files, found) == [("/etc/ssh/sshd_config.d/00-a.conf", "aside", [3])]


def test_effective_settings_per_connection():
    fact = SshdEffectiveFact("10.0.0.5", "ops", "root", "ops", None)
    assert fact.contexts() == ["", "user=ops,host=10.0.0.5,addr=10.0.0.5", "user=root,host=10.0.0.5,addr=10.0.0.5"]
    assert SshdEffectiveFact(None, "ops").contexts() == [""]
    output = ("@@context \npasswordauthentication no\nallowusers ops\nallowusers deploy\n@@rc 0\n"
              "@@context user=ops,host=10.0.0.5,addr=10.0.0.5\npasswordauthentication yes\nallowusers ops\n@@rc 0\n"
              "@@context user=root,host=10.0.0.5,addr=10.0.0.5\n/etc/ssh/sshd_config line 3: Bad option\n@@rc 255\n")
    effective = fact.parse(output, 0)
    assert effective["user=root,host=10.0.0.5,addr=10.0.0.5"] == {
        "rc": 255, "settings": {}, "error": "/etc/ssh/sshd_config line 3: Bad option"}
    assert effective_drift(effective, wanted_settings("PasswordAuthentication no\nAllowUsers ops deploy")) == [
        "passwordauthentication yes for user=ops,host=10.0.0.5,addr=10.0.0.5 (wanted no)",
        "allowusers ops for user=ops,host=10.0.0.5,addr=10.0.0.5 (wanted deploy ops)",
    ]


def test_sshd_facts_are_forgotten_when_a_file_under_etc_ssh_changes():
    class Result:
        stdout, stderr = "", ""

    cache = FactCache("h", lambda script: Result())
    for fact in (SshdConfigFact(), SshdEffectiveFact("10.0.0.5", "ops"), AptPolicyFact()):
        cache._values[fact.key], cache._facts[fact.key] = {}, fact
    cache.invalidate(paths=["/etc/ssh/sshd_config.d/00-vpskit-hardening.conf"])
    assert not cache.has(SshdConfigFact()) and not cache.has(SshdEffectiveFact("10.0.0.5", "ops"))
    assert cache.has(AptPolicyFact())


def test_ufw_rules_per_family_and_the_kernels_chains():
    output = ("installed=yes\nIPV6=yes\n@@filev4\n"
              "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=7670736b69743a20737368\n"
              "-A ufw-user-input -p tcp --dport 22 -j ACCEPT\n"
              "### tuple ### allow tcp 53 0.0.0.0/0 any 10.0.0.0/8 in\n-A ufw-user-input -p tcp --dport 53 -j ACCEPT\n"
              "@@filev6\n@@livev4\n0\n@@livev6\n")
    state = UfwFact().parse(output, 0)
    ssh = UfwRule("allow", "tcp", "22", "any", "vpskit: ssh")
    inner = UfwRule("allow", "tcp", "53", "10.0.0.0/8", "vpskit: dns")
    assert state["active"] and state["family_rules"]["v6"] == [] and state["chain_rules"] == {"v4": 2, "v6": 0}
    assert family_gaps(state, [ssh, inner]) == {ssh: ["v6"], inner: ["v4"]}
    assert family_gaps({**state, "ipv6": False}, [ssh]) == {}
    # v6: no chain at all (ufw not loaded for IPv6) is not compared; v4: flushed
    assert live_gaps(state) == ["the kernel's ufw-user-input chain holds 0 rule(s), /etc/ufw/user.rules 2"]


def test_conffiles_of_installed_packages_only():
    output = ("@@fail2ban ii\n/etc/fail2ban/jail.conf\n@@ufw rc\n/etc/ufw/before.rules\n"
              "@@@ucf\nunattended-upgrades /etc/apt/apt.conf.d/50unattended-upgrades\nfail2ban /etc/fail2ban/x\n")
    assert ConffilesFact("fail2ban", "ufw").parse(output, 0) == {
        "fail2ban": ["/etc/fail2ban/jail.conf", "/etc/fail2ban/x"]}
    merged = ConffilesFact.parse_many([ConffilesFact("fail2ban"), ConffilesFact("ufw")], output, 0)
    assert merged == [{"fail2ban": ["/etc/fail2ban/jail.conf", "/etc/fail2ban/x"]}, {}]


def test_apt_policy_by_effective_values():
    policy = AptPolicyFact().parse(
        'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "0";\n'
        'Unattended-Upgrade::Allowed-Origins:: "${distro_id}:${distro_codename}-security";\n@@lines\n'
        '/etc/apt/apt.conf.d/20auto-upgrades:3:APT::Periodic::Unattended-Upgrade "1";\n'
        '/etc/apt/apt.conf.d/99x:1:  APT::Periodic::Unattended-Upgrade "0";\n', 0)
    assert policy_problems(policy["values"]) == ["APT::Periodic::Unattended-Upgrade is 0"]
    assert policy_offenders(policy["lines"], ["/etc/apt/apt.conf.d/20auto-upgrades"], False) == [
        ("/etc/apt/apt.conf.d/99x", 1, 'APT::Periodic::Unattended-Upgrade "0";')]
    assert "no security origin" in policy_problems({"APT::Periodic::Update-Package-Lists": ["1"],
                                                    "APT::Periodic::Unattended-Upgrade": ["1"],
                                                    "Unattended-Upgrade::Origins-Pattern": ["", "origin=Debian"]})[0]


def test_a_guard_asks_for_its_paths_when_it_arms():
    from vpskit.confirm import Confirm, Guard

    asked = []
    guard = Guard(Confirm(paths=["/etc/ssh/ssh_host_rsa_key.pub"]), lambda: asked or ["/etc/ssh/sshd_config"], None, "ssh")
    asked.append("/etc/ssh/sshd_config.d/00-a.conf")  # known only once facts were read
    assert guard.paths == ["/etc/ssh/ssh_host_rsa_key.pub", "/etc/ssh/sshd_config.d/00-a.conf"]
