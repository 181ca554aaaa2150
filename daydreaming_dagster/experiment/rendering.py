"""Jinja2 prompt rendering that refuses to produce a silently broken prompt."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, StrictUndefined, Template, TemplateError

_ENV = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


class PromptRenderError(ValueError):
    """A template could not be rendered (e.g. a misspelled variable)."""


@lru_cache(maxsize=256)
def _compiled(template_text: str) -> Template:
    """Compiling a template costs far more than rendering it; hundreds of prompts share a few."""
    return _ENV.from_string(template_text)


def render_prompt(template_text: str, template_name: str, variables: dict[str, Any]) -> str:
    """Render ``template_text``; an undefined variable or syntax error names the template."""
    try:
        rendered = _compiled(template_text).render(**variables)
    except TemplateError as exc:
        raise PromptRenderError(
            f"Template {template_name!r} failed to render: {exc}. Available variables: "
            f"{sorted(variables)}. Fix the template file and re-materialize."
        ) from exc
    if not rendered.strip():
        raise PromptRenderError(f"Template {template_name!r} rendered an empty prompt.")
    return rendered
