"""The rate discrepancy of a timesheet line (pure): Odoo's rate card against the PSA's own rate.

Odoo prices imported time with its rate cards; the PSA's billable rate is kept beside it. The
two are compared in the same currency only (a conversion would invent differences), at the
currency's precision, and the difference is also given for the line's hours.
"""

from decimal import ROUND_HALF_UP, Decimal

MATCH = "match"
DIFFERS = "differs"
NO_PSA_RATE = "no_psa_rate"
NO_ODOO_RATE = "no_odoo_rate"
OTHER_CURRENCY = "other_currency"

STATUSES = [
    (MATCH, "Same rate"),
    (DIFFERS, "Different rate"),
    (NO_PSA_RATE, "No PSA rate"),
    (NO_ODOO_RATE, "No Odoo rate"),
    (OTHER_CURRENCY, "Other currency"),
]


def _round(value, places) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def discrepancy(odoo_rate, odoo_currency, psa_rate, psa_currency, hours, *, places=2):
    """(status, rate difference, amount difference); differences are Odoo minus PSA."""
    if psa_rate is None:
        return NO_PSA_RATE, None, None
    if not odoo_rate:
        return NO_ODOO_RATE, None, None
    if psa_currency and odoo_currency and psa_currency != odoo_currency:
        return OTHER_CURRENCY, None, None
    ours, theirs = _round(odoo_rate, places), _round(psa_rate, places)
    rate_difference = ours - theirs
    amount = _round(Decimal(str(hours)) * ours, places) - _round(
        Decimal(str(hours)) * theirs, places
    )
    return (MATCH if not rate_difference else DIFFERS), rate_difference, amount
