"""How the report prints numbers (docs/metrics.md, Rounding): whole points, whole money, "—" for none."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from leads.imports.parsing import currency_exponent

EMPTY = "—"
CURRENCY_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}


def _round(value: float, decimals: int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def percent(value: float | None, *, decimals: int = 0, signed: bool = False) -> str:
    """A fraction as a percentage: 0.2560 → "26%"; None → "—"."""
    if value is None:
        return EMPTY
    rounded = _round(value * 100, decimals)
    sign = "+" if signed and rounded > 0 else ""
    return f"{sign}{rounded}%"


def points(difference: float) -> str:
    """A difference of two rates in percentage points, one decimal: 0.056 → "5.6"."""
    return str(_round(difference * 100, 1))


def rate_text(rate: dict[str, Any] | None, *, decimals: int = 0) -> str:
    return EMPTY if rate is None else percent(rate["value"], decimals=decimals)


def parts(rate: dict[str, Any]) -> str:
    """ "48 of 187": the counts a rate divides."""
    return f"{int(rate['numerator']):,} of {int(rate['denominator']):,}"


def major_units(minor: float, currency: str) -> Decimal:
    """Minor units as whole major units, half up: the one money rounding of every page.

    The currency's exponent is the one table amounts are parsed with (2 for cents, 0 for yen,
    3 for fils); the shift is done in Decimal so that no float division moves a half.
    """
    return (
        Decimal(str(minor)).scaleb(-currency_exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )


def money(minor: float | None, currency: str) -> str:
    """Minor units in whole major units: 38000, "USD" → "$380"; None → "—"."""
    if minor is None:
        return EMPTY
    amount = major_units(minor, currency)
    symbol = CURRENCY_SYMBOLS.get(currency)
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,}" if symbol else f"{sign}{abs(amount):,} {currency}"


def count(value: float | None) -> str:
    return EMPTY if value is None else f"{int(value):,}"
