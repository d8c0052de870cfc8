import pytest
from ps_billing_rules.engine.caps import allocate_under_cap


def test_cap_bills_in_order_until_the_next_item_does_not_fit():
    items = [("a", 400.0), ("b", 500.0), ("c", 50.0)]
    decision = allocate_under_cap(items, cap=1000.0, already_billed=200.0)
    assert decision.billable == ["a"], "b would exceed the cap"
    assert decision.over_cap == ["b", "c"], "later items wait too: no cherry-picking"
    assert decision.remaining_after == pytest.approx(400.0)


def test_cap_exactly_reached_and_approved_excess():
    items = [("a", 600.0), ("b", 200.0)]
    assert allocate_under_cap(items, 800.0, 0.0).billable == ["a", "b"], "reaching the cap is fine"
    assert allocate_under_cap(items, 700.0, 0.0).over_cap == ["b"]
    assert allocate_under_cap(items, 700.0, 0.0, approved_excess=100.0).billable == ["a", "b"]


def test_no_cap_bills_everything():
    assert allocate_under_cap([("a", 1e9)], None, 0.0).billable == ["a"]
