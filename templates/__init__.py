"""Templates that ship with vpskit: templates/<role>/<file>.j2 (package data of vpskit.builtin_templates)."""
