"""Dashboard template helpers."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.forms import Select
from django.forms.boundfield import BoundField
from django.forms.utils import flatatt
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def filter_field(field: BoundField) -> SafeString:
    """A filter's label and control, as ``{{ field.label_tag }} {{ field }}`` renders them.

    A <select> is written here rather than through the form renderer: the dashboards
    show nine of them (the country list alone has ~250 options), and rendering a
    template per option cost more than the rest of the page.
    """
    widget = field.field.widget
    if not isinstance(widget, Select) or widget.allow_multiple_selected:
        return format_html("{} {}", field.label_tag(), field)
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    selected = widget.format_value(field.value())  # the chosen values as text, as Select renders them
    options = mark_safe(  # noqa: S308 - every part escaped in _option_html
        "".join(
            _option_html(value, label, value in selected)
            for value, label in (
                ("" if value is None else str(value), str(label))
                for value, label in _flat_choices(widget.choices)
            )
        )
    )
    suffix = field.field.label_suffix if field.field.label_suffix is not None else field.form.label_suffix
    if not suffix or str(field.label)[-1:] in ":?.!":
        suffix = ""
    label = format_html('<label for="{}">{}{}</label>', field.id_for_label, field.label, suffix)
    return format_html(
        '{} <select name="{}"{}>{}</select>',
        label,
        field.html_name,
        flatatt(widget.build_attrs(widget.attrs, attrs)),
        options,
    )


@lru_cache(maxsize=4096)
def _option_html(value: str, label: str, selected: bool) -> str:
    """One <option>, escaped; cached: the same countries, regions … are written on every page."""
    return f'<option value="{escape(value)}"{" selected" if selected else ""}>{escape(label)}</option>'


def _flat_choices(choices):
    for value, label in choices:
        if isinstance(label, list | tuple):  # an option group: its options, flattened
            yield from label
        else:
            yield value, label
