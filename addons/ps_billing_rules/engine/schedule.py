"""Schedules of fixed fees and periodic fees (retainers), for the billing rules and for the
connectors that turn a CRM line into contract terms (see readme/CONFIGURE.md, "For connector
authors"). Amounts always add up to the total exactly: the last part takes the remainder."""

import re
from dataclasses import dataclass
from datetime import date

from .allocation import round_amount, split_evenly
from .periods import add_months

MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3}
FREQUENCY_ALIASES = {
    "month": "monthly",
    "monthly": "monthly",
    "quarter": "quarterly",
    "quarterly": "quarterly",
}
_ISO_PERIOD = re.compile(r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?$")


def installment_schedule(total, count, first_date: date, interval_months=1, digits=2):
    """``count`` installments of ``total``: [(date, percentage, amount)], the first on
    ``first_date`` and then every ``interval_months`` months.

    Each amount is the total divided by the count, rounded; the last takes the remainder, so the
    amounts add up to the total exactly. Percentages are the exact shares of the total (the last
    is what is left of 100), so an installment priced from its percentage gives its amount.
    """
    if count < 1:
        raise ValueError(f"an installment schedule needs at least one installment, not {count}")
    if interval_months < 0:
        raise ValueError("installments cannot go back in time: the interval must be positive")
    amounts = split_evenly(total, count, digits)
    schedule = []
    used = 0.0
    for index, amount in enumerate(amounts):
        if index == count - 1:
            percentage = 100.0 - used
        else:
            percentage = 100.0 * amount / total if total else 100.0 / count
            used += percentage
        schedule.append((add_months(first_date, index * interval_months), percentage, amount))
    return schedule


def term_months(term):
    """A term in months: an integer, or an ISO-8601 period such as ``P12M``, ``P1Y``, ``P1Y6M``
    (HubSpot's ``hs_recurring_billing_period``). None or empty: no term."""
    if term in (None, "", 0):
        return None
    if isinstance(term, int | float):
        if term < 0 or int(term) != term:
            raise ValueError(f"a term is a whole number of months, not {term}")
        return int(term)
    match = _ISO_PERIOD.match(str(term).strip().upper())
    if not match or not (match["years"] or match["months"]):
        raise ValueError(f"unknown term {term!r}: give months (12) or an ISO period (P12M, P1Y)")
    return int(match["years"] or 0) * 12 + int(match["months"] or 0)


def normalize_frequency(frequency):
    """``monthly`` or ``quarterly`` (the retainer periods the billing rules know); None: monthly."""
    if not frequency:
        return "monthly"
    key = str(frequency).strip().lower()
    if key not in FREQUENCY_ALIASES:
        raise ValueError(
            f"billing frequency {frequency!r} is not supported for retainers and periodic fees: "
            "use monthly or quarterly"
        )
    return FREQUENCY_ALIASES[key]


@dataclass(frozen=True)
class PeriodicTerms:
    """What a contract line of a periodic fee says, explicitly.

    ``quantity`` x ``price_unit`` less ``discount`` % is the line's total (= ``total``, what the
    contract sold); ``periods`` fees are billed, ``fee_per_period`` each and ``last_fee`` for the
    last (the remainder); ``period`` is ``monthly`` or ``quarterly``.
    """

    period: str
    periods: int
    fee_per_period: float
    last_fee: float
    total: float
    quantity: float
    price_unit: float
    discount: float


def periodic_terms(
    quantity, unit_price, amount=None, discount=0.0, frequency=None, term=None, digits=2
):
    """The periodic terms of a retainer or periodic-fee line from what a CRM line gives.

    ``amount`` is the line's total as the contract sold it (Salesforce ``TotalPrice``; for a
    HubSpot recurring line item its total contract value ``hs_tcv``); without it, the total is
    quantity x unit price less the discount. ``frequency``: monthly (default) or quarterly;
    ``term``: the length in months (or an ISO period such as ``P12M``).

    - with a term: the term divided by the period length gives the number of periods;
    - without a term: a whole quantity is the number of periods ("12 x 2,000" is twelve monthly
      fees of 2,000), any other quantity one period ("1 x 2,000" is one fee of 2,000).

    The contract total always equals ``amount``: the fee per period is the total divided by the
    periods (the last fee takes the remainder), and the line's quantity and price are kept when
    they give the total, otherwise restated (quantity x periods, or 1 x total).
    """
    period = normalize_frequency(frequency)
    quantity = float(quantity or 0.0)
    unit_price = float(unit_price or 0.0)
    discount = float(discount or 0.0)
    factor = 1.0 - discount / 100.0
    total = round_amount(
        float(amount) if amount is not None else quantity * unit_price * factor, digits
    )
    months = term_months(term)
    if months is not None:
        length = MONTHS_PER_PERIOD[period]
        if months < length or months % length:
            raise ValueError(
                f"a term of {months} month(s) is not a whole number of {period} periods"
            )
        periods = months // length
    elif quantity >= 1 and quantity == int(quantity):
        periods = int(quantity)
    else:
        periods = 1
    fees = split_evenly(total, periods, digits)
    line_quantity, line_price, line_discount = quantity, unit_price, discount
    if round_amount(quantity * unit_price * factor, digits) != total:
        if periods > 1 and round_amount(quantity * periods * unit_price * factor, digits) == total:
            line_quantity = quantity * periods
        else:
            line_quantity, line_price, line_discount = 1.0, total, 0.0
    return PeriodicTerms(
        period=period,
        periods=periods,
        fee_per_period=fees[0],
        last_fee=fees[-1],
        total=total,
        quantity=line_quantity,
        price_unit=line_price,
        discount=line_discount,
    )
