from dataclasses import dataclass

from ps_billing_rules.engine.invoice_lines import carries, exact_line, group_items


@dataclass
class FakeItem:
    group_key: tuple
    quantity: float
    price_unit: float
    discount: float = 0.0
    preset_standard: float | None = None
    amount: float | None = None
    adjusted: bool = False


def test_hours_that_are_not_two_decimal_are_priced_once():
    twenty_minutes = 1 / 3
    items = [FakeItem(("tm", 1, "role", 90.0), twenty_minutes, 90.0) for _ in range(3)]
    (line,) = group_items(items)
    assert line.amount == 90.0, "three 20-minute entries at 90 are 90.00, not 3 x 0.33 x 90"
    assert line.standard == 90.0
    assert line.standards == [30.0, 30.0, 30.0], "each item's share adds up to the line"
    assert line.quantity == 1.0 and line.price_unit == 90.0
    (one,) = group_items([FakeItem(("tm",), 4 / 3, 90.0)])
    assert one.amount == 120.0, "1 h 20 at 90 is 120.00 (never 1.33 x 90 = 119.70)"
    assert carries(one.quantity, one.price_unit, 0.0, 120.0)


def test_group_standard_is_rounded_once_and_split():
    items = [FakeItem(("tm",), 0.1, 33.33) for _ in range(3)]
    (line,) = group_items(items)
    assert line.amount == 10.0, "0.3 h x 33.33 = 9.999 -> 10.00 (3 x 3.33 would be 9.99)"
    assert round(sum(line.standards), 2) == 10.0
    assert line.amounts == line.standards, "nobody adjusted them: they bill their standard"


def test_adjusted_items_bill_the_reviewed_amount_exactly():
    item = FakeItem(("adjusted", "timesheet", 7), 7.5, 200.0, amount=1000.0, adjusted=True)
    (line,) = group_items([item])
    assert line.standard == 1500.0 and line.amount == 1000.0
    assert carries(line.quantity, line.price_unit, 0.0, 1000.0), (
        "7.5 h written down to 1,000.00 carries 1,000.00 (not 7.5 x 133.33 = 999.98)"
    )
    assert abs(line.quantity - 7.5) < 0.001, "the quantity only moves in its far decimals"


def test_shares_of_a_fee_carry_their_preset_amount():
    share = FakeItem(("installment", 1), 3999.60 / 12000.0, 12000.0, preset_standard=3999.60)
    (line,) = group_items([share])
    assert line.amount == 3999.60, "33.33 % of 12,000 is 3,999.60 (not 0.33 x 12,000 = 3,960)"
    discounted = FakeItem(("installment", 2), 450.0 / 900.0, 1000.0, 10.0, preset_standard=450.0)
    (line,) = group_items([discounted])
    assert (line.amount, line.discount) == (450.0, 10.0), "the discount stays visible"
    assert carries(line.quantity, line.price_unit, line.discount, 450.0)


def test_groups_keep_their_order_and_mix_prices_with_an_average_price():
    items = [
        FakeItem(("b",), 1.0, 100.0),
        FakeItem(("a",), 2.0, 50.0),
        FakeItem(("b",), 1.0, 80.0),
    ]
    lines = group_items(items)
    assert [line.key for line in lines] == [("b",), ("a",)]
    assert lines[0].amount == 180.0 and lines[0].price_unit == 90.0


def test_exact_line_keeps_a_price_that_carries_the_amount():
    assert exact_line(120.0, 4 / 3, 90.0) == (4 / 3, 90.0)
    quantity, price = exact_line(1000.0, 3.0, None)
    assert price == 333.33 and carries(quantity, price, 0.0, 1000.0)
    assert exact_line(0.0, 2.0, 50.0) == (2.0, 50.0)
    assert exact_line(250.0, 0.0, None) == (1.0, 250.0), "no quantity: one unit of the amount"
    quantity, price = exact_line(-500.0, -0.5, 1000.0)
    assert (quantity, price) == (-0.5, 1000.0), "a deduction keeps its price"
