"""A plan context for unit tests: one host with the given variables, the built-in templates, no exports."""

from vpskit.context import ExportsView, InventoryView, PlanContext
from vpskit.exports import ExportStore
from vpskit.inventory.model import Host, Inventory, Var
from vpskit.templating import Templates


def plan_context(values: dict, name: str = "h", check: bool = False, store: ExportStore | None = None,
                 inventory: Inventory | None = None) -> PlanContext:
    host = Host(name, [], {k: Var(v, "test") for k, v in values.items()})
    inventory = inventory or Inventory("test", {name: host}, {})
    return PlanContext(name, values, InventoryView(inventory), ExportsView(store or ExportStore()), Templates(),
                       check)
