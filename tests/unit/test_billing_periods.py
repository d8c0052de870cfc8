from datetime import date

import pytest
from ps_billing_rules.engine import periods


def test_monthly_cutoff_is_the_last_month_end():
    assert periods.cycle_cutoff("monthly", date(2026, 11, 30)) == date(2026, 11, 30)
    assert periods.cycle_cutoff("monthly", date(2026, 11, 23)) == date(2026, 10, 31), (
        "a run in the middle of a month bills the previous whole month"
    )
    assert periods.cycle_cutoff("monthly", date(2024, 3, 1)) == date(2024, 2, 29)


def test_weekly_cutoff_is_the_last_sunday():
    assert periods.cycle_cutoff("weekly", date(2026, 11, 22)) == date(2026, 11, 22)  # a Sunday
    assert periods.cycle_cutoff("weekly", date(2026, 11, 25)) == date(2026, 11, 22)


def test_unknown_cycle_says_what_is_allowed():
    with pytest.raises(ValueError, match="weekly or monthly"):
        periods.cycle_cutoff("daily", date(2026, 1, 1))


def test_period_bounds_and_listing():
    assert periods.period_bounds("monthly", date(2026, 2, 10)) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
    )
    assert periods.period_bounds("quarterly", date(2026, 5, 5)) == (
        date(2026, 4, 1),
        date(2026, 6, 30),
    )
    listed = periods.periods_between("monthly", date(2026, 1, 15), date(2026, 3, 2))
    assert listed == [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 31)),
    ]


def test_add_months_clamps_to_month_end():
    assert periods.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert periods.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
