"""Pure decisions of the CRM engine: field ownership, amendments, readiness and deal shapes."""

import copy

import pytest

from odoo.addons.connector_base.engine.errors import BusinessError
from odoo.addons.connector_base.engine.hashing import payload_hash
from odoo.addons.connector_crm.engine import amendments, deals, hubspot, ownership, readiness
from odoo.addons.connector_crm.engine import salesforce as sf
from odoo.addons.connector_crm.engine.amendments import APPROVAL, DIRECT, REFUSED, Amendment, Change
from odoo.addons.connector_crm.engine.ownership import (
    CREATE_ONLY,
    CRM,
    ODOO,
    SHARED,
    agreed_after,
)

# Ownership -----------------------------------------------------------------------------------


def decide(rules, crm, odoo, synced, creating=False):
    return ownership.decide(rules, crm, odoo, synced, creating=creating)


def test_crm_mode_writes_the_crm_value_to_odoo_whenever_it_differs():
    decision = decide(
        {"name": CRM}, {"name": "Globex GmbH"}, {"name": "Globex"}, {"name": "Globex"}
    )
    assert decision.to_odoo == {"name": "Globex GmbH"}
    assert decision.to_crm == {}
    assert decision.conflicts == []
    assert decision.synced == {"name": "Globex GmbH"}


def test_crm_mode_also_overrides_an_odoo_side_change():
    decision = decide(
        {"name": CRM}, {"name": "Globex"}, {"name": "Edited in Odoo"}, {"name": "Globex"}
    )
    assert decision.to_odoo == {"name": "Globex"}
    assert decision.to_crm == {}


def test_crm_mode_writes_nothing_when_the_values_are_the_same_for_users():
    decision = decide(
        {"email": CRM, "phone": CRM, "amount": CRM},
        {"email": " Nancy@Northwind.example.com ", "phone": None, "amount": 10},
        {"email": "nancy@northwind.example.com", "phone": "", "amount": 10.0},
        {},
    )
    assert decision.to_odoo == {}
    assert decision.to_crm == {}
    assert decision.synced == {
        "email": " Nancy@Northwind.example.com ",
        "phone": None,
        "amount": 10,
    }


def test_odoo_mode_ignores_crm_changes_and_pushes_the_odoo_value():
    decision = decide(
        {"phone": ODOO},
        {"phone": "+1 555 0000"},
        {"phone": "+1 555 0100"},
        {"phone": "+1 555 0100"},
    )
    assert decision.to_odoo == {}
    assert decision.to_crm == {"phone": "+1 555 0100"}
    assert decision.synced == {}, "agreed only when the push lands"
    assert agreed_after({"phone": "+1 555 0100"}, decision) == {}, "so the push sends it"


def test_odoo_mode_pushes_nothing_when_both_sides_agree():
    decision = decide({"phone": ODOO}, {"phone": "+1 555"}, {"phone": "+1 555"}, {})
    assert decision.to_odoo == decision.to_crm == {}
    assert decision.synced == {"phone": "+1 555"}


def test_create_only_is_taken_when_creating_and_never_synced_again():
    rules = {"ref": CREATE_ONLY}
    created = decide(rules, {"ref": "CUST-1001"}, {}, {}, creating=True)
    assert created.to_odoo == {"ref": "CUST-1001"}
    assert created.synced == {"ref": "CUST-1001"}

    later = decide(rules, {"ref": "CUST-9999"}, {"ref": "CUST-1001"}, {"ref": "CUST-1001"})
    assert later.to_odoo == later.to_crm == later.synced == {}
    assert later.conflicts == []


def test_creating_takes_every_crm_value_and_seeds_odoo_owned_fields():
    rules = {"name": CRM, "phone": ODOO, "ref": CREATE_ONLY, "email": SHARED}
    crm = {"name": "Globex", "phone": "+49 30", "ref": "CUST-1002", "email": "a@globex.example"}
    decision = decide(rules, crm, {"name": "ignored"}, {"name": "ignored"}, creating=True)
    assert decision.to_odoo == crm, "an Odoo-owned field starts from the CRM's value"
    assert decision.synced == decision.to_odoo
    assert decision.to_crm == {}


def test_shared_field_changed_on_both_sides_is_a_conflict():
    decision = decide(
        {"email": SHARED},
        {"email": "crm@globex.example"},
        {"email": "odoo@globex.example"},
        {"email": "old@globex.example"},
    )
    assert decision.conflicts == [("email", "odoo@globex.example", "crm@globex.example")]
    assert decision.to_odoo == decision.to_crm == {}
    assert "email" not in decision.synced  # still undecided: a person picks the value


def test_shared_field_changed_only_in_the_crm_goes_to_odoo():
    decision = decide(
        {"email": SHARED},
        {"email": "new@globex.example"},
        {"email": "old@globex.example"},
        {"email": "old@globex.example"},
    )
    assert decision.to_odoo == {"email": "new@globex.example"}
    assert decision.to_crm == {}
    assert decision.conflicts == []
    assert decision.synced == {"email": "new@globex.example"}


def test_shared_field_changed_only_in_odoo_goes_to_the_crm():
    decision = decide(
        {"email": SHARED},
        {"email": "old@globex.example"},
        {"email": "new@globex.example"},
        {"email": "OLD@globex.example"},  # same for users as the CRM value: the CRM did not change
    )
    assert decision.to_crm == {"email": "new@globex.example"}
    assert decision.to_odoo == {}
    assert decision.conflicts == []
    assert decision.synced == {}
    assert agreed_after({"email": "old@globex.example", "phone": "1"}, decision) == {"phone": "1"}


def test_shared_field_never_synced_takes_the_crm_value_without_conflict():
    decision = decide(
        {"email": SHARED}, {"email": "crm@x.example"}, {"email": "odoo@x.example"}, {}
    )
    assert decision.to_odoo == {"email": "crm@x.example"}
    assert decision.to_crm == {}
    assert decision.conflicts == []
    assert decision.synced == {"email": "crm@x.example"}


def test_shared_field_changed_to_the_same_value_on_both_sides_is_agreed():
    decision = decide(
        {"email": SHARED},
        {"email": "b@x.example"},
        {"email": "B@x.example"},
        {"email": "a@x.example"},
    )
    assert decision.conflicts == []
    assert decision.to_odoo == decision.to_crm == {}
    assert decision.synced == {"email": "b@x.example"}


def test_fields_without_rule_or_absent_from_the_crm_are_not_synced():
    decision = decide(
        {"name": CRM, "phone": SHARED},
        {"name": "Globex", "website": "globex.example"},
        {"name": "Other", "phone": "1", "website": "other.example"},
        {},
    )
    assert decision.to_odoo == {"name": "Globex"}
    assert set(decision.synced) == {"name"}


def test_unknown_ownership_mode_is_refused():
    with pytest.raises(ValueError, match="unknown ownership mode 'both'"):
        decide({"name": "both"}, {"name": "a"}, {"name": "b"}, {})


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (None, "", True),
        ("", False, True),
        ("  A@Example.com ", "a@example.com", True),
        (10, 10.0, True),
        (10, 10.5, False),
        ("Globex", "Globex GmbH", False),
        ("x", None, False),
    ],
)
def test_same_compares_values_as_users_see_them(a, b, expected):
    assert ownership.same(a, b) is expected


def test_outbound_pushes_odoo_owned_and_shared_fields_changed_since_the_last_sync():
    rules = {"name": CRM, "phone": ODOO, "website": ODOO, "email": SHARED, "city": SHARED}
    odoo_values = {
        "name": "Renamed in Odoo",  # CRM-owned: never pushed
        "phone": "+1 555 0199",  # changed since the sync
        "website": "GLOBEX.example",  # same as synced for users: not pushed
        "email": "new@globex.example",  # shared, changed in Odoo
        "city": "Berlin",  # shared, never synced: pushed
    }
    synced = {"phone": "+1 555 0100", "website": "globex.example", "email": "old@globex.example"}
    push, shared = ownership.outbound(rules, odoo_values, synced)
    assert push == {"phone": "+1 555 0199", "email": "new@globex.example", "city": "Berlin"}
    assert sorted(shared) == ["city", "email"]


def test_outbound_pushes_nothing_when_nothing_changed():
    rules = {"phone": ODOO, "email": SHARED, "name": CREATE_ONLY}
    values = {"phone": "1", "email": "a@x.example", "name": "N"}
    assert ownership.outbound(rules, values, dict(values)) == ({}, [])


# Amendments ----------------------------------------------------------------------------------


def line(line_id, code, quantity, price, *, discount=0.0, model="Fixed Fee", name=None):
    return {
        "id": line_id,
        "product_ref": f"01t{code}",
        "product_code": code,
        "name": name or code,
        "quantity": float(quantity),
        "price_unit": float(price),
        "discount": discount,
        "billing_model": model,
    }


def snapshot(**overrides):
    deal = {
        "id": "006A",
        "name": "Northwind - ERP implementation",
        "stage": "Closed Won",
        "is_won": True,
        "is_closed": True,
        "close_date": "2026-03-16",
        "amount": 63600.0,
        "currency": "USD",
        "description": None,
        "po_number": "PO-NW-2026-001",
        "legal_entity": "Acme Consulting US",
        "billing_model": "Fixed Fee",
        "project_template": "Standard Implementation",
        "tax_treatment": "Domestic",
        "cap_amount": 70000.0,
        "deleted": False,
        "account": {"id": "001A", "name": "Northwind Traders Inc."},
        "contacts": [
            {"id": "003N", "first_name": "Nancy", "last_name": "Davolio", "email": "n@nw.example"},
            {"id": "003A", "first_name": "Andrew", "last_name": "Fuller", "email": "a@nw.example"},
        ],
        "lines": [line("00kA", "IMPL", 1, 60000), line("00kB", "TRAIN", 3, 1200)],
    }
    deal.update(overrides)
    return deal


def changed(**overrides):
    return snapshot(**overrides)


def with_line(deal, line_id, **values):
    deal = copy.deepcopy(deal)
    for item in deal["lines"]:
        if item["id"] == line_id:
            item.update(values)
    return deal


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


# Readiness -----------------------------------------------------------------------------------

WHERE = "Salesforce deal 'Northwind - ERP implementation' (006A)"
IN_SF = "in Salesforce (the deal's owner or a Salesforce admin can)"
MAPPINGS = "Connectors > Configuration > Backends, tab Mappings; a Connector Manager can"
PRODUCTS = {
    "IMPL": (101, "fixed"),  # creates the project
    "CONS-H": (102, None),  # no default billing model on the product mapping
    "TRAIN": (103, "fixed"),
}


class Currencies:
    """currency_ok that records its calls."""

    def __init__(self, problems=None):
        self.problems = problems or {}
        self.calls = []

    def __call__(self, code, company_id):
        self.calls.append((code, company_id))
        return self.problems.get(code)


def mappings(**overrides):
    values = {
        "crm_name": "Salesforce",
        "field_labels": {
            "legal_entity": "Legal_Entity__c",
            "tax_treatment": "Tax_Treatment__c",
            "project_template": "Project_Template__c",
            "billing_model": "Billing_Model__c",
            "line_billing_model": "OpportunityLineItem.Billing_Model__c",
        },
        "legal_entities": {"Acme Consulting US": 1, "Acme Consulting EU": 2},
        "tax_treatments": {"Domestic": False, "EU reverse charge": 7},
        "billing_models": {
            "Fixed Fee": "fixed",
            "Time and Materials": "tm",
            "Retainer": "retainer",
            "Mixed": None,  # per line
        },
        "templates": {"Standard Implementation": 11, "Support": 12},
        "products": lambda item: PRODUCTS.get(item.get("product_code")),
        "currency_ok": Currencies(),
        "default_billing_model": None,
        "default_template": None,
        "creates_project": lambda product_id: product_id == 101,
    }
    values.update(overrides)
    return readiness.Mappings(**values)


def ready_deal(**overrides):
    deal = snapshot(tax_treatment="EU reverse charge")
    deal["lines"] = [line("00kA", "IMPL", 1, 60000, model=None), line("00kB", "TRAIN", 3, 1200)]
    deal.update(overrides)
    return deal


def test_ready_deal_gives_company_fiscal_position_template_and_lines():
    deal = ready_deal()
    maps = mappings()
    result = readiness.check(deal, maps)
    assert result.problems == []
    assert result.ready
    assert result.company_id == 1
    assert result.fiscal_position_id == 7
    assert result.template_id == 11
    assert result.lines == [(deal["lines"][0], 101, "fixed"), (deal["lines"][1], 103, "fixed")]
    assert maps.currency_ok.calls == [("USD", 1)]


def test_tax_treatment_mapped_to_no_fiscal_position_is_ready():
    result = readiness.check(ready_deal(tax_treatment="Domestic"), mappings())
    assert result.ready
    assert result.fiscal_position_id is False


@pytest.mark.parametrize("account", [None, {}, {"id": None, "name": "Northwind"}])
def test_deal_without_account(account):
    result = readiness.check(ready_deal(account=account), mappings())
    assert result.problems == [
        f"{WHERE} has no account/company: link it to one {IN_SF}, then retry."
    ]
    assert not result.ready


def test_empty_legal_entity():
    result = readiness.check(ready_deal(legal_entity=None), mappings())
    assert result.problems == [
        f"Legal_Entity__c is empty on {WHERE}: set the legal entity {IN_SF}, then retry."
    ]
    assert result.company_id is None


def test_unmapped_legal_entity_and_no_currency_check_without_company():
    maps = mappings()
    result = readiness.check(ready_deal(legal_entity="Acme Consulting Mars"), maps)
    assert result.problems == [
        f"Legal_Entity__c 'Acme Consulting Mars' on {WHERE} has no mapping: add it to the "
        f"backend's legal entity mapping ({MAPPINGS}), then retry."
    ]
    assert result.company_id is None
    assert maps.currency_ok.calls == []


def test_empty_tax_treatment():
    result = readiness.check(ready_deal(tax_treatment=""), mappings())
    assert result.problems == [
        f"Tax_Treatment__c is empty on {WHERE}: set the tax treatment {IN_SF}, or choose a "
        "default tax treatment on the backend's Deals tab (a Connector Manager can), then retry."
    ]


def test_unmapped_tax_treatment():
    result = readiness.check(ready_deal(tax_treatment="Zero rated"), mappings())
    assert result.problems == [
        f"Tax_Treatment__c 'Zero rated' on {WHERE} has no mapping: add it to the backend's tax "
        f"treatment mapping ({MAPPINGS}), then retry."
    ]
    assert result.fiscal_position_id is None


def test_unmapped_template_is_a_problem_even_with_a_default():
    result = readiness.check(ready_deal(project_template="Agile"), mappings(default_template=99))
    assert result.problems == [
        f"Project_Template__c 'Agile' on {WHERE} has no mapping: add it to the backend's project "
        f"template mapping ({MAPPINGS}), then retry."
    ]
    assert result.template_id is None


def test_empty_template_takes_the_default_template():
    result = readiness.check(ready_deal(project_template=None), mappings(default_template=99))
    assert result.ready
    assert result.template_id == 99


def test_empty_template_without_default():
    result = readiness.check(ready_deal(project_template=None), mappings())
    assert result.problems == [
        f"Project_Template__c is empty on {WHERE}: set the project template {IN_SF}, or choose "
        "a default project template on the backend's Deals tab (a Connector Manager can), then "
        "retry."
    ]


def test_unmapped_deal_billing_model():
    result = readiness.check(ready_deal(billing_model="Barter"), mappings())
    assert result.problems == [
        f"Billing_Model__c 'Barter' on {WHERE} has no mapping: add it to the backend's billing "
        f"model mapping ({MAPPINGS}), then retry."
    ]


def test_unmapped_line_billing_model_skips_the_line():
    deal = ready_deal()
    deal["lines"][1]["billing_model"] = "Pay what you want"
    result = readiness.check(deal, mappings())
    assert result.problems == [
        f"OpportunityLineItem.Billing_Model__c 'Pay what you want' on {WHERE} has no mapping: add "
        f"it to the backend's billing model mapping ({MAPPINGS}), then retry."
    ]
    assert [item["id"] for item, _product, _model in result.lines] == ["00kA"]


def test_mixed_deal_model_falls_back_to_the_line_then_the_product_model():
    deal = ready_deal(billing_model="Mixed")
    deal["lines"] = [
        line("00kA", "IMPL", 1, 30000, model=None),  # product default: fixed
        line("00kB", "CONS-H", 80, 140, model="Time and Materials"),  # line model
        line("00kC", "TRAIN", 2, 1100, model="Retainer"),  # line model beats the product's
    ]
    result = readiness.check(deal, mappings())
    assert result.problems == []
    assert [(item["id"], product, model) for item, product, model in result.lines] == [
        ("00kA", 101, "fixed"),
        ("00kB", 102, "tm"),
        ("00kC", 103, "retainer"),
    ]


def test_line_model_mapped_to_none_falls_back_like_the_deal_model():
    deal = ready_deal(billing_model="Time and Materials")
    deal["lines"] = [line("00kA", "IMPL", 1, 30000, model="Mixed")]
    result = readiness.check(deal, mappings())
    assert result.problems == []
    assert [(product, model) for _item, product, model in result.lines] == [(101, "tm")]


def test_deal_model_beats_the_product_default_and_the_backend_default_comes_last():
    deal = ready_deal(billing_model="Time and Materials")
    deal["lines"] = [line("00kA", "IMPL", 1, 30000, model=None)]
    result = readiness.check(deal, mappings(default_billing_model="retainer"))
    assert [model for _item, _product, model in result.lines] == ["tm"]

    deal = ready_deal(billing_model="Mixed")
    deal["lines"] = [
        line("00kA", "IMPL", 1, 1, model=None),
        line("00kB", "CONS-H", 1, 1, model=None),
    ]
    result = readiness.check(deal, mappings(default_billing_model="retainer"))
    assert result.problems == []
    assert [model for _item, _product, model in result.lines] == ["fixed", "retainer"]


def test_line_without_any_billing_model():
    deal = ready_deal(billing_model="Mixed")
    deal["lines"] = [
        line("00kA", "IMPL", 1, 30000, model=None),
        line("00kB", "CONS-H", 80, 140, model=None, name="Consulting hours"),
    ]
    result = readiness.check(deal, mappings())
    assert result.problems == [
        f"Line 'Consulting hours' on {WHERE} has no billing model: set Billing_Model__c on the "
        f"deal, or set OpportunityLineItem.Billing_Model__c on the line {IN_SF}, or give the "
        "product mapping of 'CONS-H' a default billing model, or the backend a default billing "
        f"model ({MAPPINGS}), then retry."
    ]
    assert [item["id"] for item, _product, _model in result.lines] == ["00kA"]


def test_unmapped_product_names_its_code():
    deal = ready_deal()
    deal["lines"].append(line("00kC", "NEW-SKU", 1, 8000, name="Data migration add-on"))
    result = readiness.check(deal, mappings())
    assert result.problems == [
        f"Product 'NEW-SKU' (Data migration add-on) on {WHERE} has no product mapping: map it to "
        "an Odoo service product (Connectors > Configuration > Backends, tab Mappings > "
        "Products, or Connectors > CRM > Product mappings; a Connector Manager can), then retry."
    ]
    assert len(result.lines) == 2


def test_unmapped_product_without_code_is_named_by_its_reference_or_name():
    deal = ready_deal()
    no_code = line("00kC", "X", 1, 1, name="Workshop")
    no_code.update(product_code=None, product_ref="01tWORKSHOP")
    nothing = line("00kD", "X", 1, 1, name="Free text line")
    nothing.update(product_code=None, product_ref=None)
    deal["lines"] += [no_code, nothing]
    problems = readiness.check(deal, mappings()).problems
    assert [problem.split(" on ")[0] for problem in problems] == [
        "Product '01tWORKSHOP' (Workshop)",
        "Product 'Free text line' (Free text line)",
    ]


def test_deal_without_lines():
    result = readiness.check(ready_deal(lines=[]), mappings())
    assert result.problems == [
        f"{WHERE} has no products: add at least one product line {IN_SF}, then retry."
    ]


def test_no_product_creating_a_project():
    deal = ready_deal()
    deal["lines"] = deal["lines"][1:]  # training only
    result = readiness.check(deal, mappings())
    assert result.problems == [
        f"No product of {WHERE} creates a project: set 'Create on Order' to a project on at least "
        "one mapped service product (Sales > Products > Products, tab Sales; a Sales "
        "administrator can), then retry."
    ]


def test_project_check_is_skipped_without_the_callback():
    deal = ready_deal()
    deal["lines"] = deal["lines"][1:]
    assert readiness.check(deal, mappings(creates_project=None)).ready


def test_currency_problem_is_reported_with_the_deal():
    maps = mappings(currency_ok=Currencies({"GBP": "currency GBP is not active in Odoo"}))
    result = readiness.check(ready_deal(currency="GBP", legal_entity="Acme Consulting EU"), maps)
    assert result.problems == [f"{WHERE}: currency GBP is not active in Odoo"]
    assert maps.currency_ok.calls == [("GBP", 2)]


def test_every_problem_is_listed_at_once():
    deal = {"id": "006Z", "name": "Empty", "lines": [line("00kA", "NEW-SKU", 1, 1)]}
    maps = mappings(
        crm_name="HubSpot",
        field_labels={},
        backend_name="HubSpot (test)",
        fixers={"mappings": "ask Ada Lovelace (Connector Manager)", "crm": "Grace can"},
    )
    result = readiness.check(deal, maps)
    where = "HubSpot deal 'Empty' (006Z)"
    backend = "a Connector Manager can"
    assert result.problems == [
        f"{where} has no account/company: link it to one in HubSpot (Grace can), then retry.",
        f"legal_entity is empty on {where}: set the legal entity in HubSpot (Grace can), then "
        "retry.",
        f"tax_treatment is empty on {where}: set the tax treatment in HubSpot (Grace can), or "
        f"choose a default tax treatment on the backend's Deals tab ({backend}), then retry.",
        f"project_template is empty on {where}: set the project template in HubSpot (Grace "
        "can), or choose a default project template on the backend's Deals tab "
        f"({backend}), then retry.",
        f"Product 'NEW-SKU' (NEW-SKU) on {where} has no product mapping: map it to an Odoo "
        "service product (Connectors > Configuration > Backends > HubSpot (test), tab Mappings "
        "> Products, or Connectors > CRM > Product mappings; ask Ada Lovelace (Connector "
        "Manager)), then retry.",
    ]


def test_unmapped_optional_fields_fall_back_to_the_backend_defaults():
    """An org without the custom fields: no legal entity, tax treatment, template or billing
    model field. Deals go to the default company, Odoo's own fiscal position rules, the default
    template and the product mapping's billing model."""
    deal = ready_deal(legal_entity=None, tax_treatment=None, project_template=None)
    deal["billing_model"] = None
    deal["lines"] = [line("00kA", "IMPL", 1, 30000, model=None)]
    maps = mappings(mapped_fields={"po_number"}, default_company_id=5, default_template=99)
    result = readiness.check(deal, maps)
    assert result.problems == []
    assert (result.company_id, result.fiscal_position_id, result.template_id) == (5, None, 99)
    assert [model for _line, _product, model in result.lines] == ["fixed"]


def test_a_default_tax_treatment_is_used_when_the_deal_has_none():
    maps = mappings(
        mapped_fields=set(), default_company_id=1, default_tax_treatment="EU reverse charge"
    )
    assert readiness.check(ready_deal(tax_treatment=None), maps).fiscal_position_id == 7
    maps = mappings(default_tax_treatment="EU reverse charge")
    assert readiness.check(ready_deal(tax_treatment=""), maps).fiscal_position_id == 7


def test_unmapped_fields_without_defaults_name_what_is_really_missing():
    deal = ready_deal(project_template=None, billing_model=None)
    deal["lines"] = [line("00kB", "CONS-H", 1, 150, model=None, name="Consulting hours")]
    maps = mappings(mapped_fields={"legal_entity", "tax_treatment"}, default_company_id=1)
    problems = readiness.check(deal, maps).problems
    assert problems == [
        f"No project template for {WHERE}: the backend maps no CRM field for it and has no "
        "default project template: choose one on the backend's Deals tab (a Connector Manager "
        "can), then retry.",
        f"Line 'Consulting hours' on {WHERE} has no billing model: give the product mapping of "
        "'CONS-H' a default billing model, or the backend a default billing model "
        f"({MAPPINGS}), then retry.",
    ]


def test_tax_treatment_resolves_to_the_fiscal_position_of_the_deal_company():
    positions = {"EU reverse charge": {1: 71, 2: 72}, "Domestic": {}}
    maps = mappings(tax_treatments=positions, company_names={3: "Acme Consulting UK"})
    us = readiness.check(ready_deal(), maps)
    eu = readiness.check(ready_deal(legal_entity="Acme Consulting EU"), maps)
    assert (us.fiscal_position_id, eu.fiscal_position_id) == (71, 72)
    assert readiness.check(ready_deal(tax_treatment="Domestic"), maps).fiscal_position_id is False
    maps.legal_entities["Acme Consulting UK"] = 3
    uk = readiness.check(ready_deal(legal_entity="Acme Consulting UK"), maps)
    assert uk.problems == [
        f"Tax treatment 'EU reverse charge' of {WHERE} has no fiscal position of Acme Consulting "
        "UK, the legal entity the deal is signed by (only of other companies): add Acme "
        "Consulting UK's fiscal position to that tax treatment's mapping "
        f"({MAPPINGS}), then retry."
    ]


def test_line_prices_come_from_the_price_function_and_unreachable_amounts_are_problems():
    deal = ready_deal()
    calls = []

    def line_price(item, company_id, currency):
        calls.append((item["id"], company_id, currency))
        return None if item["id"] == "00kB" else (60000.0, 0.0)

    result = readiness.check(deal, mappings(line_price=line_price))
    assert calls == [("00kA", 1, "USD"), ("00kB", 1, "USD")]
    assert result.prices == {"00kA": (60000.0, 0.0)}
    assert len(result.problems) == 1
    assert result.problems[0].startswith(f"Line 'TRAIN' on {WHERE}: its amount")
    assert "Decimal Accuracy" in result.problems[0]


def test_tax_warning_is_kept_without_stopping_the_deal():
    def warning(position_id, company_id, deal, product_ids):
        return f"position {position_id} of company {company_id} on {product_ids}"

    result = readiness.check(ready_deal(), mappings(tax_warning=warning))
    assert result.ready
    assert result.warnings == ["position 7 of company 1 on [101, 103]"]


# Deal shapes ---------------------------------------------------------------------------------


def test_fingerprint_ignores_modification_stamp_and_writeback():
    deal = snapshot(modified="2026-03-16T10:00:00", writeback={"Odoo_Id__c": None})
    echo = snapshot(modified="2026-03-17T08:30:00", writeback={"Odoo_Id__c": "SO042"})
    assert deals.fingerprint(deal) == deals.fingerprint(echo)
    assert len(deals.fingerprint(deal)) == 64


def test_fingerprint_is_the_suite_payload_hash_of_what_odoo_compares():
    deal = snapshot(modified="2026-03-16T10:00:00", writeback={"Odoo_Id__c": "SO042"})
    compared = {k: v for k, v in deal.items() if k not in ("modified", "writeback")}
    assert deals.fingerprint_payload(deal) == compared
    assert deals.fingerprint(deal) == payload_hash(compared)
    assert deals.record_fingerprint({"phone": "1"}) == payload_hash({"phone": "1"})


def test_fingerprint_does_not_depend_on_key_order():
    deal = snapshot()
    reordered = dict(reversed(list(deal.items())))
    assert deals.fingerprint(deal) == deals.fingerprint(reordered)


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 63600.01},
        {"stage": "Closed Lost"},
        {"cap_amount": None},
        {"lines": [line("00kA", "IMPL", 1, 60000)]},
    ],
)
def test_fingerprint_changes_with_what_matters(change):
    assert deals.fingerprint(snapshot()) != deals.fingerprint(snapshot(**change))


def test_fingerprint_changes_with_a_line_quantity():
    assert deals.fingerprint(snapshot()) != deals.fingerprint(
        with_line(snapshot(), "00kB", quantity=4.0)
    )


FIELD_NAMES = dict(deals.SF_DEAL_FIELD_DEFAULTS, legal_entity="Entity__c", cap_amount="Cap__c")


def sf_record():
    """An Opportunity as the deal query returns it (relationships, child subqueries)."""
    return {
        "attributes": {
            "type": "Opportunity",
            "url": "/services/data/v62.0/sobjects/Opportunity/006A",
        },
        "Id": "006A",
        "Name": "  Globex - Process consulting ",
        "AccountId": "001G",
        "StageName": "Closed Won",
        "IsClosed": True,
        "IsWon": True,
        "CloseDate": "2026-05-20",
        "Amount": 28500.0,
        "CurrencyIsoCode": "EUR",
        "Description": "",
        "SystemModstamp": "2026-05-20T14:03:07.000+0000",
        "Entity__c": "Acme Consulting EU",
        "Billing_Model__c": "Time and Materials",
        "Project_Template__c": "Standard Implementation",
        "Tax_Treatment__c": "EU reverse charge",
        "PO_Number__c": "4500012345",
        "Cap__c": 30000.0,
        "Odoo_Id__c": "SO042",
        "Account": {
            "attributes": {"type": "Account", "url": "/services/data/v62.0/sobjects/Account/001G"},
            "Name": "Globex GmbH",
            "Phone": "+49 30 5550 1200",
            "Website": "https://globex.example.de",
            "BillingStreet": "Friedrichstrasse 68",
            "BillingCity": "Berlin",
            "BillingPostalCode": "10117",
            "BillingState": None,
            "BillingCountry": "Germany",
            "AccountNumber": "CUST-1002",
            "Industry": "Manufacturing",
        },
        "OpportunityLineItems": {
            "totalSize": 2,
            "done": True,
            "records": [
                {
                    "attributes": {"type": "OpportunityLineItem"},
                    "Id": "00kB",
                    "Product2Id": "01tT",
                    "ProductCode": "TRAIN",
                    "Name": "Training day",
                    "Quantity": 2.0,
                    "UnitPrice": 1200.0,
                    "Discount": None,
                    "Description": None,
                    "Billing_Model__c": None,
                },
                {
                    "attributes": {"type": "OpportunityLineItem"},
                    "Id": "00kA",
                    "Product2Id": "01tC",
                    "ProductCode": "CONS-H",
                    "Name": "Consulting hours",
                    "Quantity": 200.0,
                    "UnitPrice": 150.0,
                    "Discount": 5.0,
                    "TotalPrice": 28500.0,
                    "Description": "Senior consultants",
                    "Billing_Model__c": "Time and Materials",
                },
            ],
        },
        "OpportunityContactRoles": {
            "totalSize": 2,
            "done": True,
            "records": [
                {
                    "attributes": {"type": "OpportunityContactRole"},
                    "ContactId": "003J",
                    "IsPrimary": False,
                    "Contact": {
                        "attributes": {"type": "Contact"},
                        "FirstName": "Jonas",
                        "LastName": "Weber",
                        "Email": "jonas.weber@globex.example.de",
                        "Phone": None,
                        "MobilePhone": "+49 170 555",
                        "Title": "IT Director",
                    },
                },
                {
                    "attributes": {"type": "OpportunityContactRole"},
                    "ContactId": "003G",
                    "IsPrimary": True,
                    "Contact": {
                        "attributes": {"type": "Contact"},
                        "FirstName": "Greta",
                        "LastName": "Keller",
                        "Email": "greta.keller@globex.example.de",
                        "Phone": "+49 30 5550 1200",
                        "MobilePhone": None,
                        "Title": "Head of Finance",
                    },
                },
            ],
        },
    }


def test_sf_normalize_opportunity():
    deal = deals.sf_normalize_opportunity(sf_record(), FIELD_NAMES, ["Odoo_Id__c", "Missing__c"])
    assert deal == {
        "id": "006A",
        "name": "Globex - Process consulting",
        "stage": "Closed Won",
        "is_won": True,
        "is_closed": True,
        "close_date": "2026-05-20",
        "amount": 28500.0,
        "currency": "EUR",
        "description": None,
        "deleted": False,
        "modified": "2026-05-20T14:03:07",
        "legal_entity": "Acme Consulting EU",
        "billing_model": "Time and Materials",
        "project_template": "Standard Implementation",
        "tax_treatment": "EU reverse charge",
        "po_number": "4500012345",
        "cap_amount": 30000.0,
        "account": {
            "id": "001G",
            "name": "Globex GmbH",
            "phone": "+49 30 5550 1200",
            "website": "https://globex.example.de",
            "street": "Friedrichstrasse 68",
            "city": "Berlin",
            "zip": "10117",
            "state": None,
            "country": "Germany",
            "ref": "CUST-1002",
            "industry": "Manufacturing",
        },
        "contacts": [
            {
                "id": "003G",
                "primary": True,
                "first_name": "Greta",
                "last_name": "Keller",
                "email": "greta.keller@globex.example.de",
                "phone": "+49 30 5550 1200",
                "mobile": None,
                "function": "Head of Finance",
            },
            {
                "id": "003J",
                "primary": False,
                "first_name": "Jonas",
                "last_name": "Weber",
                "email": "jonas.weber@globex.example.de",
                "phone": None,
                "mobile": "+49 170 555",
                "function": "IT Director",
            },
        ],
        "lines": [
            {
                "id": "00kA",
                "product_ref": "01tC",
                "product_code": "CONS-H",
                "name": "Consulting hours",
                "quantity": 200.0,
                "price_unit": 150.0,
                "discount": 5.0,
                "discount_amount": 0.0,
                "amount": 28500.0,
                "billing_model": "Time and Materials",
            },
            {
                "id": "00kB",
                "product_ref": "01tT",
                "product_code": "TRAIN",
                "name": "Training day",
                "quantity": 2.0,
                "price_unit": 1200.0,
                "discount": 0.0,
                "discount_amount": 0.0,
                "amount": 2400.0,  # no TotalPrice selected: Salesforce's own formula
                "billing_model": None,
            },
        ],
        "writeback": {"Odoo_Id__c": "SO042"},
    }


def test_sf_normalize_opportunity_without_account_children_or_name():
    record = {
        "Id": "006B",
        "Name": None,
        "AccountId": None,
        "Account": None,
        "IsDeleted": True,
        "OpportunityLineItems": None,
        "OpportunityContactRoles": None,
        "SystemModstamp": "2026-05-20T16:03:07.000+0200",
        "Amount": "not a number",
    }
    deal = deals.sf_normalize_opportunity(record, deals.SF_DEAL_FIELD_DEFAULTS)
    assert deal["name"] == "006B"
    assert deal["account"] is None
    assert deal["lines"] == deal["contacts"] == []
    assert deal["deleted"] is True
    assert deal["modified"] == "2026-05-20T14:03:07"  # converted to UTC
    assert deal["amount"] is None
    assert deal["writeback"] == {}


def test_sf_opportunity_fields_select_the_renamed_custom_and_writeback_fields_once():
    fields = deals.sf_opportunity_fields(FIELD_NAMES, ["Odoo_Id__c", "Entity__c"])
    assert fields.count("Entity__c") == 1
    assert fields.count("Billing_Model__c") == 1
    assert "Legal_Entity__c" not in fields
    assert {"Cap__c", "Odoo_Id__c", "Account.Name", "Account.BillingCity"} <= set(fields)
    assert fields[-2] == (
        "(SELECT Id, Product2Id, ProductCode, Name, Quantity, UnitPrice, Discount, TotalPrice, "
        "Description, Billing_Model__c FROM OpportunityLineItems)"
    )
    assert fields[-1].startswith("(SELECT ContactId, IsPrimary, Contact.FirstName")
    assert fields[-1].endswith("FROM OpportunityContactRoles)")


def hs_deal_record(**properties):
    props = {
        "dealname": "Stark - Implementation and support",
        "dealstage": "closedwon",
        "pipeline": "default",
        "amount": "40500.00",
        "closedate": "2026-04-01T00:00:00Z",
        "description": None,
        "deal_currency_code": "EUR",
        "hs_is_closed": "true",
        "hs_is_closed_won": "true",
        "hs_lastmodifieddate": "2026-04-01T09:15:30.250Z",
        "legal_entity": "Acme Consulting EU",
        "billing_model": "Mixed",
        "project_template": "Standard Implementation",
        "tax_treatment": "EU reverse charge",
        "po_number": "",
        "cap_amount": "80000.00",
        "odoo_sale_order": "SO042",
    }
    props.update(properties)
    return {
        "id": "20001",
        "properties": props,
        "createdAt": "2026-03-01T08:00:00Z",
        "updatedAt": "2026-04-01T09:15:30.250Z",
        "archived": False,
    }


HS_COMPANY = {
    "id": 10001,
    "properties": {
        "name": "Stark Retail B.V.",
        "domain": "starkretail.nl",
        "phone": "+31 20 000",
        "address": "1 Stark Street",
        "city": "Amsterdam",
        "zip": "1012",
        "state": None,
        "country": "Netherlands",
        "odoo_customer_ref": "CUST-4",
        "industry": "RETAIL",
    },
}
HS_CONTACTS = [
    {
        "id": "10002",
        "properties": {
            "firstname": "Pepper",
            "lastname": "Potts",
            "email": "pepper.potts@starkretail.nl",
            "phone": "+31 20 001",
            "mobilephone": None,
            "jobtitle": "COO",
        },
    },
    {"id": "10003", "properties": {"firstname": "Happy", "lastname": "Hogan", "email": None}},
]
HS_LINES = [
    {
        "id": "30010",
        "properties": {
            "name": "Consulting hours",
            "quantity": "100",
            "price": "140.00",
            "discount": None,
            "hs_discount_percentage": "12.5",
            "amount": "12250.00",
            "hs_product_id": "40002",
            "hs_sku": "CONS-H",
            "billing_model": "Time and Materials",
        },
    },
    {
        "id": "30009",
        "properties": {
            "name": "Implementation",
            "quantity": "1",
            "price": "25000.00",
            "discount": "500.00",
            "hs_product_id": "40001",
            "hs_sku": "IMPL",
            "billing_model": "Fixed Fee",
        },
    },
]


def test_hs_normalize_deal():
    deal = deals.hs_normalize_deal(
        hs_deal_record(),
        deals.HS_DEAL_FIELD_DEFAULTS,
        company=HS_COMPANY,
        contacts=HS_CONTACTS,
        line_items=HS_LINES,
        writeback_fields=["odoo_sale_order", "odoo_project"],
    )
    assert deal == {
        "id": "20001",
        "name": "Stark - Implementation and support",
        "stage": "closedwon",
        "is_won": True,
        "is_closed": True,
        "close_date": "2026-04-01",
        "amount": 40500.0,
        "currency": "EUR",
        "description": None,
        "deleted": False,
        "modified": "2026-04-01T09:15:30.250000",
        "legal_entity": "Acme Consulting EU",
        "billing_model": "Mixed",
        "project_template": "Standard Implementation",
        "tax_treatment": "EU reverse charge",
        "po_number": None,
        "cap_amount": 80000.0,
        "account": {
            "id": "10001",
            "name": "Stark Retail B.V.",
            "phone": "+31 20 000",
            "website": "starkretail.nl",
            "street": "1 Stark Street",
            "city": "Amsterdam",
            "zip": "1012",
            "state": None,
            "country": "Netherlands",
            "ref": "CUST-4",
            "industry": "RETAIL",
        },
        "contacts": [
            {
                "id": "10002",
                "primary": True,
                "first_name": "Pepper",
                "last_name": "Potts",
                "email": "pepper.potts@starkretail.nl",
                "phone": "+31 20 001",
                "mobile": None,
                "function": "COO",
            },
            {
                "id": "10003",
                "primary": False,
                "first_name": "Happy",
                "last_name": "Hogan",
                "email": None,
                "phone": None,
                "mobile": None,
                "function": None,
            },
        ],
        "lines": [
            {
                "id": "30009",
                "product_ref": "40001",
                "product_code": "IMPL",
                "name": "Implementation",
                "quantity": 1.0,
                "price_unit": 25000.0,
                "discount": 0.0,  # HubSpot's "discount" is an amount off per unit
                "discount_amount": 500.0,
                "amount": 24500.0,  # no amount sent: HubSpot's own formula
                "billing_model": "Fixed Fee",
            },
            {
                "id": "30010",
                "product_ref": "40002",
                "product_code": "CONS-H",
                "name": "Consulting hours",
                "quantity": 100.0,
                "price_unit": 140.0,
                "discount": 12.5,  # hs_discount_percentage
                "discount_amount": 0.0,
                "amount": 12250.0,
                "billing_model": "Time and Materials",
            },
        ],
        "writeback": {"odoo_sale_order": "SO042"},
    }


def test_hs_normalize_open_archived_deal_without_company():
    record = hs_deal_record(
        hs_is_closed="false",
        hs_is_closed_won="false",
        hs_lastmodifieddate=None,
        amount="",
        dealname=" ",
    )
    record["archived"] = True
    deal = deals.hs_normalize_deal(record, deals.HS_DEAL_FIELD_DEFAULTS)
    assert (deal["is_won"], deal["is_closed"], deal["deleted"]) == (False, False, True)
    assert deal["name"] == "20001"
    assert deal["amount"] is None
    assert deal["modified"] == "2026-04-01T09:15:30.250000"  # from updatedAt
    assert deal["account"] is None
    assert deal["contacts"] == deal["lines"] == []


def test_unmapped_deal_fields_are_neither_read_nor_selected():
    names = dict(
        deals.SF_DEAL_FIELD_DEFAULTS,
        tax_treatment=None,
        po_number="",
        cap_amount=None,
        line_billing_model=None,
    )
    fields = deals.sf_opportunity_fields(names)
    assert not {"Tax_Treatment__c", "PO_Number__c", "Cap_Amount__c", None, ""} & set(fields)
    assert "Billing_Model__c FROM" not in fields[-2]
    record = dict(sf_record(), Tax_Treatment__c="Domestic", PO_Number__c="PO-1")
    deal = deals.sf_normalize_opportunity(record, names)
    assert (deal["tax_treatment"], deal["po_number"], deal["cap_amount"]) == (None, None, None)
    assert {line["billing_model"] for line in deal["lines"]} == {None}
    hs_names = dict(deals.HS_DEAL_FIELD_DEFAULTS, tax_treatment=None, line_billing_model="")
    assert "tax_treatment" not in deals.hs_deal_properties(hs_names)
    assert deals.hs_line_properties(hs_names) == list(deals.HS_LINE_PROPERTIES)
    deal = deals.hs_normalize_deal(hs_deal_record(), hs_names, line_items=HS_LINES)
    assert deal["tax_treatment"] is None
    assert {line["billing_model"] for line in deal["lines"]} == {None}


def test_a_salesforce_deal_with_part_of_its_lines_is_refused():
    record = sf_record()
    record["OpportunityLineItems"].update(
        totalSize=250, done=False, nextRecordsUrl="/services/data/v62.0/query/01gX-2"
    )
    with pytest.raises(BusinessError, match="only 2 of the 250 OpportunityLineItems of 006A"):
        deals.sf_normalize_opportunity(record, FIELD_NAMES)


def test_hs_property_lists():
    names = dict(deals.HS_DEAL_FIELD_DEFAULTS, legal_entity="entity")
    properties = deals.hs_deal_properties(names, ["odoo_sale_order", "dealname"])
    assert properties[: len(deals.HS_DEAL_PROPERTIES)] == list(deals.HS_DEAL_PROPERTIES)
    assert properties.count("dealname") == 1
    assert {"entity", "billing_model", "cap_amount", "odoo_sale_order"} <= set(properties)
    assert "legal_entity" not in properties
    assert deals.hs_line_properties(dict(names, line_billing_model="line_model"))[-1] == (
        "line_model"
    )
    line_properties = deals.hs_line_properties(names)
    assert {"price", "quantity", "amount", "discount", "hs_discount_percentage"} <= set(
        line_properties
    )


# Small helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login_url", "audience"),
    [
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://test.salesforce.com/", "https://test.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("http://127.0.0.1:8069/", "http://127.0.0.1:8069"),
    ],
)
def test_jwt_audience(login_url, audience):
    assert sf.jwt_audience(login_url) == audience


def test_salesforce_literals_and_timestamps():
    from datetime import UTC, datetime, timedelta, timezone

    paris = timezone(timedelta(hours=2))
    assert sf.soql_datetime(datetime(2026, 5, 20, 16, 3, 7, tzinfo=paris)) == "2026-05-20T14:03:07Z"
    assert sf.soql_datetime(datetime(2026, 5, 20, 14, 3, 7)) == "2026-05-20T14:03:07Z"
    assert sf.soql_string("O'Brien \\ Co") == "'O\\'Brien \\\\ Co'"
    assert sf.parse_datetime("2026-05-20T14:03:07.000+0000") == datetime(2026, 5, 20, 14, 3, 7)
    assert sf.parse_datetime("2026-05-20T14:03:07Z") == datetime(2026, 5, 20, 14, 3, 7)
    assert sf.parse_datetime(None) is None
    with pytest.raises(ValueError, match="not a Salesforce timestamp"):
        sf.parse_datetime("yesterday")
    assert hubspot.parse_datetime("1779285787000") == datetime(2026, 5, 20, 14, 3, 7)
    assert hubspot.parse_datetime("2026-05-20T14:03:07.5Z") == datetime(
        2026, 5, 20, 14, 3, 7, 500000
    )
    assert hubspot.to_ms(datetime(2026, 5, 20, 14, 3, 7, tzinfo=UTC)) == 1779285787000
    assert hubspot.to_ms(datetime(2026, 5, 20, 14, 3, 7)) == 1779285787000
