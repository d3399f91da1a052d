"""What a role is to the engine: its plan for one host, the logins it leaves behind, and its defaults."""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .errors import VpskitError
from .exports import Export
from .inventory.model import Var
from .ports import Network
from .resources.base import Handler, Resource
from .roleindex import summary_of

if TYPE_CHECKING:  # a plan's Confirm is made by the role; the engine imports the SSH side only to run it
    from .confirm import Confirm


@dataclass(frozen=True)
class Login:
    """A user and SSH port vpskit can log in with."""

    user: str
    port: int


@dataclass
class RolePlan:
    """What one role wants on one host: resources in order, the handlers they may notify, what it publishes."""

    role: str
    resources: list[Resource]
    handlers: list[Handler] = field(default_factory=list)
    # commit-confirmed: resources marked guarded are reverted unless a fresh login works afterwards
    confirm: Confirm | None = None
    # the login the fresh connection proves; None: the login this run uses
    confirm_login: Login | None = None
    # values later plays read through their context (a join token, a server URL)
    exports: list[Export] = field(default_factory=list)


class Role:
    """A loaded role: its module (with `plan(ctx)`), its commented defaults and where its templates live.

    Defaults given as a file are read when first asked for: a run of roles built in code needs only
    the other roles' logins, not their variables. A role given as `load` (a built-in role) is imported when
    its play runs or a hook of its is needed: a hook (`logins`, `network`, `inventory_errors`, ...) a role's
    `source` never names cannot be there, so asking for it imports nothing.
    """

    def __init__(self, name: str, module: object | None, defaults: dict[str, Var] | Callable[[], dict[str, Var]],
                 origin: str = "built-in", templates: Path | None = None, spec: Path | None = None,
                 load: Callable[[], object] | None = None, source: Path | None = None):
        self.name, self.origin, self.templates = name, origin, templates
        self._module, self._load, self._source, self._source_text = module, load, source, None
        self._defaults = defaults
        self._spec_file, self._spec = spec, None

    @property
    def module(self) -> object:
        if self._module is None:
            self._module = self._load()
        return self._module

    @property
    def loaded(self) -> bool:
        """Whether its module is imported yet."""
        return self._module is not None

    def hook(self, name: str) -> Callable | None:
        """The module's function `name`, or None; imports the module only when its source names it."""
        if self._module is None and self._source is not None:
            if self._source_text is None:
                self._source_text = self._source.read_text(encoding="utf-8")
            if "import *" not in self._source_text and not re.search(rf"\b{name}\b", self._source_text):
                return None
        return getattr(self.module, name, None)

    @property
    def defaults(self) -> dict[str, Var]:
        if callable(self._defaults):
            self._defaults = self._defaults()
        return self._defaults

    @property
    def spec(self) -> dict:
        """The typed spec of its variables (spec.yml beside defaults.yml), name → VarSpec; empty without one.
        A spec's `check` function is looked up when a value is first checked (an inventory setting it)."""
        if self._spec is None:
            from .inventory.varspec import load_spec  # read when first asked for, like the defaults
            # a module already imported (a user's role) has its checks looked up now, so a misnamed one is an
            # error at load; a built-in role's when first called (every one is resolved by a unit test)
            lazy = {"load_module": lambda: self.module} if self._module is None else {"module": self._module}
            self._spec = load_spec(self._spec_file, self.name, self.defaults, **lazy) if self._spec_file else {}
        return self._spec

    def plan(self, ctx) -> RolePlan:
        return self.module.plan(ctx)

    def inventory_errors(self, inventory) -> list:
        """The role's checks of the inventory as a whole (module function `inventory_errors`), run at load."""
        check = self.hook("inventory_errors")
        return list(check(inventory)) if check else []

    def logins(self, variables: dict) -> list[Login]:
        """Logins this role may leave as the only way in (e.g. the admin user on a new SSH port), best first."""
        declare = self.hook("logins")
        return list(declare(variables)) if declare else []

    def audit_items(self, variables: dict) -> list:
        """The role's audit items (`items(variables)` in audit.py beside its __init__.py), imported by the audit
        alone: a run, and --help, never load them."""
        module = self._audit_module()
        return list(module.items(variables)) if module else []

    def cluster_access(self):
        """How the audit reads the cluster this role runs (`CLUSTER`, a vpskit.audit.cluster.where.ClusterAccess,
        in its audit.py), or None."""
        module = self._audit_module()
        return getattr(module, "CLUSTER", None) if module else None

    def _audit_module(self):
        found = [Path(folder) / "audit.py" for folder in getattr(self.module, "__path__", None) or []]
        if not any(path.is_file() for path in found):
            return None
        name = f"{self.module.__name__}.audit"
        loaded = sys.modules.get(name)
        if loaded is not None and Path(getattr(loaded, "__file__", "") or "") not in found:
            del sys.modules[name]  # another folder's role of the same name was loaded before (a user role path)
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - a user role's mistake names its file
            raise VpskitError(f"role {self.name} ({self.origin}): audit.py cannot be imported: "
                              f"{type(exc).__name__}: {exc}") from None
        return module

    def reboot_drains(self, inventory, session) -> dict:
        """Host name → the Drainer (vpskit.maintenance.reboot) that moves this role's work off that host before
        `invoke reboot` reboots it and back after (module function `reboot_drains(inventory, session)`: a cluster
        role's drains its nodes); such hosts reboot one at a time. `session(host)` opens a HostSession."""
        declare = self.hook("reboot_drains")
        return dict(declare(inventory, session)) if declare else {}

    def network(self, ctx) -> Network:
        """The ports (and routing) this role needs on ctx's host, for the firewall role to open."""
        declare = self.hook("network")
        return declare(ctx) if declare else Network()

    @property
    def summary(self) -> str:
        return summary_of(self.module.__doc__, self.name)
