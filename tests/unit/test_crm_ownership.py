"""Field ownership between the CRM and Odoo (engine/ownership.py)."""

import pytest

from odoo.addons.connector_crm.engine import ownership
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
