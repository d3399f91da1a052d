"""Plan contexts for unit tests: hosts with given variables and groups, the built-in templates, an export store."""

from vpskit.context import ExportsView, InventoryView, PlanContext
from vpskit.exports import ExportStore
from vpskit.inventory.model import Group, Host, Inventory, Var
from vpskit.roleloader import RoleLibrary
from vpskit.templating import Templates


def plan_context(values: dict, name: str = "h", check: bool = False, store: ExportStore | None = None,
                 inventory: Inventory | None = None, groups: tuple[str, ...] = ()) -> PlanContext:
    host = Host(name, list(groups), {k: Var(v, "test") for k, v in values.items()})
    inventory = inventory or Inventory("test", {name: host}, {})
    return PlanContext(name, values, InventoryView(inventory), ExportsView(store or ExportStore()), Templates(),
                       check, roles_network=RoleLibrary().network)


def cluster(values: dict, servers: list[str], agents: list[str] = ()) -> Inventory:
    """An inventory of K3s servers and agents at 10.0.0.<n>, every host with `values`."""
    hosts, groups = {}, {"all": Group("all")}
    for group, names in (("k3s_servers", servers), ("k3s_agents", agents)):
        groups[group] = Group(group, ["all"], list(names))
        for index, name in enumerate(names):
            number = len(hosts) + 1
            hosts[name] = Host(name, [group], {**{k: Var(v, "test") for k, v in values.items()},
                                               "vpskit_host": Var(f"10.0.0.{number}", "test")})
    return Inventory("test", hosts, groups)


def member_context(values: dict, inventory: Inventory, name: str, store: ExportStore | None = None,
                   check: bool = False) -> PlanContext:
    return plan_context({**inventory.hosts[name].values, **values}, name, check, store, inventory)
