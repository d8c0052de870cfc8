"""ps_intercompany transfer prices: each method to the cent, mark-ups per role and 0 %."""

from datetime import date
from decimal import Decimal

import pytest
from ps_intercompany.engine import reasons
from ps_intercompany.engine.money import digits_of, round_to
from ps_intercompany.engine.pricing import (
    BILLED_SHARE,
    COST_PLUS,
    EXPENSE,
    HOURLY,
    LUMP,
    RATE_CARD,
    TIME,
    Item,
    Price,
    Skip,
    Terms,
    TransferRate,
    markup_for,
    price_item,
    resolve_transfer_rate,
)

EUR, USD = 1, 2
DAY = date(2026, 3, 10)
SENIOR, ANALYST = 31, 32


def item(**values):
    base = {
        "model": "account.analytic.line",
        "id": 1,
        "kind": TIME,
        "day": DAY,
        "employee_id": 7,
        "role_id": SENIOR,
        "project_id": 5,
        "hours": 12.5,
        "cost_rate": 61.37,
    }
    base.update(values)
    return Item(**base)


def terms(**values):
    base = {"method": COST_PLUS, "provider_currency": EUR, "markup": 10.0, "factors": {EUR: 1.0}}
    base.update(values)
    return Terms(**base)


def test_cost_plus_agreement_markup_to_the_cent():
    price = price_item(item(cost_rate=80.0, hours=7.5), terms(markup=10.0))
    assert price.price_unit == Decimal("88.00"), "80.00 x 1.10"
    assert round_to(price.amount, 2) == Decimal("660.00")
    assert price.basis == HOURLY and price.quantity == Decimal("7.5")
    assert price.cost_amount == Decimal("600.0")


def test_cost_plus_role_markup_wins_and_rounds_half_up():
    price = price_item(item(), terms(markup=10.0, role_markups={SENIOR: 7.5}))
    # 61.37 x 1.075 = 65.97275 -> 65.97 per hour; 12.5 h x 65.97 = 824.625 -> 824.63
    assert price.price_unit == Decimal("65.97")
    assert round_to(price.amount, 2) == Decimal("824.63")
    assert price.markup == Decimal("7.5") and "role" in price.source


def test_cost_plus_zero_markup_is_at_cost():
    price = price_item(item(cost_rate=61.37), terms(markup=0.0))
    assert price.price_unit == Decimal("61.37"), "0 % is a valid mark-up: at cost"
    role_zero = price_item(item(cost_rate=61.37), terms(markup=12.0, role_markups={SENIOR: 0.0}))
    assert role_zero.price_unit == Decimal("61.37"), "a role at 0 % beats the agreement's 12 %"


def test_cost_plus_converts_to_the_charge_currency():
    # Cost in EUR, charge in USD at 1.0832 USD per EUR: 80 x 1.1 x 1.0832 = 95.3216 -> 95.32
    price = price_item(item(cost_rate=80.0, hours=10), terms(factors={EUR: 1.0832}))
    assert price.price_unit == Decimal("95.32")
    assert round_to(price.amount, 2) == Decimal("953.20")
    assert price.cost_amount == Decimal("800.0"), "the cost base stays in the provider currency"


def test_cost_plus_without_cost_rate_is_skipped():
    result = price_item(item(cost_rate=0.0), terms())
    assert isinstance(result, Skip) and result.reason == reasons.SKIP_NO_COST_RATE


def test_unapproved_and_empty_items_are_skipped():
    assert price_item(item(approved=False), terms()).reason == reasons.SKIP_NOT_APPROVED
    assert price_item(item(hours=0.0), terms()).reason == reasons.SKIP_NO_HOURS


def test_markup_for_prefers_role():
    assert markup_for(SENIOR, 5, {SENIOR: 8})[0] == Decimal(8)
    assert markup_for(ANALYST, 5, {SENIOR: 8})[0] == Decimal(5)
    assert markup_for(None, 0, {})[0] == Decimal(0)


def rates():
    return (
        TransferRate(1, 100.0, EUR),
        TransferRate(2, 120.0, EUR, role_id=SENIOR),
        TransferRate(3, 125.0, EUR, role_id=SENIOR, date_from=date(2026, 3, 15)),
        TransferRate(4, 150.0, EUR, employee_id=7, date_to=date(2026, 2, 28)),
    )


def test_rate_card_employee_role_default_and_dates():
    lines = rates()
    assert resolve_transfer_rate(lines, date(2026, 2, 1), 7, SENIOR).rate == 150.0
    assert resolve_transfer_rate(lines, date(2026, 3, 1), 7, SENIOR).rate == 120.0
    assert resolve_transfer_rate(lines, date(2026, 3, 20), 7, SENIOR).rate == 125.0, (
        "the role line that started latest supersedes the open-ended one"
    )
    assert resolve_transfer_rate(lines, date(2026, 3, 20), 8, ANALYST).rate == 100.0
    assert resolve_transfer_rate(lines[1:3], date(2026, 3, 1), 8, ANALYST) is None


def test_rate_card_price_to_the_cent_in_another_currency():
    price = price_item(
        item(hours=3.25),
        terms(method=RATE_CARD, rate_lines=rates(), factors={EUR: 0.8571}, provider_currency=USD),
    )
    # 120 EUR x 0.8571 = 102.852 -> 102.85; 3.25 h -> 334.2625 -> 334.26
    assert price.price_unit == Decimal("102.85")
    assert round_to(price.amount, 2) == Decimal("334.26")
    missing = price_item(item(role_id=ANALYST), terms(method=RATE_CARD, rate_lines=rates()[1:]))
    assert missing.reason == reasons.SKIP_NO_TRANSFER_RATE


def test_billed_share_is_a_lump_sum_of_what_was_billed():
    share = terms(method=BILLED_SHARE, share=62.5, factors={EUR: 1.0, USD: 0.9})
    price = price_item(item(billed_value=1234.57, billed_currency=USD), share)
    # 1234.57 x 62.5 % = 771.60625 USD x 0.9 = 694.445625 -> 694.45 EUR
    assert price.basis == LUMP and price.quantity == 1
    assert price.price_unit == Decimal("694.45")
    assert price_item(item(), share).reason == reasons.SKIP_NOT_BILLED


def test_expenses_pass_through_at_cost_without_markup():
    expense = item(kind=EXPENSE, model="hr.expense", hours=0, expense_amount=245.5, cost_rate=0)
    price = price_item(expense, terms(markup=25.0, factors={EUR: 1.1}))
    assert isinstance(price, Price) and price.markup == 0
    assert price.price_unit == Decimal("270.05"), "245.50 x 1.1, no mark-up"


def test_missing_factor_is_an_error_not_a_silent_rate():
    with pytest.raises(KeyError):
        price_item(item(), terms(factors={}))


def test_digits_of_currency_rounding():
    assert digits_of(0.01) == 2 and digits_of(1.0) == 0 and digits_of(0.001) == 3
