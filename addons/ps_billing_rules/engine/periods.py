"""Billing periods and cycles, on dates (the caller gives dates already in the company's timezone)."""

import calendar
from datetime import date, timedelta

WEEKLY = "weekly"
MONTHLY = "monthly"
QUARTERLY = "quarterly"


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later (clamped to the month's last day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cycle_cutoff(cycle: str, period_end: date) -> date:
    """The last day billed by a run whose period ends on ``period_end``.

    Weekly contracts bill whole weeks (Monday-Sunday): up to the last Sunday on or before
    ``period_end``. Monthly contracts bill whole months: up to the last month end on or before it.
    """
    if cycle == WEEKLY:
        return period_end - timedelta(days=(period_end.weekday() + 1) % 7)
    if cycle == MONTHLY:
        if period_end == month_end(period_end):
            return period_end
        return month_start(period_end) - timedelta(days=1)
    raise ValueError(f"unknown billing cycle {cycle!r}: use weekly or monthly")


def period_bounds(kind: str, day: date) -> tuple[date, date]:
    """Start and end of the retainer/recognition period (monthly or quarterly) containing ``day``."""
    if kind == MONTHLY:
        return month_start(day), month_end(day)
    if kind == QUARTERLY:
        first_month = 3 * ((day.month - 1) // 3) + 1
        start = date(day.year, first_month, 1)
        return start, month_end(add_months(start, 2))
    raise ValueError(f"unknown period kind {kind!r}: use monthly or quarterly")


def periods_between(kind: str, start: date, end: date) -> list[tuple[date, date]]:
    """Every period (start, end) overlapping [start, end], in order."""
    periods = []
    current, _ = period_bounds(kind, start)
    while current <= end:
        bounds = period_bounds(kind, current)
        periods.append(bounds)
        current = bounds[1] + timedelta(days=1)
    return periods


def months_in(kind: str) -> int:
    """Length of a retainer/recognition period in months."""
    if kind == MONTHLY:
        return 1
    if kind == QUARTERLY:
        return 3
    raise ValueError(f"unknown period kind {kind!r}: use monthly or quarterly")
