"""Extending vpskit without forking: a role from a roles path, a template override beside the inventory."""

from __future__ import annotations

import io
import os
import textwrap
from pathlib import Path

import pytest

from tests.unit.localhost import LocalConnection
from vpskit.cli.common import load_project
from vpskit.errors import InventoryError, VpskitError
from vpskit.report import Reporter
from vpskit.runner import Run, RunOptions

MOTD_ROLE = '''
"""motd role: a message of the day from a template."""

from vpskit.resources import File
from vpskit.role import RolePlan

from .text import signature


def plan(ctx):
    return RolePlan("motd", [File(ctx["motd_path"], content=ctx.render("motd/motd.j2", {"sig": signature()}))])
'''


# the lock may not be under /tmp (other users write there): a root-only folder of the tests' own, in /run
LOCK_DIR = "/run/vpskit-tests"


@pytest.fixture(autouse=True)
def lock_dir():
    os.makedirs(LOCK_DIR, mode=0o700, exist_ok=True)


def make_project(tmp_path, extra_vars: str = "") -> tuple:
    roles = tmp_path / "my-roles" / "motd"
    (roles / "templates").mkdir(parents=True)
    (roles / "__init__.py").write_text(MOTD_ROLE)
    (roles / "text.py").write_text("def signature():\n    return '-- ops'\n")
    (roles / "defaults.yml").write_text("# where the message goes\nmotd_path: /etc/motd\n# what it says\nmotd_text: hi\n")
    (roles / "templates" / "motd.j2").write_text("{{ motd_text }} from {{ inventory_hostname }}\n{{ sig }}\n")
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "hosts.yml").write_text(textwrap.dedent(f"""\
        all:
          vars:
            vpskit_roles_path: ../my-roles
            motd_text: hello
            motd_path: {tmp_path / 'motd'}
            vpskit_lock_path: {LOCK_DIR}/{tmp_path.name}.lock
            {extra_vars}
          hosts:
            h1:
              inventory_hostname: h1
        """))
    return inv / "hosts.yml", roles


def test_a_role_from_the_roles_path_runs_with_its_defaults_templates_and_modules(tmp_path):
    path, folder = make_project(tmp_path)
    project = load_project(str(path), None, only=["motd"])
    assert project.library.load("motd").origin == str(folder)
    assert project.inventory.hosts["h1"].vars["motd_path"].source.endswith("hosts.yml:5")
    run = Run(project.inventory, list(project.inventory.hosts.values()), project.plays, project.library,
              project.templates, RunOptions(), Reporter(stream=io.StringIO()), connect=LocalConnection)
    assert run.execute()[0].error is None
    assert (tmp_path / "motd").read_text() == "hello from h1\n-- ops\n"


def test_a_users_role_setting_is_validated_like_a_built_in_one(tmp_path):
    path, _ = make_project(tmp_path, extra_vars="motd_txt: typo")
    with pytest.raises(InventoryError, match="did you mean 'motd_text'"):
        load_project(str(path), None)


def test_a_template_beside_the_inventory_overrides_the_shipped_one(tmp_path):
    path, _ = make_project(tmp_path)
    override = path.parent / "templates" / "ssh"
    override.mkdir(parents=True)
    (override / "00-vpskit-hardening.conf.j2").write_text("# ours\n")
    project = load_project(str(path), None)
    assert project.templates.source("ssh/00-vpskit-hardening.conf.j2") == str(override / "00-vpskit-hardening.conf.j2")
    assert project.templates.source("fail2ban/jail.local.j2").endswith("templates/fail2ban/jail.local.j2")
    assert "ssh" in [r for p in project.plays for r in p.roles]


def test_a_missing_roles_folder_and_an_unknown_role_are_clear_errors(tmp_path):
    path, _ = make_project(tmp_path)
    text = path.read_text().replace("../my-roles", "../nowhere")
    path.write_text(text)
    with pytest.raises(InventoryError, match="nowhere is not a folder"):
        load_project(str(path), None)
    path.write_text(text.replace("../nowhere", "../my-roles"))
    with pytest.raises(VpskitError, match="no role named 'nosuch'"):
        load_project(str(path), None, only=["nosuch"])


def test_the_firewall_opens_the_ports_a_users_role_declares(tmp_path):
    path, folder = make_project(tmp_path)
    (folder / "__init__.py").write_text(MOTD_ROLE + textwrap.dedent('''
        from vpskit.ports import Network, Port


        def network(ctx):
            return Network((Port("tcp", "8443", "10.1.0.0/16", "motd api"),))
        '''))
    project = load_project(str(path), None, only=["firewall"])
    from tests.unit.planctx import plan_context
    ctx = plan_context(project.inventory.hosts["h1"].values, "h1")
    ctx.roles_network = project.library.network
    rules = project.library.load("firewall").plan(ctx).resources
    opened = [r for resource in rules for r in getattr(resource, "rules", [])]
    assert [(r.port, r.src, r.comment) for r in opened if r.port == "8443"] == [("8443", "10.1.0.0/16",
                                                                               "vpskit: motd api")]


def readme_files(marker: str) -> dict[str, str]:
    """The files of a README example laid out as `my-roles/<role>/<file>   <line>`, by file name."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start = readme.index(marker)
    block = readme[readme.index("```\n", start) + 4:]
    block = block[:block.index("```")]
    files: dict[str, list[str]] = {}
    current = None
    for line in block.splitlines():
        head, text = line[:31].strip(), line[31:]
        if head:
            current = head.split("/")[-1]
        files.setdefault(current, []).append(text)
    return {name: "\n".join(lines) + "\n" for name, lines in files.items()}


def test_the_readmes_own_resource_role_runs_and_is_idempotent(tmp_path):
    """The README's "Writing a resource" example as written there: a change, then nothing to change."""
    path, _ = make_project(tmp_path)
    stamp = tmp_path / "my-roles" / "stamp"
    stamp.mkdir()
    for name, text in readme_files("**Writing a resource.**").items():
        (stamp / name).write_text(text)
    path.write_text(path.read_text().replace("    motd_text: hello\n", f"    motd_text: hello\n    stamp_path: {tmp_path / 'stamp'}\n"))
    statuses = []
    for _ in range(2):
        project = load_project(str(path), None, only=["stamp"])
        run = Run(project.inventory, list(project.inventory.hosts.values()), project.plays, project.library,
                  project.templates, RunOptions(), Reporter(stream=io.StringIO()), connect=LocalConnection)
        result = run.execute()[0]
        assert result.error is None
        statuses.append([(step.title, step.status) for step in result.steps if step.role == "stamp"])
    stamped = f"stamp {tmp_path / 'stamp'}"
    assert statuses == [[(stamped, "changed")], [(stamped, "ok")]]
    assert (tmp_path / "stamp").read_text() == "provisioned by vpskit"
