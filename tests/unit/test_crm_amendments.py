"""What an amendment of a converted deal may do to its contract (engine/amendments.py)."""

import copy

import pytest

from odoo.addons.connector_crm.engine import amendments
from odoo.addons.connector_crm.engine.amendments import APPROVAL, DIRECT, REFUSED, Amendment, Change

from tests.unit.crm_samples import changed, line, snapshot, with_line

# Amendments ----------------------------------------------------------------------------------


def outcomes(amendment):
    return {(change.line_id, change.field): change.outcome for change in amendment.changes}


def test_no_change_gives_no_outcome_and_an_empty_summary():
    amendment = amendments.compare(snapshot(), snapshot())
    assert amendment.changes == []
    assert amendment.outcome is None
    assert amendment.review is None
    assert amendment.summary() == ""


def test_empty_values_and_equal_numbers_are_not_changes():
    old = snapshot(description=None, amount=63600.0)
    new = snapshot(description="", amount=63600.0000001)
    assert amendments.compare(old, new).changes == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Northwind - ERP (phase 1)"),
        ("close_date", "2026-03-20"),
        ("description", "Signed after the workshop"),
        ("po_number", "PO-NW-2026-002"),
        ("project_template", "Support"),
    ],
)
def test_dates_texts_po_and_template_are_applied_directly(field, value):
    amendment = amendments.compare(snapshot(), changed(**{field: value}))
    assert [(c.field, c.outcome, c.new) for c in amendment.changes] == [(field, DIRECT, value)]
    assert amendment.outcome == DIRECT


def test_contact_changes_are_direct():
    old = snapshot()
    replaced = changed(contacts=[{"id": "003X", "first_name": "Xavier", "email": "x@nw.example"}])
    amendment = amendments.compare(old, replaced)
    assert [(c.field, c.outcome) for c in amendment.changes] == [("contacts", DIRECT)]
    assert amendment.changes[0].old == ["003N", "003A"]
    assert amendment.changes[0].new == ["003X"]

    new_email = copy.deepcopy(old)
    new_email["contacts"][1]["email"] = "andrew.fuller@nw.example"
    assert outcomes(amendments.compare(old, new_email)) == {(None, "contacts"): DIRECT}


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", 70000.0), ("billing_model", "Time and Materials"), ("cap_amount", 90000.0)],
)
def test_value_changes_need_approval(field, value):
    amendment = amendments.compare(snapshot(), changed(**{field: value}), billed=10000.0)
    assert outcomes(amendment) == {(None, field): APPROVAL}
    assert amendment.outcome == APPROVAL


@pytest.mark.parametrize(
    ("field", "value"),
    [("legal_entity", "Acme Consulting EU"), ("currency", "EUR"), ("tax_treatment", "Exempt")],
)
def test_legal_entity_currency_and_tax_changes_are_refused(field, value):
    amendment = amendments.compare(snapshot(), changed(**{field: value}))
    assert outcomes(amendment) == {(None, field): REFUSED}
    assert amendment.changes[0].reason == "not changed automatically on a converted deal"
    assert amendment.outcome == REFUSED


def test_cap_below_what_is_already_billed_is_refused():
    amendment = amendments.compare(snapshot(), changed(cap_amount=30000.0), billed=40000.0)
    assert outcomes(amendment) == {(None, "cap_amount"): REFUSED}
    assert amendment.changes[0].reason == "below the 40000.00 already invoiced"


def test_cap_down_to_exactly_what_is_billed_needs_approval_only():
    amendment = amendments.compare(snapshot(), changed(cap_amount=40000.0), billed=40000.0)
    assert outcomes(amendment) == {(None, "cap_amount"): APPROVAL}


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", 4.0), ("price_unit", 1100.0), ("discount", 10.0), ("billing_model", "T&M")],
)
def test_line_value_changes_on_a_line_not_invoiced_need_approval(field, value):
    amendment = amendments.compare(snapshot(), with_line(snapshot(), "00kB", **{field: value}))
    assert outcomes(amendment) == {("00kB", field): APPROVAL}


def test_quantity_below_what_is_invoiced_is_refused():
    new = with_line(snapshot(), "00kB", quantity=1.0)
    amendment = amendments.compare(snapshot(), new, invoiced={"00kB": 2.0})
    assert outcomes(amendment) == {("00kB", "quantity"): REFUSED}
    assert amendment.changes[0].reason == "below the 2 already invoiced"


def test_quantity_down_to_what_is_invoiced_needs_approval_only():
    new = with_line(snapshot(), "00kB", quantity=2.0)
    amendment = amendments.compare(snapshot(), new, invoiced={"00kB": 2.0})
    assert outcomes(amendment) == {("00kB", "quantity"): APPROVAL}


@pytest.mark.parametrize(
    ("field", "value"),
    [("billing_model", "Time and Materials"), ("product_ref", "01tOTHER"), ("product_code", "X")],
)
def test_billing_model_or_product_change_on_an_invoiced_line_is_refused(field, value):
    new = with_line(snapshot(), "00kA", **{field: value})
    amendment = amendments.compare(snapshot(), new, invoiced={"00kA": 1.0})
    assert outcomes(amendment) == {("00kA", field): REFUSED}
    assert amendment.changes[0].reason == "the line is already invoiced"


def test_price_change_on_an_invoiced_line_needs_approval():
    new = with_line(snapshot(), "00kA", price_unit=65000.0)
    amendment = amendments.compare(snapshot(), new, invoiced={"00kA": 1.0})
    assert outcomes(amendment) == {("00kA", "price_unit"): APPROVAL}


def test_added_line_needs_approval():
    new = snapshot()
    new["lines"] = [*new["lines"], line("00kC", "SUP-RET", 12, 2500, name="Support retainer")]
    amendment = amendments.compare(snapshot(), new)
    assert [(c.field, c.label, c.old, c.new, c.outcome, c.line_id) for c in amendment.changes] == [
        ("line", "Line added", None, "Support retainer x 12 at 2500", APPROVAL, "00kC")
    ]


def test_removed_line_not_invoiced_needs_approval():
    new = snapshot()
    new["lines"] = new["lines"][:1]
    amendment = amendments.compare(snapshot(), new, invoiced={"00kA": 1.0})
    assert [(c.label, c.old, c.outcome, c.line_id) for c in amendment.changes] == [
        ("Line removed", "TRAIN x 3 at 1200", APPROVAL, "00kB")
    ]


def test_removed_line_already_invoiced_is_refused():
    new = snapshot()
    new["lines"] = new["lines"][:1]
    amendment = amendments.compare(snapshot(), new, invoiced={"00kB": 1.5})
    assert [(c.label, c.outcome, c.reason) for c in amendment.changes] == [
        ("Line removed", REFUSED, "1.5 already invoiced")
    ]
    assert amendment.outcome == REFUSED


def test_deal_marked_lost_is_flagged_for_review():
    new = changed(is_won=False, is_closed=True, stage="Closed Lost")
    amendment = amendments.compare(snapshot(), new)
    assert amendment.review == (
        "The deal was marked lost (Closed Lost) after it became this contract."
    )
    assert amendment.changes == []
    assert amendment.outcome is None


def test_deal_reopened_is_flagged_for_review():
    new = changed(is_won=False, is_closed=False, stage="Negotiation")
    amendment = amendments.compare(snapshot(), new)
    assert amendment.review == "The deal was reopened (Negotiation) after it became this contract."


def test_deleted_deal_is_flagged_for_review_even_with_other_changes():
    amendment = amendments.compare(snapshot(), changed(deleted=True, amount=1.0))
    assert amendment.review == "The deal was deleted in the CRM after it became this contract."
    assert outcomes(amendment) == {(None, "amount"): APPROVAL}


def test_still_won_deal_needs_no_review():
    assert amendments.compare(snapshot(), changed(stage="Closed Won - Signed")).review is None


def test_outcome_is_the_most_restrictive_change_whatever_the_order():
    direct = Change("name", "Name", "a", "b", DIRECT)
    approval = Change("amount", "Amount", 1.0, 2.0, APPROVAL)
    refused = Change("currency", "Currency", "USD", "EUR", REFUSED)
    assert Amendment([direct]).outcome == DIRECT
    assert Amendment([direct, approval]).outcome == APPROVAL
    assert Amendment([approval, direct]).outcome == APPROVAL
    assert Amendment([refused, approval, direct]).outcome == REFUSED
    assert Amendment([direct, refused, approval]).outcome == REFUSED
    assert Amendment([direct, refused, approval]).of(APPROVAL) == [approval]


def test_compare_mixing_all_outcomes_is_refused():
    new = with_line(changed(name="Renamed", amount=64000.0), "00kB", quantity=1.0)
    amendment = amendments.compare(snapshot(), new, invoiced={"00kB": 2.0})
    assert [c.field for c in amendment.of(DIRECT)] == ["name"]
    assert [c.field for c in amendment.of(APPROVAL)] == ["amount"]
    assert [c.field for c in amendment.of(REFUSED)] == ["quantity"]
    assert amendment.outcome == REFUSED


def test_summary_lists_each_change_with_its_line_and_reason_then_the_review():
    new = with_line(
        changed(name="Northwind - ERP", is_won=False, is_closed=True, stage="Closed Lost"),
        "00kB",
        quantity=1.0,
    )
    amendment = amendments.compare(snapshot(), new, invoiced={"00kB": 2.0})
    assert amendment.summary() == (
        "Name: 'Northwind - ERP implementation' → 'Northwind - ERP'\n"
        "line 00kB: Quantity: 3.0 → 1.0 (below the 2 already invoiced)\n"
        "The deal was marked lost (Closed Lost) after it became this contract."
    )


def test_change_as_dict_is_json_ready():
    change = Change("quantity", "Quantity", 3.0, 1.0, REFUSED, "00kB", "below")
    assert change.as_dict() == {
        "field": "quantity",
        "label": "Quantity",
        "old": 3.0,
        "new": 1.0,
        "outcome": REFUSED,
        "line_id": "00kB",
        "reason": "below",
    }
