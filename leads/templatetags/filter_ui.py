"""The lead filters' controls (lead list and dashboards), written without the form renderer."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.forms import FileInput, Select
from django.forms.boundfield import BoundField
from django.forms.utils import flatatt
from django.forms.widgets import Input
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def filter_field(field: BoundField) -> SafeString:
    """A filter's label and control, as ``{{ field.label_tag }} {{ field }}`` renders them.

    Selects and plain inputs are written here rather than through the form renderer:
    the dashboards show eleven of them on every page (the country list alone has ~250
    options), and rendering a template per widget and option cost more than the rest
    of the page.
    """
    widget = field.field.widget
    plain_input = isinstance(widget, Input) and not isinstance(widget, FileInput)
    select = isinstance(widget, Select) and not widget.allow_multiple_selected
    if not (plain_input or select):
        return format_html("{} {}", field.label_tag(), field)
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    attrs = flatatt(widget.build_attrs(widget.attrs, attrs))
    suffix = field.field.label_suffix if field.field.label_suffix is not None else field.form.label_suffix
    if not suffix or str(field.label)[-1:] in ":?.!":
        suffix = ""
    label = format_html('<label for="{}">{}{}</label>', field.id_for_label, field.label, suffix)
    if plain_input:
        value = widget.format_value(field.value())
        shown = "" if value is None else format_html(' value="{}"', value)
        return format_html(
            '{} <input type="{}" name="{}"{}{}>', label, widget.input_type, field.html_name, shown, attrs
        )
    selected = widget.format_value(field.value())  # the chosen values as text, as Select renders them
    # A fixed list set by LeadFilter.load_display_choices (the countries): its HTML is kept.
    display_options = getattr(widget, "display_options", None)
    if display_options is not None:
        options = _options_html(display_options, tuple(selected))
    else:
        options = mark_safe(  # noqa: S308 - every part escaped in _option_html
            "".join(
                _option_html(value, label, value in selected)
                for value, label in (
                    ("" if value is None else str(value), str(label))
                    for value, label in _flat_choices(widget.choices)
                )
            )
        )
    return format_html('{} <select name="{}"{}>{}</select>', label, field.html_name, attrs, options)


@lru_cache(maxsize=256)
def _options_html(choices: tuple[tuple[str, str], ...], selected: tuple[str, ...]) -> SafeString:
    """The <option>s of a fixed list with these values chosen; the same few are asked again and again."""
    return mark_safe(  # noqa: S308 - every part escaped in _option_html
        "".join(
            _option_html("" if value is None else str(value), str(label), str(value) in selected)
            for value, label in choices
        )
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
