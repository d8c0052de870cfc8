from datetime import date

import pytest
from ps_billing_rules.engine import recognition


def test_recognition_targets():
    assert recognition.straight_line(
        3100, date(2026, 1, 1), date(2026, 1, 31), date(2026, 1, 10)
    ) == pytest.approx(1000)
    assert (
        recognition.straight_line(3100, date(2026, 1, 1), date(2026, 1, 31), date(2026, 3, 1))
        == 3100
    )
    assert (
        recognition.straight_line(3100, date(2026, 1, 1), date(2026, 1, 31), date(2025, 12, 31))
        == 0
    )
    assert recognition.percent_complete(10000, 25, 100) == 2500
    assert recognition.percent_complete(10000, 150, 100) == 10000, "never more than the total"
    with pytest.raises(ValueError, match="budgeted hours"):
        recognition.percent_complete(10000, 1, 0)
    reached = [(3000, date(2026, 2, 1)), (7000, None)]
    assert recognition.milestones_reached(reached, date(2026, 2, 1)) == 3000
    assert recognition.as_consumed(2000, 20, 5) == 500


def test_recognition_releases_deferred_revenue_at_the_rate_it_was_deferred_at():
    at_period_end_rate = 1.0 / 0.92  # 1,000 EUR is 1,086.96 USD at the period end

    def convert(amount):
        return amount * at_period_end_rate

    # 1,000 EUR invoiced when worth 1,176.47 USD: fully earned -> 1,176.47 leaves deferred.
    assert recognition.at_deferred_rate(1000.0, 1000.0, 1176.47, convert) == 1176.47
    assert recognition.at_deferred_rate(250.0, 1000.0, 1176.47, convert) == pytest.approx(
        294.1175
    ), "a quarter earned: a quarter of what was deferred"
    assert recognition.at_deferred_rate(400.0, 0.0, 0.0, convert) == pytest.approx(
        400.0 * at_period_end_rate
    ), "earned before being invoiced: at today's rate (trued up once invoiced)"
    assert recognition.at_deferred_rate(1200.0, 1000.0, 1176.47, convert) == pytest.approx(
        1176.47 + 200.0 * at_period_end_rate
    )
