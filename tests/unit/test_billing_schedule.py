from datetime import date

import pytest
from ps_billing_rules.engine.schedule import (
    installment_schedule,
    normalize_frequency,
    periodic_terms,
    term_months,
)


def test_installments_add_up_to_the_fee_the_last_taking_the_remainder():
    schedule = installment_schedule(10000.0, 3, date(2026, 1, 31), 1)
    assert [amount for _day, _pct, amount in schedule] == [3333.33, 3333.33, 3333.34]
    assert [day for day, _pct, _amount in schedule] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ], "monthly from the first date, clamped to month ends"
    percentages = [pct for _day, pct, _amount in schedule]
    assert abs(sum(percentages) - 100.0) < 1e-9
    assert round(10000.0 * percentages[0] / 100.0, 2) == 3333.33, "a percentage gives its amount"


def test_installments_every_quarter_and_a_single_one():
    schedule = installment_schedule(12000.0, 4, date(2026, 1, 15), 3)
    assert [day for day, _p, _a in schedule][-1] == date(2026, 10, 15)
    assert installment_schedule(500.0, 1, date(2026, 5, 1)) == [(date(2026, 5, 1), 100.0, 500.0)]
    with pytest.raises(ValueError, match="at least one installment"):
        installment_schedule(500.0, 0, date(2026, 5, 1))


def test_periodic_terms_one_times_a_fee_is_one_period():
    terms = periodic_terms(1, 2000.0)
    assert (terms.periods, terms.fee_per_period, terms.total) == (1, 2000.0, 2000.0), (
        "1 x 2,000 sold one fee of 2,000: never twelve"
    )


def test_periodic_terms_a_whole_quantity_is_the_number_of_periods():
    terms = periodic_terms(12, 3200.0)
    assert (terms.period, terms.periods, terms.fee_per_period) == ("monthly", 12, 3200.0)
    assert (terms.quantity, terms.price_unit, terms.total) == (12.0, 3200.0, 38400.0)


def test_periodic_terms_from_a_term_keep_the_crm_total():
    terms = periodic_terms(1, 24000.0, amount=24000.0, frequency="monthly", term="P12M")
    assert (terms.periods, terms.fee_per_period, terms.total) == (12, 2000.0, 24000.0)
    assert (terms.quantity, terms.price_unit) == (1.0, 24000.0), "the line as the CRM sold it"
    uneven = periodic_terms(1, 10000.0, frequency="quarterly", term=9)
    assert (uneven.periods, uneven.fee_per_period, uneven.last_fee) == (3, 3333.33, 3333.34)


def test_periodic_terms_restate_the_line_when_amount_is_the_total_contract_value():
    # A HubSpot recurring line item: 1 x 2,000 a month for 12 months, total contract value 24,000.
    terms = periodic_terms(1, 2000.0, amount=24000.0, frequency="MONTHLY", term="P1Y")
    assert (terms.quantity, terms.price_unit, terms.total) == (12.0, 2000.0, 24000.0)
    odd = periodic_terms(3, 999.0, amount=5000.0, discount=10.0, term=2)
    assert (odd.quantity, odd.price_unit, odd.discount, odd.total) == (1.0, 5000.0, 0.0, 5000.0)
    assert (odd.periods, odd.fee_per_period) == (2, 2500.0)


def test_periodic_terms_with_a_discount_and_a_fractional_quantity():
    terms = periodic_terms(1.5, 1000.0, discount=10.0)
    assert (terms.periods, terms.total, terms.fee_per_period) == (1, 1350.0, 1350.0)


def test_terms_and_frequencies_say_what_is_allowed():
    assert term_months("P1Y6M") == 18
    assert term_months(None) is None
    assert normalize_frequency(None) == "monthly"
    with pytest.raises(ValueError, match="monthly or quarterly"):
        normalize_frequency("annually")
    with pytest.raises(ValueError, match="ISO period"):
        term_months("12 months")
    with pytest.raises(ValueError, match="whole number of quarterly periods"):
        periodic_terms(1, 100.0, frequency="quarterly", term=4)
