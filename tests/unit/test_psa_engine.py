"""connector_psa's pure decisions (no Odoo, no database): payloads, validation, corrections and
deletions, provisioning plans, people and cost rates, rate discrepancy."""

import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from odoo.addons.connector_psa.engine import corrections, people, provisioning, rates, validation
from odoo.addons.connector_psa.engine.payloads import (
    from_payload,
    pack,
    to_payload,
    unpack,
    version_key,
)
from odoo.addons.connector_psa.engine.records import PsaCostRate, PsaTimeEntry, PsaUser

ROOT = Path(__file__).resolve().parents[2]


def entry(**values):
    base = {
        "source": "harvest",
        "remote_id": "101",
        "user_id": "7",
        "project_id": "50",
        "task_id": "9",
        "spent_on": date(2026, 10, 5),
        "hours": Decimal("1.1"),
        "rounded_hours": Decimal("1.25"),
        "minutes": 66,
        "billable": True,
        "notes": "Workshop",
        "approved": True,
        "approval_status": "approved",
        "locked": True,
        "locked_reason": "Item Approved and Locked for this Time Period",
        "invoiced": False,
        "invoice_ref": None,
        "billable_rate": Decimal("140"),
        "cost_rate": Decimal("60"),
        "currency": "USD",
        "external_reference": None,
        "task_name": "Consulting",
        "updated_at": datetime(2026, 10, 6, 9, 0, 0),
    }
    base.update(values)
    return PsaTimeEntry(**base)


def held(**values):
    base = {
        "quantity": Decimal("1.25"),
        "spent_on": date(2026, 10, 5),
        "user_id": "7",
        "project_id": "50",
        "task_id": "9",
        "billable": True,
        "notes": "Workshop",
        "approved": True,
        "fingerprint": entry().fingerprint,
        "updated_at": datetime(2026, 10, 6, 9, 0, 0),
    }
    base.update(values)
    return corrections.Held(**base)


# Payloads -----------------------------------------------------------------------------------


def test_payload_round_trip_keeps_the_fingerprint():
    original = entry()
    copy = from_payload("time", to_payload(original))
    assert copy == original
    assert copy.fingerprint == original.fingerprint
    assert isinstance(copy.hours, Decimal) and copy.spent_on == date(2026, 10, 5)


def test_version_key_changes_with_content_even_within_one_second():
    same_second = replace(entry(), hours=Decimal("2"), rounded_hours=Decimal("2"))
    assert version_key(entry()) != version_key(same_second)
    marked = replace(entry(), external_reference="odoo-line-1", updated_at=datetime(2026, 10, 7))
    assert marked.fingerprint == entry().fingerprint, "our mark is not business content"


def test_pack_a_page_as_a_table():
    page = [entry(), replace(entry(), remote_id="102", notes="Other")]
    table = pack(page)
    assert table["fields"][:2] == ["source", "remote_id"] and len(table["rows"]) == 2
    assert unpack("time", table) == page


def test_user_payload_round_trip():
    user = PsaUser("kantata", "3", "a@example.com", "Ann", roles=("administrator",))
    assert from_payload("user", to_payload(user)) == user


# Validation -----------------------------------------------------------------------------------


def subject(**values):
    base = {
        "kind": "time entry",
        "remote_id": "101",
        "user": "Ann Lead",
        "spent_on": date(2026, 10, 5),
        "project": "Initech platform",
        "task": "Consulting",
        "quantity": Decimal("2"),
        "billable": True,
    }
    base.update(values)
    return validation.Subject(**base)


def facts(**values):
    base = {
        "tool": "Harvest",
        "employee": "Ann Lead",
        "project": "Initech platform",
        "line": "Consulting hours",
        "line_billable": True,
        "task_mapped": True,
    }
    base.update(values)
    return validation.EntryFacts(**base)


def rules(problems):
    return [p.rule for p in problems]


def test_a_good_entry_has_no_problem():
    assert validation.validate_time_entry(subject(), facts()) == []


@pytest.mark.parametrize(
    ("subject_values", "fact_values", "rule"),
    [
        ({}, {"employee": None}, validation.UNKNOWN_USER),
        ({}, {"project": None}, validation.UNKNOWN_PROJECT),
        ({}, {"task_mapped": False}, validation.UNKNOWN_TASK),
        ({"quantity": Decimal("0")}, {}, validation.HOURS_NOT_POSITIVE),
        (
            {"quantity": Decimal("5")},
            {"hours_booked_that_day": Decimal("20")},
            validation.DAY_OVER_24H,
        ),
        ({}, {"period_start": date(2026, 10, 6)}, validation.BEFORE_CONTRACT),
        ({}, {"period_end": date(2026, 10, 4)}, validation.AFTER_CONTRACT),
        ({}, {"project_archived": True}, validation.PROJECT_CLOSED),
        ({}, {"project_closed_on": date(2026, 10, 1)}, validation.PROJECT_CLOSED),
        ({}, {"line_billable": False}, validation.BILLABLE_ON_NON_BILLABLE),
    ],
)
def test_each_rule(subject_values, fact_values, rule):
    problems = validation.validate_time_entry(subject(**subject_values), facts(**fact_values))
    assert rule in rules(problems)
    text = validation.report(subject(**subject_values), "Harvest", problems)
    assert "Harvest time entry 101 (Ann Lead, 2026-10-05" in text, "the entry is named"
    assert f"[{rule}]" in text and "To fix:" in text


def test_exactly_24_hours_is_allowed():
    problems = validation.validate_time_entry(
        subject(quantity=Decimal("4")), facts(hours_booked_that_day=Decimal("20"))
    )
    assert problems == []


def test_non_billable_time_on_a_billable_line_per_setting():
    entry_subject = subject(billable=False)
    assert validation.validate_time_entry(entry_subject, facts()) == []
    rejected = validation.validate_time_entry(
        entry_subject, facts(), mismatch=validation.MISMATCH_REJECT
    )
    assert rules(rejected) == [validation.NON_BILLABLE_ON_BILLABLE]


def test_unmapped_expense_category():
    expense_subject = subject(
        kind="expense", quantity=None, amount="20 EUR", extra={"category": "Gifts"}
    )
    problems = validation.validate_expense(expense_subject, facts(), Decimal("20"))
    assert rules(problems) == [validation.UNKNOWN_CATEGORY]
    assert "Gifts" in problems[0].message


# Corrections ------------------------------------------------------------------------------------


def test_same_content_is_nothing_even_if_stamped_later():
    marked = replace(entry(), updated_at=datetime(2026, 10, 9), external_reference="x")
    decision = corrections.decide(held(), marked, Decimal("1.25"), billed=True)
    assert decision.action == corrections.NOTHING


def test_older_version_arriving_late_is_nothing():
    older = replace(entry(), hours=Decimal("3"), updated_at=datetime(2026, 10, 1))
    assert (
        corrections.decide(held(), older, Decimal("3"), billed=False).action == corrections.NOTHING
    )


def test_changed_unbilled_follows_billed_is_a_correction():
    changed = replace(entry(), hours=Decimal("2"), rounded_hours=Decimal("2"), notes="More")
    follow = corrections.decide(held(), changed, Decimal("2"), billed=False)
    assert follow.action == corrections.FOLLOW
    assert follow.changes["hours"] == (Decimal("1.25"), Decimal("2"))
    assert follow.changes["notes"] == ("Workshop", "More")
    corrected = corrections.decide(held(), changed, Decimal("2"), billed=True)
    assert (corrected.action, corrected.kind) == (corrections.CORRECTION, corrections.KIND_CHANGED)


def test_rates_only_is_info():
    rate_change = replace(entry(), billable_rate=Decimal("150"))
    assert corrections.decide(held(), rate_change, Decimal("1.25"), billed=True).action == "info"


def test_unapproval():
    lost = replace(entry(), approved=False, approval_status="submitted")
    assert corrections.decide(held(), lost, Decimal("1.25"), billed=False).action == "unapprove"
    billed = corrections.decide(held(), lost, Decimal("1.25"), billed=True)
    assert (billed.action, billed.kind) == (corrections.CORRECTION, corrections.KIND_UNAPPROVED)
    back = corrections.decide(
        held(approved=False, fingerprint="old"), entry(), Decimal("1.25"), billed=False
    )
    assert back.action == corrections.REAPPROVE


def test_deletion_decision():
    assert corrections.decide_deletion(billed=False).action == corrections.DELETE
    assert corrections.decide_deletion(billed=True).kind == corrections.KIND_DELETED


@pytest.mark.parametrize(
    ("args", "plan"),
    [
        ((Decimal(2), Decimal("3.5"), True, True, True, False), [("new", Decimal("1.5"))]),
        ((Decimal(2), Decimal(2), True, True, True, False), []),
        (
            (Decimal(2), Decimal(3), False, True, True, False),
            [("old", Decimal(-2)), ("new", Decimal(3))],
        ),
        ((Decimal(2), Decimal(3), True, True, True, True), [("old", Decimal(-2))]),
        ((Decimal(2), Decimal(3), True, True, False, False), [("new", Decimal(-2))]),
    ],
)
def test_adjustment_plan(args, plan):
    old, new, same, old_billable, new_billable, removed = args
    assert (
        corrections.adjustment_plan(
            old,
            new,
            same_line=same,
            old_billable=old_billable,
            new_billable=new_billable,
            removed=removed,
        )
        == plan
    )


def test_window_slices_and_candidates():
    slices = corrections.window_slices(date(2026, 10, 1), date(2026, 10, 16), 7)
    assert slices == [
        (date(2026, 10, 1), date(2026, 10, 7)),
        (date(2026, 10, 8), date(2026, 10, 14)),
        (date(2026, 10, 15), date(2026, 10, 16)),
    ]
    assert corrections.missing_ids(["3", "10", "2"], [2, "3"]) == ["10"]


def test_first_open_day():
    assert corrections.first_open_day(date(2026, 9, 20), date(2026, 9, 30)) == date(2026, 10, 1)
    assert corrections.first_open_day(date(2026, 10, 2), date(2026, 9, 30)) == date(2026, 10, 2)
    assert corrections.first_open_day(date(2026, 10, 2), None) == date(2026, 10, 2)


# Provisioning -----------------------------------------------------------------------------------


def contract(*lines):
    return provisioning.Contract(
        reference="S00042",
        name="Initech platform",
        client="Initech",
        currency="USD",
        ordered_on=date(2026, 9, 1),
        lines=lines,
        people=("7",),
    )


def line(ref, model, qty, price, hours=True, **values):
    return provisioning.ContractLine(
        ref=ref,
        name=f"Line {ref}",
        billing_model=model,
        quantity=Decimal(qty),
        in_hours=hours,
        price_unit=Decimal(price),
        amount=Decimal(qty) * Decimal(price),
        **values,
    )


def test_time_and_materials_plan():
    plan = provisioning.plan(
        contract(
            line("1", "tm", 80, 160, starts_on=date(2026, 9, 15), ends_on=date(2026, 12, 31)),
            line("2", "non_billable", 10, 0),
        )
    )
    assert (plan.code, plan.billable, plan.fixed_fee) == ("S00042", True, False)
    assert plan.budget_hours == Decimal(80) and plan.budget_amount == Decimal(12800)
    assert (plan.starts_on, plan.ends_on) == (date(2026, 9, 1), date(2026, 12, 31))
    assert [(t.name, t.billable, t.hourly_rate) for t in plan.tasks] == [
        ("Line 1", True, Decimal(160)),
        ("Line 2", False, None),
    ]
    harvest = provisioning.harvest_project_values(plan)
    assert (harvest["bill_by"], harvest["budget_by"], harvest["budget"]) == ("Tasks", "project", 80)
    assert provisioning.kantata_project_values(plan)["budget"] == Decimal(12800)


def test_fixed_fee_plan():
    plan = provisioning.plan(contract(line("1", "fixed_fee", 1, 48000, hours=False)))
    harvest = provisioning.harvest_project_values(plan)
    assert plan.fixed_fee and harvest["fee"] == Decimal(48000)
    assert (harvest["bill_by"], harvest["budget_by"]) == ("Project", "project_cost")


# People -----------------------------------------------------------------------------------------


def test_company_of_a_new_employee():
    user = PsaUser("harvest", "1", "Dee@UK.example.com", "Dee", roles=("Design",))
    rules_ = [("role", "design", "design-co"), ("email_domain", "uk.example.com", "uk-co")]
    assert people.company_for(user, rules_, "default") == "design-co"
    assert people.company_for(user, rules_[1:], "default") == "uk-co"
    assert people.company_for(user, [], "default") == "default"


def test_cost_periods_and_changes():
    history = [
        PsaCostRate("harvest", "1", Decimal("60"), None, None, None),
        PsaCostRate("harvest", "1", Decimal("70"), None, date(2026, 7, 1), None),
        PsaCostRate("kantata", "1", Decimal("99"), "EUR", date(2026, 8, 1), None),
    ]
    periods = people.cost_periods(history, "USD")
    assert periods == [(people.SINCE_ALWAYS, Decimal("60")), (date(2026, 7, 1), Decimal("70"))]
    existing = {people.SINCE_ALWAYS: 60.0, date(2026, 3, 1): 65.0}
    create, update, delete = people.rate_changes(existing, periods, complete=True)
    assert create == [(date(2026, 7, 1), Decimal("70"))]
    assert update == [] and delete == [date(2026, 3, 1)]
    assert people.rate_changes(existing, periods)[2] == [], "current rates only: nothing deleted"


# Rates ------------------------------------------------------------------------------------------


def test_rate_discrepancy():
    status, rate, amount = rates.discrepancy(
        Decimal("150"), "USD", Decimal("140"), "USD", Decimal("1.25")
    )
    assert (status, rate, amount) == (rates.DIFFERS, Decimal("10.00"), Decimal("12.50"))
    assert rates.discrepancy(Decimal("150"), "USD", Decimal("150.004"), "USD", 2)[0] == rates.MATCH
    assert rates.discrepancy(Decimal("150"), "USD", Decimal("140"), "EUR", 2)[0] == "other_currency"
    assert rates.discrepancy(Decimal("150"), "USD", None, "USD", 2)[0] == rates.NO_PSA_RATE


# Purity -----------------------------------------------------------------------------------------


def test_the_engine_imports_no_odoo():
    """Only connector_base's pure engine is used (through Odoo's addons namespace)."""
    addons = ROOT / "addons"
    code = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys, types
        for name in ("odoo", "odoo.addons"):
            stub = types.ModuleType(name); stub.__path__ = []; sys.modules[name] = stub
        for addon in ("connector_base", "connector_psa"):
            package = types.ModuleType("odoo.addons." + addon)
            package.__path__ = [{str(addons)!r} + "/" + addon]
            sys.modules["odoo.addons." + addon] = package
        import odoo.addons.connector_psa.engine as engine
        names = [m.name for m in pkgutil.iter_modules(engine.__path__)]
        for name in names:
            importlib.import_module("odoo.addons.connector_psa.engine." + name)
        real = [n for n in sys.modules if n.startswith("odoo.") and not n.startswith("odoo.addons")]
        print(len(names), ",".join(sorted(real)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    count, leaked = result.stdout.strip().partition(" ")[::2]
    assert int(count) >= 12, result.stdout
    assert leaked == "", f"the engine imported Odoo: {leaked}"
