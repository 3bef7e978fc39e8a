"""Template helpers of organization pages."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.urls import get_script_prefix, reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def org_url(context: template.Context, name: str, **kwargs: str) -> str:
    """``{% url name org_slug=organization.slug ... %}`` of the page's organization, remembered.

    The navigation on every organization page links ~35 views; reversing them all was a
    noticeable share of rendering a page, and the answer depends only on these arguments.
    """
    return _org_url(get_script_prefix(), name, context["organization"].slug, tuple(sorted(kwargs.items())))


@lru_cache(maxsize=8192)
def _org_url(prefix: str, name: str, slug: str, extra: tuple[tuple[str, str], ...]) -> str:
    # ``prefix``: reverse() prepends the script prefix, so it is part of the answer.
    return reverse(name, kwargs={"org_slug": slug, **dict(extra)})
