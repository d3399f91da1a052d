"""Jinja2 rendering of role templates; an undefined variable is an error naming the template."""

from __future__ import annotations

from pathlib import Path

import jinja2

from .errors import VpskitError
from .paths import TEMPLATES_DIR


class TemplateError(VpskitError):
    """A template could not be rendered."""


def make_environment(directory: Path = TEMPLATES_DIR) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(name: str, variables: dict, environment: jinja2.Environment | None = None) -> str:
    """Renders templates/<name> with the host's variables."""
    env = environment or make_environment()
    try:
        return env.get_template(name).render(**variables)
    except jinja2.TemplateNotFound:
        raise TemplateError(f"template {name} not found under {env.loader.searchpath[0]}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"template {name}: {exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template {exc.name or name}:{exc.lineno}: {exc.message}") from None
