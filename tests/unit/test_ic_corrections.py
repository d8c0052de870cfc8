"""ps_intercompany corrections and recharge lines: adjustments bring an item to its current
value; lines group per project/employee/price; negative runs are credit notes."""

from decimal import Decimal

from ps_intercompany.engine.corrections import Entry, correction, position
from ps_intercompany.engine.grouping import (
    ADJUSTMENT,
    CHARGE,
    LineKey,
    document_sign,
    group_lines,
)
from ps_intercompany.engine.pricing import HOURLY, LUMP, Price

D = Decimal


def hourly(hours, price, cost=0):
    return Price(HOURLY, D(str(hours)), D(str(price)), D(str(cost)), D(0), "test")


def test_edited_hours_become_a_delta_at_the_same_price():
    entries = [Entry(HOURLY, D(8), D("88.00"), D(640))]
    delta = correction(entries, hourly(6, "88.00", 480))
    assert delta == [Entry(HOURLY, D("-2.000000"), D("88.00"), D(-160))]


def test_rerated_item_reverses_the_old_price_and_charges_the_new():
    entries = [Entry(HOURLY, D(8), D("88.00"), D(640))]
    delta = correction(entries, hourly(8, "90.00", 656))
    assert {(e.quantity, e.price_unit) for e in delta} == {(D(-8), D("88.00")), (D(8), D("90.00"))}
    assert sum(e.amount for e in delta) == D(16), "8 h x (90 - 88)"
    assert sum(e.cost_amount for e in delta) == D(16)


def test_deleted_item_is_reversed_in_full_and_unchanged_item_needs_nothing():
    entries = [Entry(HOURLY, D(8), D("88.00")), Entry(HOURLY, D(-2), D("88.00"))]
    assert position(entries) == {(HOURLY, D("88.00"), None): D(6)}
    assert correction(entries, None) == [Entry(HOURLY, D("-6.000000"), D("88.00"))]
    assert correction(entries, hourly(6, "88.00")) == [], "re-running recharges nothing"


def test_lump_items_correct_by_amount():
    entries = [Entry(LUMP, D(1), D("694.45"))]
    new = Price(LUMP, D(1), D("650.00"), D(0), D(0), "share")
    assert correction(entries, new) == [Entry(LUMP, D(1), D("-44.45"))]
    assert correction(entries, None) == [Entry(LUMP, D(1), D("-694.45"))]


def test_lines_group_per_project_party_and_price_rounded_once():
    key = LineKey(CHARGE, "time", HOURLY, 5, 7, D("65.97"))
    rows = [(key, Entry(HOURLY, D("0.25"), D("65.97")), 0.25, i) for i in range(50)]
    lines = group_lines(rows, 2)
    assert lines[key].quantity == D("12.50")
    assert lines[key].amount == D("824.63"), "12.5 h x 65.97 rounded once, not per item"
    assert lines[key].rows == list(range(50))


def test_only_downward_corrections_make_a_credit_note():
    key = LineKey(ADJUSTMENT, "time", HOURLY, 5, 7, D("88.00"))
    lines = group_lines([(key, Entry(HOURLY, D(-2), D("88.00")), -2, 1)], 2)
    assert lines[key].amount == D("-176.00")
    assert document_sign(lines) == -1
    assert document_sign({}) == 0
    netted = group_lines(
        [
            (key, Entry(HOURLY, D(-2), D("88.00")), -2, 1),
            (key, Entry(HOURLY, D(2), D("88.00")), 2, 2),
        ]
    )
    assert netted == {}, "corrections that cancel out make no line"


def test_work_moved_to_another_project_is_reversed_there_and_charged_here():
    old, new = (5, 7), (6, 7)
    entries = [Entry(HOURLY, D(3), D("95.04"), D(240), tag=old)]
    delta = correction(entries, hourly(3, "95.04", 240), tag=new)
    assert {(e.quantity, e.tag) for e in delta} == {(D(-3), old), (D(3), new)}
    assert sum(e.amount for e in delta) == 0, "same value, other project"
    assert correction(entries, hourly(3, "95.04", 240), tag=old) == []
