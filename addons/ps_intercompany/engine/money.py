"""Exact money arithmetic: amounts are computed in Decimal from the shortest repr of the floats
the ORM gives, and rounded half-up like Odoo's ``float_round`` (824.625 -> 824.63, where the
binary float 12.5 * 65.97 would round down)."""

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def dec(value) -> Decimal:
    """A Decimal from an int, a float (its shortest repr), a str or a Decimal."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if value is None:
        return ZERO
    return Decimal(repr(float(value)))


def round_to(value, digits: int) -> Decimal:
    """``value`` rounded half-up to ``digits`` decimals."""
    return dec(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def digits_of(rounding: float) -> int:
    """Decimal places of a currency rounding (0.01 -> 2, 1.0 -> 0, 0.001 -> 3)."""
    exponent = dec(rounding).normalize().as_tuple().exponent
    return max(0, -exponent)


def is_zero(value, digits: int) -> bool:
    return round_to(value, digits) == ZERO
