import pytest
from ps_billing_rules.engine.allocation import (
    round_amount,
    split_evenly,
    split_proportionally,
    to_units,
)


def test_round_amount_rounds_half_up_like_odoo():
    assert round_amount(2.675) == 2.68, "2.675 is 2.67499999... in binary: Odoo rounds it up"
    assert round_amount(1.005) == 1.01
    assert round_amount(-1.005) == -1.01
    assert round_amount(119.99999999999) == 120.0
    assert round_amount(0.0) == 0.0
    assert round_amount(12.3456, 3) == 12.346
    assert to_units(12.345) == 1235


def test_split_adds_up_to_the_total_exactly():
    parts = split_proportionally(100.0, [1, 1, 1])
    assert parts == [33.34, 33.33, 33.33], "the cent left goes to the first largest remainder"
    assert round(sum(parts), 2) == 100.0
    parts = split_proportionally(1500.0 - 300.0, [1000.0, 400.0, 100.0])
    assert parts == [800.0, 320.0, 80.0], "proportional to the weights"


def test_split_gives_the_units_left_to_the_largest_remainders():
    parts = split_proportionally(10.0, [1, 2, 3, 4, 5, 6])
    assert round(sum(parts), 2) == 10.0
    assert parts == [0.48, 0.95, 1.43, 1.9, 2.38, 2.86]


def test_split_with_zero_weights_or_a_negative_total():
    assert split_proportionally(1.0, [0, 0, 0]) == [0.34, 0.33, 0.33], "no weight: evenly"
    assert split_proportionally(-90.0, [1, 2]) == [-30.0, -60.0]
    assert split_proportionally(0.0, [5, 5]) == [0.0, 0.0]
    assert split_proportionally(0.0, []) == []
    with pytest.raises(ValueError, match="no item"):
        split_proportionally(5.0, [])


def test_split_evenly_last_part_takes_the_remainder():
    assert split_evenly(12000.0, 3) == [4000.0, 4000.0, 4000.0]
    assert split_evenly(10000.0, 3) == [3333.33, 3333.33, 3333.34]
    assert split_evenly(100.0, 7)[-1] == 14.26
    assert round(sum(split_evenly(100.0, 7)), 2) == 100.0
    with pytest.raises(ValueError, match="at least one"):
        split_evenly(100.0, 0)
