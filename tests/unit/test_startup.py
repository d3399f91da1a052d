"""Start-up: what a command imports before it does anything, pinned by module name (in a fresh interpreter).

The figures live in `invoke bench`; this file holds the boundary that makes them: `vpskit --help` loads
invoke and the task modules, and nothing a run, the audit or the lab needs.
"""

from __future__ import annotations

import json
import subprocess
import sys

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
