"""Ships roles/ and templates/ inside the vpskit package (vpskit.builtin_roles, vpskit.builtin_templates)."""

from setuptools import find_packages, setup

ROLES = ["vpskit.builtin_roles"] + [f"vpskit.builtin_roles.{p}" for p in find_packages("roles")]

setup(
    packages=find_packages(include=["vpskit", "vpskit.*"]) + ROLES + ["vpskit.builtin_templates"],
    package_dir={"vpskit.builtin_roles": "roles", "vpskit.builtin_templates": "templates"},
    package_data={"vpskit.builtin_roles": ["*.yml", "*/*.yml"], "vpskit.builtin_templates": ["*/*.j2"],
                  "vpskit.audit": ["defaults.yml"], "vpskit.maintenance": ["defaults.yml"]},
)
