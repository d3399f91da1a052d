"""Jinja2 rendering of role templates: the operator's overrides, then user roles', then the built-in ones."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from .errors import VpskitError
from .paths import builtin_templates_dir


class TemplateError(VpskitError):
    """A template could not be rendered."""


class Templates:
    """Looks a name like `ssh/00-vpskit-hardening.conf.j2` up in override dirs, user roles, then built-ins."""

    def __init__(self, overrides: list[Path] | None = None, role_templates: dict[str, Path] | None = None,
                 builtin: Path | None = None):
        self.overrides, self.role_templates = list(overrides or []), dict(role_templates or {})
        self.builtin = builtin or builtin_templates_dir()
        self.searched = [*self.overrides, *self.role_templates.values(), self.builtin]

    @cached_property
    def environment(self):
        """Jinja2, imported when the first template renders (a run that renders none does not load it)."""
        import jinja2
        import jinja2.sandbox
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader([str(p) for p in self.overrides])]
        if self.role_templates:
            loaders.append(jinja2.PrefixLoader({name: jinja2.FileSystemLoader(str(path))
                                                for name, path in self.role_templates.items()}))
        loaders.append(jinja2.FileSystemLoader(str(self.builtin)))
        # an override beside the inventory is rendered on the controller, in check mode too: sandboxed, it cannot
        # reach Python's internals (`{{ ''.__class__.__mro__ }}`) to run code as the operator
        return jinja2.sandbox.SandboxedEnvironment(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )

    def render(self, name: str, variables: dict) -> str:
        import jinja2.sandbox  # loaded by `environment` already: the names of its errors
        try:
            return self.environment.get_template(name).render(**variables)
        except jinja2.sandbox.SecurityError as exc:
            raise TemplateError(f"template {name}: refused by the sandbox: {exc}") from None
        except jinja2.TemplateNotFound:
            raise TemplateError(f"template {name} not found (searched {', '.join(map(str, self.searched))})") from None
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"template {name}: {exc.message}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"template {exc.name or name}:{exc.lineno}: {exc.message}") from None

    def source(self, name: str) -> str:
        """Where a template name resolves to (for messages and tests)."""
        return self.environment.get_template(name).filename
