"""Start-up: what a command imports before it does anything, pinned by module name (in a fresh interpreter).

The figures live in `invoke bench`; this file holds the boundary that makes them: `vpskit --help` loads
invoke and the task modules, and nothing a run, the audit or the lab needs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

# imported by the run that needs them, never by the command line itself (PyYAML is not here: invoke's own
# vendored copy loads libyaml's binding through it)
HEAVY = ["jinja2", "rich", "paramiko", "fabric", "cryptography", "unittest.mock", "vpskit.runner",
         "vpskit.connection", "vpskit.inventory.yamlfile", "vpskit.inventory.loader", "vpskit.roleloader", "vpskit.audit.checklist",
         "vpskit.audit.run", "vpskit.lab", "vpskit.lab.lab", "vpskit.templating", "vpskit.report"]


def _modules_after(code: str) -> set[str]:
    """The module names a fresh interpreter holds after running `code` (its own output discarded)."""
    probe = (f"import json, sys, io, contextlib\nwith contextlib.redirect_stdout(io.StringIO()):\n"
             + "".join(f"    {line}\n" for line in code.splitlines())
             + "print(json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def _heavy(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if m in HEAVY or m.startswith("vpskit.builtin_roles."))


def test_help_imports_no_run_audit_lab_ssh_templates_or_roles():
    loaded = _modules_after("import sys\nsys.argv = ['vpskit', '--help']\nfrom vpskit.cli.program import main\n"
                            "try:\n    main()\nexcept SystemExit:\n    pass")
    assert "invoke.program" in loaded  # it did parse the command line
    assert _heavy(loaded) == []


def test_listing_every_task_imports_no_role():
    loaded = _modules_after("import sys\nsys.argv = ['vpskit', '--list']\nfrom vpskit.cli.program import main\n"
                            "try:\n    main()\nexcept SystemExit:\n    pass")
    assert _heavy(loaded) == []
    # the roles' tasks files were read (by their paths, alone), their packages were not
    assert {"vpskit_role_tasks_k3s", "vpskit_role_tasks_backups"} <= loaded


@pytest.mark.parametrize("task", ["bootstrap", "k3s.upgrade", "audit", "lab.up", "backups.restore", "dr.drill", "reboot"])
def test_a_task_help_imports_nothing_it_would_run(task):
    loaded = _modules_after(f"import sys\nsys.argv = ['vpskit', '--help', {task!r}]\n"
                            "from vpskit.cli.program import main\ntry:\n    main()\nexcept SystemExit:\n    pass")
    assert _heavy(loaded) == []


def test_the_run_path_leaves_out_the_audit_lab_and_rich_off_a_terminal():
    """A run needs SSH, YAML and templates; the checklist's items, the lab and rich (for a pipe) it does not."""
    loaded = _modules_after("from vpskit.cli import common\nfrom vpskit.report import Reporter\nimport io\n"
                            "Reporter(stream=io.StringIO()).start(['h'], False)")
    assert "vpskit.runner" in loaded and "vpskit.audit.thresholds" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] == "rich" or m.startswith(("vpskit.lab", "vpskit.audit.items",
                  "vpskit.audit.checklist", "vpskit.audit.run", "molecule", "tests"))) == []
    assert "jinja2" not in loaded  # until a template renders


def test_invoke_without_unittest_mock_still_gives_the_real_one_later():
    loaded = _modules_after("from vpskit.cli.program import _import_invoke\ninvoke = _import_invoke()\n"
                            "import sys\nassert 'unittest.mock' not in sys.modules\n"
                            "import unittest.mock\nassert unittest.mock.Mock.__module__ == 'unittest.mock'\n"
                            "m = invoke.MockContext(run=invoke.Result('hi'))\n"
                            "assert m.run('x').stdout == 'hi'")
    assert "unittest.mock" in loaded


def test_role_summaries_read_from_source_match_the_imported_roles():
    from vpskit.roleindex import builtin_role_summaries
    from vpskit.roleloader import RoleLibrary
    assert builtin_role_summaries() == {r.name: r.summary for r in RoleLibrary().all()}


def test_the_engine_and_the_command_line_default_to_the_same_forks():
    from vpskit.cli.options import DEFAULT_FORKS
    from vpskit.runner import RunOptions
    assert RunOptions().forks == DEFAULT_FORKS >= 32  # a 32-host fleet in one wave, not four of ten


def test_the_command_ends_with_its_tasks_code_and_all_its_output(tmp_path):
    """The console script skips the interpreter's teardown (os._exit) after flushing: nothing may be lost."""
    script = str(Path(sys.executable).with_name("vpskit"))
    listed = subprocess.run([script, "--list"], capture_output=True, text=True, cwd=tmp_path)
    assert listed.returncode == 0 and "bootstrap" in listed.stdout and listed.stdout.endswith("\n")
    missing = subprocess.run([script, "bootstrap", "-i", str(tmp_path / "none.yml")], capture_output=True, text=True,
                             cwd=tmp_path)
    assert missing.returncode == 1 and "inventory file not found" in missing.stderr
    unknown = subprocess.run([script, "no-such-task"], capture_output=True, text=True, cwd=tmp_path)
    assert unknown.returncode == 1 and "No idea what 'no-such-task' is!" in unknown.stderr


def test_loading_the_project_imports_no_role_and_no_audit_check(tmp_path):
    """load_project reads every role's defaults.yml and spec.yml without importing a role; the inventory's checks
    as a whole import only roles that declare one (K3s's topology), and a spec's check is imported with its role
    when a value needs it."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    h1: {vpskit_host: 192.0.2.1}\n")
    loaded = _modules_after("from vpskit.cli.program import _import_invoke\n_import_invoke()\n"
                            f"from vpskit.cli.common import load_project\nload_project({str(inventory)!r}, None)")
    roles = sorted(m.split(".")[2] for m in loaded if m.startswith("vpskit.builtin_roles."))
    assert "vpskit.runner" in loaded and "vpskit.audit.outside.run" not in loaded and "ssl" not in loaded
    for unused in ("certs", "logging", "base", "baseline", "users", "ssh", "firewall", "fail2ban", "sysctl"):
        assert unused not in roles, roles
    assert not any(m == "fabric" or m.startswith("fabric.") for m in loaded)


def test_a_role_hook_its_source_never_names_imports_nothing(tmp_path):
    from vpskit.role import Role
    source = tmp_path / "__init__.py"
    source.write_text('"""a role"""\ndef plan(ctx):\n    return None\ndef network(ctx):\n    return None\n')
    imported = []
    role = Role("r", None, {}, load=lambda: imported.append(1) or types.SimpleNamespace(network=lambda ctx: "ports"),
                source=source)
    assert role.logins({}) == [] and role.inventory_errors(None) == [] and not role.loaded and not imported
    assert role.network(None) == "ports" and role.loaded and imported == [1]


def test_every_builtin_check_named_in_a_spec_is_a_function_of_its_role():
    from vpskit.inventory.varspec import RoleCheck
    from vpskit.roleloader import RoleLibrary
    checks = [s.check for role in RoleLibrary().all() for s in role.spec.values() if isinstance(s.check, RoleCheck)]
    assert len(checks) >= 10 and all(callable(check.resolve()) for check in checks)


def test_a_misnamed_check_of_a_lazy_role_names_its_spec_line(tmp_path):
    from vpskit.errors import VpskitError
    from vpskit.inventory.model import Var
    from vpskit.inventory.varspec import load_spec
    spec = tmp_path / "spec.yml"
    spec.write_text("r_port: {type: int}\nr_name: {check: nope}\n")
    specs = load_spec(spec, "r", {"r_port": Var(1, "d"), "r_name": Var("x", "d")}, load_module=lambda: types.SimpleNamespace())
    with pytest.raises(VpskitError, match=r"roles/r/spec.yml:2: r_name: check 'nope' is not a function"):
        specs["r_name"].error("value")
