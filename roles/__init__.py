"""vpskit's built-in roles (shipped as vpskit.builtin_roles); bootstrap.yml lists the plays that run them."""
