"""Revenue recognition targets: how much of a contract line's revenue is earned at a date.

Each function returns the cumulative amount that should be recognised by ``as_of``; the caller
posts the difference with what it already recognised (idempotent per period, and an amended
contract simply moves the target).
"""

from datetime import date


def straight_line(total, start: date, end: date, as_of: date):
    """Evenly over the service period, by days (the end day included)."""
    if as_of < start:
        return 0.0
    if as_of >= end:
        return total
    days = (end - start).days + 1
    elapsed = (as_of - start).days + 1
    return total * elapsed / days


def percent_complete(total, hours_to_date, budget_hours):
    """Percentage of completion: hours worked to date over budgeted hours (capped at 100 %)."""
    if not budget_hours or budget_hours <= 0:
        raise ValueError("percent-complete recognition needs budgeted hours on the contract line")
    return total * min(hours_to_date / budget_hours, 1.0)


def milestones_reached(milestones, as_of: date):
    """Sum of the amounts of milestones reached on or before ``as_of``
    (``milestones``: iterable of (amount, reached_date or None))."""
    return sum(amount for amount, reached in milestones if reached and reached <= as_of)


def as_consumed(fee, included_units, consumed_units):
    """A retainer fee earned as its included units are used (capped at the fee)."""
    if not included_units:
        return fee
    return fee * min(consumed_units / included_units, 1.0)


def at_deferred_rate(earned, deferred, deferred_company, convert):
    """Company-currency revenue for ``earned`` (contract currency) of a line whose invoices put
    ``deferred`` (contract currency) into deferred revenue as ``deferred_company`` (company
    currency, at the invoices' rates).

    What was invoiced is released at the rate it was deferred at, so that once everything is
    earned deferred revenue ends at exactly zero whatever the rates did; what is earned beyond
    what was invoiced is converted by ``convert`` (today's rate), and trued up by later closes
    once it is invoiced.
    """
    if deferred <= 0:
        return convert(earned)
    if earned <= deferred:
        return deferred_company * earned / deferred
    return deferred_company + convert(earned - deferred)
