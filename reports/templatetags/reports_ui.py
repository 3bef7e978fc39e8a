"""Dashboard template helpers."""

from __future__ import annotations

from django import template
from django.forms import Select
from django.forms.boundfield import BoundField
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

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
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (option["value"], " selected" if option["selected"] else "", option["label"])
            for _, group, _ in context["optgroups"]
            for option in group
        ),
    )
    suffix = field.field.label_suffix if field.field.label_suffix is not None else field.form.label_suffix
    if not suffix or str(field.label)[-1:] in ":?.!":
        suffix = ""
    label = format_html('<label for="{}">{}{}</label>', field.id_for_label, field.label, suffix)
    return format_html(
        '{} <select name="{}"{}>{}</select>', label, context["name"], flatatt(context["attrs"]), options
    )
