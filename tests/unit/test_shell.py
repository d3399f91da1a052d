"""shellcheck on the shell kept as files and on the scripts vpskit generates (run on hosts under sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

from vpskit.confirm import Confirm, Guard, arm_script
from vpskit.facts import (AptCacheAgeFact, AptPolicyFact, ConffilesFact, SshdConfigFact, SshdEffectiveFact,
                          AuthorizedKeysFact, CommandFact, FileFact, GroupFact, HostInfoFact,
                          PackagesFact, ServiceFact, SysctlFact, UserFact)
from vpskit.facts.leftovers import StaleTempsSwept
from vpskit.facts.ufw import UfwFact
from vpskit.gather import Section, batch_script, sections_for
from tests.unit.factstub import StubFacts
from tests.unit.recording import RecordingSession
from tests.unit.speccase import CaseReader

ROOT = Path(__file__).resolve().parents[2]
SPECS = Path(__file__).parent / "specs"
SKIPPED_DIRS = {".git", ".venv", ".venv-tools", "node_modules", "__pycache__", "build", "reports"}

# findings that are intended in what the fact commands do on the host
FACT_EXCLUSIONS = {
    "SC2046": "`set -- $(stat …)` / `set -- $(uname -rm)` split on purpose into positional parameters",
    "SC1091": "/etc/os-release is the host's, sourced there; it cannot be followed here",
    "SC2234": "a probe runs in ( ) so whatever it is (exit, cd, set) cannot affect the batch",
    "SC2320": "a section's status after a probe fact is that of the printf that reports the probe's own: the fact "
              "reads it from the output",
}
RESOURCE_EXCLUSIONS = {"SC2016": "quoted data (a rule comment, a path) may hold `$` and is meant literally"}


@pytest.fixture(scope="module")
def shellcheck():
    path = shutil.which("shellcheck")
    if path is None:
        message = "shellcheck is not installed (apt-get install shellcheck; scripts/test installs it)"
        if os.environ.get("VPSKIT_E2E") == "require":
            pytest.fail(message)
        pytest.skip(message)
    return path


def run_shellcheck(shellcheck: str, files: list[Path], shell: str | None = None, exclude=()) -> str:
    """shellcheck's findings for these files (gcc format, one a line); empty when clean."""
    command = [shellcheck, "--format=gcc", "--external-sources"]
    if shell:
        command.append(f"--shell={shell}")
    if exclude:
        command.append(f"--exclude={','.join(sorted(exclude))}")
    result = subprocess.run(command + [str(f) for f in files], capture_output=True, text=True, timeout=300)
    if result.returncode not in (0, 1):  # 1: findings; anything else: shellcheck itself failed
        pytest.fail(f"shellcheck failed (exit {result.returncode}): {result.stderr.strip()}")
    # findings name the file relative to where it was written (the case or script it came from)
    return "\n".join(line.replace(f"{files[0].parent}/", "") for line in result.stdout.strip().splitlines())


def shell_files() -> list[Path]:
    """Shell kept as files: scripts/*, .ci/run, and *.sh / *.sh.j2 anywhere in the repository."""
    found = [p for p in (ROOT / "scripts").iterdir() if p.is_file()] + [ROOT / ".ci" / "run"]
    for directory, subdirs, files in os.walk(ROOT):
        subdirs[:] = [d for d in subdirs if d not in SKIPPED_DIRS]
        found += [Path(directory) / f for f in files if f.endswith((".sh", ".sh.j2"))]
    return sorted(set(found))


def representative_variables() -> dict:
    """Every role's defaults merged: what a shell template sees on a host that overrides nothing."""
    variables = {}
    for defaults in sorted((ROOT / "roles").glob("*/defaults.yml")):
        variables.update(yaml.safe_load(defaults.read_text()) or {})
    return variables


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text if text.endswith("\n") else text + "\n")
    return path


@pytest.mark.parametrize("path", shell_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_shell_file(path, shellcheck, tmp_path):
    if path.name.endswith(".j2"):
        environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(path.parent)),
                                         undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        path = write(tmp_path, path.name[:-3], environment.get_template(path.name).render(**representative_variables()))
    findings = run_shellcheck(shellcheck, [path])
    assert not findings, f"\n{findings}"


def representative_facts() -> list:
    """At least one fact of every class, and enough of some for their gather-many commands."""
    return [
        FileFact("/etc/ssh/sshd_config"), FileFact("/etc/it's a file"), FileFact("/etc/motd"), FileFact("/root/.ssh"),
        ServiceFact("ssh"), ServiceFact("cron"), ServiceFact("getty@tty1.service"),
        PackagesFact("ufw", "curl"), PackagesFact("fail2ban"), PackagesFact("auditd"),
        AptCacheAgeFact(), HostInfoFact(), SysctlFact("net.ipv4.ip_forward", "kernel.kptr_restrict"),
        CommandFact("test -e /etc/ssh/ssh_host_ed25519_key"), CommandFact("[ \"$(id -u)\" = 0 ]"),
        UserFact("admin"), GroupFact("sudo"), AuthorizedKeysFact("admin"), UfwFact(),
        SshdConfigFact(), SshdEffectiveFact("10.0.0.5", "ops", "root"), AptPolicyFact(),
        ConffilesFact("fail2ban", "ufw"), ConffilesFact("openssh-server"), ConffilesFact("unattended-upgrades"),
        StaleTempsSwept("0123abcd", "/run/vpskit/lock"),
    ]


def test_fact_batches(shellcheck, tmp_path):
    facts = representative_facts()
    merged = write(tmp_path, "batch-merged.sh", batch_script(sections_for(facts), "0123456789abcdef"))
    single = write(tmp_path, "batch-single.sh", batch_script([Section([f]) for f in facts], "0123456789abcdef"))
    findings = run_shellcheck(shellcheck, [merged, single], shell="sh", exclude=FACT_EXCLUSIONS)
    assert not findings, f"\n{findings}"


def test_commit_confirmed_scripts(shellcheck, tmp_path):
    files = []
    for role, paths, restore in [
        ("ssh", ["/etc/ssh/sshd_config.d/00-vpskit.conf", "/etc/ssh/ssh_host_rsa_key"], "systemctl reload ssh"),
        ("firewall", ["/etc/ufw/user.rules", "/etc/default/ufw", "/etc/it's here"],
         "if grep -q '^ENABLED=yes' /etc/ufw/ufw.conf; then ufw reload; else ufw --force disable; fi"),
    ]:
        script = arm_script(f"{role}-0a1b2c3d", paths, restore, 60)
        files.append(write(tmp_path, f"arm-{role}.sh", script))
        # restore.sh is written by a quoted here-document: check it as the script it becomes
        restore_script = script.split("<<'VPSKIT_RESTORE'\n", 1)[1].split("\nVPSKIT_RESTORE", 1)[0]
        files.append(write(tmp_path, f"restore-{role}.sh", restore_script))
    session = RecordingSession(facts=StubFacts([]))
    guard = Guard(Confirm(restore="systemctl reload ssh"), [], session, "ssh")
    guard.disarm()
    guard.rollback()
    files += [write(tmp_path, f"guard-{i}.sh", c.command) for i, c in enumerate(session.commands)]
    findings = run_shellcheck(shellcheck, files, shell="sh")
    assert not findings, f"\n{findings}"


def test_resource_commands_from_specs(shellcheck, tmp_path):
    """Every command the spec cases expect apply to run (they are checked to be exactly what it runs)."""
    reader, files = CaseReader(), []
    for path in sorted(SPECS.glob("*/*.yml")):
        case = reader.read(path, tmp_path / "local" / path.parent.name / path.stem)  # for cases with local files
        for index, entry in enumerate(case.expect.get("commands") or []):
            command = entry if isinstance(entry, str) else entry["command"]
            files.append(write(tmp_path, f"{path.parent.name}--{path.stem}--{index}.sh", command))
    assert files
    findings = run_shellcheck(shellcheck, files, shell="sh", exclude=RESOURCE_EXCLUSIONS)
    assert not findings, f"\n{findings}"


def test_the_audits_batch(shellcheck, tmp_path):
    """Every item's reads, every switch on, as the audit sends them: one batch of the same machinery."""
    from vpskit.audit.checklist import audit_defaults, checklist, probes_of
    from vpskit.roleloader import RoleLibrary
    roles = RoleLibrary().all()
    from vpskit.roleloader import all_defaults
    values = {**{k: v.value for k, v in {**all_defaults(roles), **audit_defaults()}.items()},
              "audit_expected_fqdn": "example.test",
              "audit_postgres": True}
    facts = list(probes_of(checklist(values, roles)).values())
    script = write(tmp_path, "audit-batch.sh", batch_script(sections_for(facts), "0123456789abcdef"))
    ascii_kinds = {code: "`tr A-Z a-z` lowercases kubectl's kind names, which are ASCII" for code in ("SC2018", "SC2019")}
    findings = run_shellcheck(shellcheck, [script], shell="sh", exclude={**FACT_EXCLUSIONS, **ascii_kinds})
    assert not findings, f"\n{findings}"
