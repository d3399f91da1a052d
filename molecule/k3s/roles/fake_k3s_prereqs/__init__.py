"""fake_k3s_prereqs (a Molecule fixture, never shipped): python3 for the fake K3s, installed by vpskit itself."""

from vpskit.resources import Packages
from vpskit.role import RolePlan


def plan(ctx):
    return RolePlan("fake_k3s_prereqs", [Packages(["python3", "python3-yaml"])])
