"""Jinja2 prompt rendering that refuses to produce a silently broken prompt."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateError

_ENV = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


class PromptRenderError(ValueError):
    """A template could not be rendered (e.g. a misspelled variable)."""


def render_prompt(template_text: str, template_name: str, variables: dict[str, Any]) -> str:
    """Render ``template_text``; an undefined variable or syntax error names the template."""
    try:
        rendered = _ENV.from_string(template_text).render(**variables)
    except TemplateError as exc:
        raise PromptRenderError(
            f"Template {template_name!r} failed to render: {exc}. Available variables: "
            f"{sorted(variables)}. Fix the template file and re-materialize."
        ) from exc
    if not rendered.strip():
        raise PromptRenderError(f"Template {template_name!r} rendered an empty prompt.")
    return rendered
