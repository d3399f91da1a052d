"""Where the project's roles, templates and example inventory live."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
ROLES_DIR = PROJECT_ROOT / "roles"
DEFAULT_INVENTORY = PROJECT_ROOT / "inventory" / "hosts.yml"
