from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def num(value):
    """Thousands grouped with commas whatever the locale (zh-hans groups nothing, which is hard to read
    at 170962), as statistical tables and Excel show them."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        return f"{value:,.2f}" if isinstance(value, Decimal) else f"{value:,.1f}"
    return value
