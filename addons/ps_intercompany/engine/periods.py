"""Recharge periods: months or quarters, closed at their last day."""

from datetime import date, timedelta

CYCLES = [("monthly", "Monthly"), ("quarterly", "Quarterly")]


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def period_of(day: date, cycle: str = "monthly") -> tuple[date, date]:
    """The (first day, last day) of the cycle period containing ``day``."""
    if cycle == "quarterly":
        first_month = 3 * ((day.month - 1) // 3) + 1
        start = date(day.year, first_month, 1)
        end = month_end(date(day.year, first_month + 2, 1))
        return start, end
    return month_start(day), month_end(day)


def last_closed_period(today: date, cycle: str = "monthly") -> tuple[date, date]:
    """The latest period of this cycle that ended before ``today``."""
    start, _end = period_of(today, cycle)
    return period_of(start - timedelta(days=1), cycle)


def months_between(date_from: date, date_to: date) -> list[date]:
    """First days of the months from ``date_from``'s month to ``date_to``'s month."""
    months, current = [], month_start(date_from)
    while current <= date_to:
        months.append(current)
        current = month_end(current) + timedelta(days=1)
    return months
