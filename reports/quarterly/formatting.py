"""How the report prints numbers (docs/metrics.md, Rounding): whole points, whole money, "—" for none."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

EMPTY = "—"
CURRENCY_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}
# Currencies whose minor unit is the unit itself (ISO 4217 exponent 0).
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "ISK", "CLP", "VND"})


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
    exponent = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    return _round(float(minor) / 10**exponent, 0)


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
